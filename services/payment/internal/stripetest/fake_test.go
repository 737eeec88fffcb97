package stripetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
)

const testKey = "sk_test_stripetest"

type response struct {
	status int
	body   map[string]any
	raw    string
}

// post sends a form-encoded POST to the fake with an optional idempotency key.
func post(t *testing.T, f *stripetest.Fake, path, key string, form url.Values) response {
	t.Helper()

	r, err := tryPost(f, path, key, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}

	return r
}

// tryPost is post for goroutines other than the test's own.
func tryPost(f *stripetest.Fake, path, key string, form url.Values) (response, error) {
	req, err := http.NewRequest(http.MethodPost, f.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}

	return tryDo(req)
}

func get(t *testing.T, f *stripetest.Fake, path string) response {
	t.Helper()

	req, err := http.NewRequest(http.MethodGet, f.URL+path, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)

	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()

	r, err := tryDo(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}

	return r
}

// tryDo sends req and decodes the JSON response.
func tryDo(req *http.Request) (response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()

	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("read body: %w", err)
	}

	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return response{}, fmt.Errorf("decode body %s: %w", raw, err)
	}

	return response{status: resp.StatusCode, body: body, raw: string(raw)}, nil
}

func visaForm(amount string) url.Values {
	return url.Values{
		"amount":                  {amount},
		"currency":                {"usd"},
		"confirm":                 {"true"},
		"payment_method":          {"pm_card_visa"},
		"payment_method_types[0]": {"card"},
		"metadata[order]":         {"42"},
	}
}

func errorField(r response, field string) any {
	e, _ := r.body["error"].(map[string]any)
	return e[field]
}

func TestFakeCreateAndGetIntent(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)

	created := post(t, f, "/v1/payment_intents", "k1", visaForm("1500"))
	if created.status != http.StatusOK {
		t.Fatalf("create: HTTP %d: %s", created.status, created.raw)
	}
	id, _ := created.body["id"].(string)

	fetched := get(t, f, "/v1/payment_intents/"+id)

	if fetched.status != http.StatusOK {
		t.Fatalf("get: HTTP %d: %s", fetched.status, fetched.raw)
	}
	if fetched.raw != created.raw {
		t.Errorf("get = %s, want the created object %s", fetched.raw, created.raw)
	}
	checks := map[string]any{"object": "payment_intent", "status": "succeeded", "amount": 1500.0, "currency": "usd"}
	for field, want := range checks {
		if got := created.body[field]; got != want {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
	if md, _ := created.body["metadata"].(map[string]any); md["order"] != "42" {
		t.Errorf("metadata = %v, want order=42", created.body["metadata"])
	}

	missing := get(t, f, "/v1/payment_intents/pi_unknown")
	if missing.status != http.StatusNotFound {
		t.Errorf("get unknown: HTTP %d, want 404", missing.status)
	}
}

func TestFakeIdempotencyKeyReplays(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)

	first := post(t, f, "/v1/payment_intents", "same-key", visaForm("1000"))
	replay := post(t, f, "/v1/payment_intents", "same-key", visaForm("1000"))
	changed := post(t, f, "/v1/payment_intents", "same-key", visaForm("2000"))
	other := post(t, f, "/v1/payment_intents", "other-key", visaForm("1000"))

	if replay.raw != first.raw {
		t.Errorf("replay = %s, want %s", replay.raw, first.raw)
	}
	if changed.status != http.StatusBadRequest || errorField(changed, "type") != "idempotency_error" {
		t.Errorf("changed params: HTTP %d %s, want 400 idempotency_error", changed.status, changed.raw)
	}
	if other.body["id"] == first.body["id"] {
		t.Errorf("other key returned id %v, want a new id", other.body["id"])
	}
	if got := f.PaymentIntentCount(); got != 2 {
		t.Errorf("PaymentIntentCount() = %d, want 2", got)
	}
	if got := f.Requests("/v1/payment_intents"); got != 4 {
		t.Errorf("Requests = %d, want 4", got)
	}
}

