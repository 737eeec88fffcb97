// Package stripetest runs Stripe stand-ins for tests: stripe-mock for request
// conformance, and Fake, a stateful in-process server for business flows and
// faults. It also signs webhook payloads. Only test code may import it.
package stripetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// mockStartTimeout bounds how long StartMock waits for stripe-mock to respond.
	mockStartTimeout = 10 * time.Second

	// mockStopTimeout bounds how long cleanup waits after SIGTERM before SIGKILL.
	mockStopTimeout = 5 * time.Second

	// listeningPrefix starts the line that stripe-mock v0.183.0 prints to
	// stdout once its HTTP listener is bound.
	listeningPrefix = "Listening for HTTP at address: "
)

// StartMock starts the stripe-mock binary with both its HTTP and HTTPS
// listeners on 127.0.0.1 ports that the kernel picks, and returns the HTTP base
// URL, for example "http://127.0.0.1:41133". The binary is $STRIPE_MOCK_BIN
// or, when that is unset, .bin/stripe-mock in the directory containing
// go.work above the working directory. StartMock calls t.Fatalf when the
// binary is missing or does not respond within 10s. t.Cleanup stops the
// process with SIGTERM, then SIGKILL after 5s.
func StartMock(t testing.TB) string {
	t.Helper()

	bin := mockBinary(t)
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0") // #nosec G204 -- bin is the stripe-mock that the test runner chose

	addrs := make(chan string, 1)
	cmd.Stdout = &addressWatcher{addrs: addrs}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr

	if err := cmd.Start(); err != nil {
		t.Fatalf("stripetest: start %s: %v", bin, err)
	}

	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { stopProcess(t, cmd.Process, exited) })

	baseURL := waitForMock(t, addrs, exited, stderr)

	return baseURL
}

// mockBinary returns the stripe-mock path, or fails t when it does not exist.
func mockBinary(t testing.TB) string {
	t.Helper()

	bin := os.Getenv("STRIPE_MOCK_BIN")
	if bin == "" {
		root, err := workspaceRoot()
		if err != nil {
			t.Fatalf("stripetest: STRIPE_MOCK_BIN is unset and %v: run `make tools` from the repository root", err)
		}
		bin = filepath.Join(root, ".bin", "stripe-mock")
	}

	if _, err := os.Stat(bin); err != nil { // #nosec G703 -- bin is the stripe-mock that the test runner chose
		t.Fatalf("stripetest: stripe-mock not found at %s (%v): run `make tools` from the repository root", bin, err)
	}

	return bin
}

// workspaceRoot walks up from the working directory to the directory that
// contains go.work.
func workspaceRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}

	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}

		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work found above the working directory")
		}
		dir = parent
	}
}

// addressWatcher is stripe-mock's stdout. It sends the HTTP listen address
// to addrs once and discards everything else.
type addressWatcher struct {
	addrs chan<- string
	line  []byte
	sent  bool
}

func (w *addressWatcher) Write(p []byte) (int, error) {
	if w.sent {
		return len(p), nil
	}

	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			return len(p), nil
		}

		line := string(w.line[:i])
		w.line = w.line[i+1:]

		if addr, ok := strings.CutPrefix(line, listeningPrefix); ok {
			w.addrs <- strings.TrimSpace(addr)
			w.sent = true
			w.line = nil
			return len(p), nil
		}
	}
}

// waitForMock waits for the listen address and then for a first HTTP
// response, both within mockStartTimeout.
func waitForMock(t testing.TB, addrs <-chan string, exited <-chan struct{}, stderr *lockedBuffer) string {
	t.Helper()

	deadline := time.NewTimer(mockStartTimeout)
	defer deadline.Stop()

	var baseURL string
	select {
	case addr := <-addrs:
		baseURL = "http://" + addr
	case <-exited:
		t.Fatalf("stripetest: stripe-mock exited before listening: %s", stderr.String())
	case <-deadline.C:
		t.Fatalf("stripetest: stripe-mock printed no HTTP address within %v: %s", mockStartTimeout, stderr.String())
	}

	client := &http.Client{Timeout: time.Second}
	for {
		if err := probeMock(client, baseURL); err == nil {
			return baseURL
		}

		select {
		case <-exited:
			t.Fatalf("stripetest: stripe-mock exited during startup: %s", stderr.String())
		case <-deadline.C:
			t.Fatalf("stripetest: stripe-mock at %s did not respond within %v", baseURL, mockStartTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// probeMock returns nil once stripe-mock responds to an authenticated GET.
func probeMock(client *http.Client, baseURL string) error {
	req, err := http.NewRequest(http.MethodGet, baseURL+"/v1/balance", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer sk_test_stripetest")

	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()

	return nil
}

// stopProcess sends SIGTERM to p and, if it has not exited after
// mockStopTimeout, kills it.
func stopProcess(t testing.TB, p *os.Process, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	default:
	}

	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Logf("stripetest: SIGTERM stripe-mock pid %d: %v", p.Pid, err)
	}

	select {
	case <-exited:
		return
	case <-time.After(mockStopTimeout):
	}

	if err := p.Kill(); err != nil {
		t.Logf("stripetest: kill stripe-mock pid %d: %v", p.Pid, err)
	}
	<-exited
}

// lockedBuffer collects a child's stderr while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}
