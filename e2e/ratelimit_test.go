package e2e

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const strictPolicy = `domain: gateway
tiers:
  - {name: api, route_class: api, key_by: [client, ip], limit: 1000, window: 1m, on_redis_failure: open}
  - {name: payments-per-minute, route_class: payments, key_by: [client], limit: 3, window: 1m, on_redis_failure: closed}
  - {name: auth-failures-per-ip, route_class: auth_failure, key_by: [ip], limit: 5, window: 15m, on_redis_failure: closed}
`

// TestGatewayThrottles covers the 429 response and its headers, failed
// authentication limits, a policy reload on SIGHUP, and what the gateway
// does when the rate limit service is gone.
func TestGatewayThrottles(t *testing.T) {
	t.Parallel()
	s := startStack(t, withPolicy(strictPolicy))
	w, token := s.fundedWallet(t, "user-1", 1000)

	for i := range 3 {
		resp := s.debit(t, token, w.ID, "d"+strconv.Itoa(i), "1")
		decodeOK[transactionJSON](t, resp, "debit within the payments limit")
		policy := resp.header.Get("RateLimit-Policy")
		if !strings.Contains(policy, `"payments-per-minute";q=3;w=60`) || !strings.Contains(policy, `"api";q=1000;w=60`) {
			t.Errorf("debit %d: RateLimit-Policy %q, want both tiers", i, policy)
		}
		if want := `"payments-per-minute";r=` + strconv.Itoa(2-i) + ";t="; !strings.Contains(resp.header.Get("RateLimit"), want) {
			t.Errorf("debit %d: RateLimit %q, want %s...", i, resp.header.Get("RateLimit"), want)
		}
	}

	denied := s.debit(t, token, w.ID, "d3", "1")
	expectProblem(t, denied, http.StatusTooManyRequests, "rate_limited")
	if after, err := strconv.Atoi(denied.header.Get("Retry-After")); err != nil || after < 1 || after > 60 {
		t.Errorf("Retry-After %q, want 1 to 60 whole seconds", denied.header.Get("Retry-After"))
	}
	if !strings.Contains(denied.header.Get("RateLimit"), `"payments-per-minute";r=0;`) {
		t.Errorf("RateLimit %q, want r=0 for the payments tier", denied.header.Get("RateLimit"))
	}
	if got := s.wallet(t, token, w.ID); got.Balance != "997" {
		t.Errorf("balance %s after a throttled debit, want 997 (reads are not payments)", got.Balance)
	}

	t.Run("failed authentication", func(t *testing.T) {
		for i := range 5 {
			resp := s.send(t, call{method: http.MethodGet, path: "/v1/wallets", token: "not-a-token"})
			expectProblem(t, resp, http.StatusUnauthorized, "unauthenticated")
			if t.Failed() {
				t.Fatalf("attempt %d", i+1)
			}
		}
		resp := s.send(t, call{method: http.MethodGet, path: "/v1/wallets", token: "not-a-token"})
		expectProblem(t, resp, http.StatusTooManyRequests, "rate_limited")
	})

	t.Run("policy reload", func(t *testing.T) {
		raised := strings.Replace(strictPolicy, "limit: 3,", "limit: 5,", 1)
		if err := os.WriteFile(s.policyFile, []byte(raised), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.ratelimit.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		admitted := false
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !admitted; time.Sleep(100 * time.Millisecond) {
			admitted = s.debit(t, token, w.ID, "after-reload", "1").status == http.StatusOK
		}
		if !admitted {
			t.Fatal("debit still throttled 5 s after raising the limit to 5 and sending SIGHUP")
		}
	})

	t.Run("service down", func(t *testing.T) {
		s.ratelimit.stop(t)
		read := s.send(t, call{method: http.MethodGet, path: "/v1/wallets/" + w.ID, token: token})
		decodeOK[walletJSON](t, read, "read with the rate limiter down")
		expectProblem(t, s.debit(t, token, w.ID, "down", "1"), http.StatusServiceUnavailable, "unavailable")
	})
}