func TestFakeConcurrentSameKey(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	const workers = 16

	ids := make([]any, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			r, err := tryPost(f, "/v1/payment_intents", "race-key", visaForm("700"))
			ids[i], errs[i] = r.body["id"], err
		})
	}
	wg.Wait()

	for i := range workers {
		if errs[i] != nil {
			t.Errorf("worker %d: %v", i, errs[i])
		}
		if ids[i] == nil || ids[i] != ids[0] {
			t.Errorf("worker %d got id %v, want %v", i, ids[i], ids[0])
		}
	}
	if got := f.PaymentIntentCount(); got != 1 {
		t.Errorf("PaymentIntentCount() = %d, want 1", got)
	}
}

func TestFakeDeclinedCard(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	form := visaForm("1000")
	form.Set("payment_method", "pm_card_chargeDeclined")

	first := post(t, f, "/v1/payment_intents", "declined-key", form)
	replay := post(t, f, "/v1/payment_intents", "declined-key", form)

	if first.status != http.StatusPaymentRequired {
		t.Fatalf("HTTP %d, want 402: %s", first.status, first.raw)
	}
	if got := errorField(first, "type"); got != "card_error" {
		t.Errorf("error.type = %v, want card_error", got)
	}
	if got := errorField(first, "decline_code"); got != "generic_decline" {
		t.Errorf("error.decline_code = %v, want generic_decline", got)
	}
	if replay.status != first.status || replay.raw != first.raw {
		t.Errorf("replay = HTTP %d %s, want the stored decline", replay.status, replay.raw)
	}
	if got := f.PaymentIntentCount(); got != 0 {
		t.Errorf("PaymentIntentCount() = %d, want 0", got)
	}
}

func TestFakeRefunds(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	intent := post(t, f, "/v1/payment_intents", "pi-key", visaForm("1000"))
	intentID, _ := intent.body["id"].(string)

	partial := post(t, f, "/v1/refunds", "re-1", url.Values{"payment_intent": {intentID}, "amount": {"400"}})
	over := post(t, f, "/v1/refunds", "re-2", url.Values{"payment_intent": {intentID}, "amount": {"601"}})
	rest := post(t, f, "/v1/refunds", "re-3", url.Values{"payment_intent": {intentID}})
	again := post(t, f, "/v1/refunds", "re-4", url.Values{"payment_intent": {intentID}, "amount": {"1"}})

	if partial.status != http.StatusOK || partial.body["amount"] != 400.0 || partial.body["status"] != "succeeded" {
		t.Errorf("refund 400: HTTP %d %s, want 200 succeeded amount 400", partial.status, partial.raw)
	}
	if over.status != http.StatusBadRequest || errorField(over, "type") != "invalid_request_error" {
		t.Errorf("refund 601 of 600: HTTP %d %s, want 400 invalid_request_error", over.status, over.raw)
	}
	if rest.status != http.StatusOK || rest.body["amount"] != 600.0 {
		t.Errorf("refund remaining: HTTP %d %s, want 200 amount 600", rest.status, rest.raw)
	}
	if again.status != http.StatusBadRequest {
		t.Errorf("refund after full refund: HTTP %d %s, want 400", again.status, again.raw)
	}
	if got := f.RefundCount(); got != 2 {
		t.Errorf("RefundCount() = %d, want 2", got)
	}
}

func TestFakeServerErrorCreatesNothing(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext("/v1/payment_intents", stripetest.FaultServerError, 2)

	first := post(t, f, "/v1/payment_intents", "k", visaForm("1000"))
	second := post(t, f, "/v1/payment_intents", "k", visaForm("1000"))
	third := post(t, f, "/v1/payment_intents", "k", visaForm("1000"))

	for name, r := range map[string]response{"first": first, "second": second} {
		if r.status != http.StatusInternalServerError || errorField(r, "type") != "api_error" {
			t.Errorf("%s: HTTP %d %s, want 500 api_error", name, r.status, r.raw)
		}
	}
	if third.status != http.StatusOK {
		t.Errorf("third: HTTP %d %s, want 200", third.status, third.raw)
	}
	if got := f.PaymentIntentCount(); got != 1 {
		t.Errorf("PaymentIntentCount() = %d, want 1", got)
	}
}

