package redistest

import (
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/tlstest"
)

// serverStartTimeout bounds how long StartServer waits for redis-server to
// accept connections.
const serverStartTimeout = 10 * time.Second

// ServerOptions configures StartServer.
type ServerOptions struct {
	// CA, when set, makes the server accept only TLS connections whose
	// client certificate CA issued. The server's certificate, for
	// 127.0.0.1 and localhost, comes from CA too.
	CA *tlstest.CA
	// Password, when set, is the password that AUTH requires
	// (requirepass).
	Password string
}

// StartServer runs a private redis-server, found in PATH, on a free
// 127.0.0.1 port without persistence, for tests that need TLS or a
// password, which the shared server does not have. It returns the address
// once the port accepts connections. t.Cleanup kills the server by pid and
// logs its output when t failed.
//
// NOTE: another process may take the port between the check that it is
// free and the server's listen. StartServer then fails the test.
func StartServer(t testing.TB, opts ServerOptions) string {
	t.Helper()

	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server is not in PATH (%v); install the Redis server, built with TLS", err)
	}
	addr := freeLoopbackAddr(t)
	_, port, _ := net.SplitHostPort(addr)

	args := []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	if opts.CA != nil {
		server := opts.CA.Issue(t, "redis")
		args = append(args, "--port", "0", "--tls-port", port,
			"--tls-cert-file", server.CertFile, "--tls-key-file", server.KeyFile,
			"--tls-ca-cert-file", opts.CA.CertFile, "--tls-auth-clients", "yes")
	} else {
		args = append(args, "--port", port)
	}
	if opts.Password != "" {
		args = append(args, "--requirepass", opts.Password)
	}

	cmd := exec.Command(path, args...) // #nosec G204 -- redis-server from PATH, with arguments this helper builds
	output := &lockedBuilder{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("redis-server (pid %d) output:\n%s", cmd.Process.Pid, output.String())
		}
	})

	waitForListener(t, addr)
	return addr
}

func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: pick a free port: %v", err)
	}
	addr := listener.Addr().String()
	if err := listener.Close(); err != nil {
		t.Fatalf("redistest: close listener on %s: %v", addr, err)
	}
	return addr
}

// waitForListener polls addr every 20 ms until a TCP connection succeeds.
func waitForListener(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(serverStartTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: redis-server did not listen on %s within %s: %v", addr, serverStartTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuilder is a strings.Builder that is safe for concurrent use.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
