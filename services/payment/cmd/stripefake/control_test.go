package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
)

func TestControlHoldAndRelease(t *testing.T) {
	srv := newControlServer(t)

	if status := postStatus(t, srv.URL+"/_fake/hold?path=/v1/payment_intents"); status != http.StatusNoContent {
		t.Fatalf("POST /_fake/hold: HTTP %d, want 204", status)
	}

	charged := make(chan int, 1)
	go func() {
		form := url.Values{"amount": {"500"}, "currency": {"usd"}, "confirm": {"true"}, "payment_method": {"pm_card_visa"}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/payment_intents", strings.NewReader(form.Encode()))
		req.Header.Set("Authorization", "Bearer sk_test_control")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("POST /v1/payment_intents: %v", err)
			charged <- 0
			return
		}
		resp.Body.Close()
		charged <- resp.StatusCode
	}()

	deadline := time.Now().Add(5 * time.Second)
	for readStats(t, srv.URL).Held != 1 {
		if time.Now().After(deadline) {
			t.Fatal("no request held within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := readStats(t, srv.URL); got.PaymentIntents != 1 {
		t.Errorf("stats while held = %+v, want one PaymentIntent", got)
	}

	if status := postStatus(t, srv.URL+"/_fake/release"); status != http.StatusNoContent {
		t.Fatalf("POST /_fake/release: HTTP %d, want 204", status)
	}
	if status := <-charged; status != http.StatusOK {
		t.Errorf("held charge: HTTP %d, want 200", status)
	}
	if got := readStats(t, srv.URL); got.Held != 0 {
		t.Errorf("held after release = %d, want 0", got.Held)
	}
}

func TestControlHoldRejectsOtherPaths(t *testing.T) {
	srv := newControlServer(t)

	if status := postStatus(t, srv.URL+"/_fake/hold?path=/admin"); status != http.StatusBadRequest {
		t.Errorf("POST /_fake/hold?path=/admin: HTTP %d, want 400", status)
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "0.0.0.0:1": false, ":1": false, "example.com:1": false, "127.0.0.1": false} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

// newControlServer serves a new fake with the control API until t ends.
func newControlServer(t *testing.T) *httptest.Server {
	t.Helper()
	fake := stripetest.NewHandler()
	srv := httptest.NewServer(newMux(fake, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	t.Cleanup(fake.Close)
	return srv
}

func postStatus(t *testing.T, target string) int {
	t.Helper()
	resp, err := http.Post(target, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func readStats(t *testing.T, base string) stats {
	t.Helper()
	resp, err := http.Get(base + "/_fake/stats")
	if err != nil {
		t.Fatalf("GET /_fake/stats: %v", err)
	}
	defer resp.Body.Close()
	var s stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decode stats: %v", err)
	}
	return s
}