func TestFakeLostResponseStoresIntent(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext("/v1/payment_intents", stripetest.FaultLostResponse, 1)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	req, err := http.NewRequest(http.MethodPost, f.URL+"/v1/payment_intents", strings.NewReader(visaForm("1000").Encode()))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", "lost-key")

	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("lost response: HTTP %d, want a connection error", resp.StatusCode)
	}

	if got := f.PaymentIntentCount(); got != 1 {
		t.Errorf("PaymentIntentCount() = %d, want 1", got)
	}
}

func TestFakeTimeoutFaultPerPrefix(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.SetDelay(time.Minute)
	f.FailNext("/v1/refunds", stripetest.FaultTimeout, 1)
	client := &http.Client{Timeout: 200 * time.Millisecond}

	req, err := http.NewRequest(http.MethodPost, f.URL+"/v1/refunds", strings.NewReader("payment_intent=pi_none"))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("HTTP %d, want a client timeout", resp.StatusCode)
	}

	// The fault applied to the refunds prefix only.
	intent := post(t, f, "/v1/payment_intents", "", visaForm("1000"))
	if intent.status != http.StatusOK {
		t.Errorf("payment intent after refund fault: HTTP %d %s, want 200", intent.status, intent.raw)
	}
	if got := f.Requests("/v1/refunds"); got != 1 {
		t.Errorf("Requests(/v1/refunds) = %d, want 1", got)
	}
}

func TestFakeRejectsNonTestKey(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)

	req, err := http.NewRequest(http.MethodPost, f.URL+"/v1/payment_intents", strings.NewReader(visaForm("1000").Encode()))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer sk_live_abc")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	r := do(t, req)

	if r.status != http.StatusUnauthorized {
		t.Errorf("HTTP %d, want 401", r.status)
	}
	if got := f.PaymentIntentCount(); got != 0 {
		t.Errorf("PaymentIntentCount() = %d, want 0", got)
	}
}

func TestFakeHoldUntilRelease(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext("/v1/payment_intents", stripetest.FaultHold, 1)

	done := make(chan response, 1)
	go func() {
		r, err := tryPost(f, "/v1/payment_intents", "held-key", visaForm("1000"))
		if err != nil {
			t.Errorf("held POST: %v", err)
		}
		done <- r
	}()

	waitForHeld(t, f, 1)
	if got := f.PaymentIntentCount(); got != 1 {
		t.Errorf("PaymentIntentCount() while held = %d, want 1", got)
	}
	select {
	case r := <-done:
		t.Fatalf("response arrived while held: HTTP %d %s", r.status, r.raw)
	case <-time.After(100 * time.Millisecond):
	}

	f.Release()
	r := <-done
	if r.status != http.StatusOK || r.body["status"] != "succeeded" {
		t.Errorf("released response: HTTP %d %s, want 200 succeeded", r.status, r.raw)
	}
	if got := f.Held(); got != 0 {
		t.Errorf("Held() after Release = %d, want 0", got)
	}

	// The hold was armed for one request, and a replay of the key returns
	// the stored intent at once.
	replay := post(t, f, "/v1/payment_intents", "held-key", visaForm("1000"))
	if replay.status != http.StatusOK || replay.body["id"] != r.body["id"] {
		t.Errorf("replay: HTTP %d %s, want 200 with id %v", replay.status, replay.raw, r.body["id"])
	}
}

func TestFakeHoldEndsOnDisconnect(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext("/v1/payment_intents", stripetest.FaultHold, 1)
	ctx, cancel := context.WithCancel(context.Background())

	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL+"/v1/payment_intents", strings.NewReader(visaForm("1000").Encode()))
		if err != nil {
			done <- err
			return
		}
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()

	waitForHeld(t, f, 1)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("canceled request got a response, want an error")
	}
	waitForHeld(t, f, 0)
	if got := f.PaymentIntentCount(); got != 1 {
		t.Errorf("PaymentIntentCount() = %d, want 1: the intent is created before the hold", got)
	}
}

// waitForHeld polls Held until it returns want, for at most 5 seconds.
func waitForHeld(t *testing.T, f *stripetest.Fake, want int) {
	t.Helper()

	deadline := time.Now().Add(5 * time.Second)
	for f.Held() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Held() = %d after 5s, want %d", f.Held(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
