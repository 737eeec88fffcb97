package stack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// killTimeout bounds the wait for a process to exit after SIGKILL.
const killTimeout = 10 * time.Second

// Kill sends SIGKILL to the named process by its pid and waits for it to
// exit.
func (s *Stack) Kill(name string) error {
	return s.Service(name).Kill(killTimeout)
}

// Restart starts the named process again with its first environment. It
// does not wait for readiness.
func (s *Stack) Restart(name string) error {
	return s.Service(name).Process.Restart()
}

// Pause sends SIGSTOP to the named process.
func (s *Stack) Pause(name string) error {
	return s.Service(name).Signal(syscall.SIGSTOP)
}

// Resume sends SIGCONT to the named process.
func (s *Stack) Resume(name string) error {
	return s.Service(name).Signal(syscall.SIGCONT)
}

// HoldNextCharge makes the fake Stripe hold its response to the next
// PaymentIntent request after creating the PaymentIntent.
func (s *Stack) HoldNextCharge(ctx context.Context) error {
	return s.stripeControl(ctx, http.MethodPost, "/_fake/hold?path="+url.QueryEscape("/v1/payment_intents"))
}

// ReleaseCharges lets every response held by the fake Stripe go.
func (s *Stack) ReleaseCharges(ctx context.Context) error {
	return s.stripeControl(ctx, http.MethodPost, "/_fake/release")
}

func (s *Stack) stripeControl(ctx context.Context, method, path string) error {
	req, err := http.NewRequestWithContext(ctx, method, s.StripeURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := readyClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s on the fake Stripe: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s %s on the fake Stripe: HTTP %d", method, path, resp.StatusCode)
	}
	return nil
}
