package stack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// readyTimeout bounds the wait for a process started by Start.
const readyTimeout = 60 * time.Second

// readyPollInterval is the interval between WaitReady's polls of each process.
const readyPollInterval = 50 * time.Millisecond

// readyClient polls the admin ports. Its timeout keeps one hung process
// from stalling a poll round.
var readyClient = &http.Client{Timeout: time.Second}

// WaitReady polls every service's ready URL until all of them return 200
// in the same round, and returns how long that took. It fails when
// timeout passes first or a service exits.
func (s *Stack) WaitReady(ctx context.Context, services []*Service, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		notReady := ""
		for _, svc := range services {
			if !svc.Running() {
				return time.Since(start), fmt.Errorf("%s exited: %s", svc.Name(), svc.ExitState())
			}
			if status := readyStatus(ctx, svc.ReadyURL); status != "" {
				notReady = svc.Name() + ": " + status
				break
			}
		}
		if notReady == "" {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return time.Since(start), fmt.Errorf("not ready within %s; last response from %s", timeout, notReady)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(readyPollInterval):
		}
	}
}

// WaitAllReady is WaitReady over every process of the stack.
func (s *Stack) WaitAllReady(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	return s.WaitReady(ctx, s.services, timeout)
}

// readyStatus returns "" when url returns 200, or else the status and body.
func readyStatus(ctx context.Context, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := readyClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	return fmt.Sprintf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}
