package stripeclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/services/payment/internal/stripeclient"
	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
)

const (
	fakeKey       = "sk_test_fake_secret_4242"
	intentsPath   = "/v1/payment_intents"
	refundsPath   = "/v1/refunds"
	clientTimeout = 500 * time.Millisecond
)

func newFakeClient(f *stripetest.Fake, key string, timeout time.Duration) *stripeclient.Client {
	return stripeclient.New(stripeclient.Config{
		APIKey:     key,
		BaseURL:    f.URL,
		HTTPClient: &http.Client{Timeout: timeout},
	})
}

func visaPayment(key string) stripeclient.PaymentIntentParams {
	return stripeclient.PaymentIntentParams{
		Amount:         1000,
		Currency:       "EUR",
		PaymentMethod:  "pm_card_visa",
		Metadata:       map[string]string{"payment_id": key},
		IdempotencyKey: key,
	}
}

// assertNoKey fails when err's message contains the API key.
func assertNoKey(t *testing.T, err error) {
	t.Helper()

	if err != nil && strings.Contains(err.Error(), fakeKey) {
		t.Errorf("error message contains the API key: %v", err)
	}
}

func TestCreatePaymentIntentSucceeds(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	c := newFakeClient(f, fakeKey, clientTimeout)

	pi, err := c.CreatePaymentIntent(context.Background(), visaPayment("payment-ok"))
	if err != nil {
		t.Fatalf("CreatePaymentIntent: %v", err)
	}

	if pi.Status != "succeeded" {
		t.Errorf("Status = %q, want succeeded", pi.Status)
	}
	if got := f.PaymentIntentCount(); got != 1 {
		t.Errorf("PaymentIntentCount() = %d, want 1", got)
	}

	stored := getIntent(t, f, pi.ID)
	if stored["currency"] != "eur" {
		t.Errorf("stored currency = %v, want eur", stored["currency"])
	}
	if md, _ := stored["metadata"].(map[string]any); md["payment_id"] != "payment-ok" {
		t.Errorf("stored metadata = %v, want payment_id=payment-ok", stored["metadata"])
	}
}

func TestDeclinedCard(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	c := newFakeClient(f, fakeKey, clientTimeout)
	params := visaPayment("payment-declined")
	params.PaymentMethod = "pm_card_chargeDeclined"

	for attempt := 1; attempt <= 2; attempt++ {
		pi, err := c.CreatePaymentIntent(context.Background(), params)

		if !errors.Is(err, stripeclient.ErrCardDeclined) {
			t.Fatalf("attempt %d: err = %v, want ErrCardDeclined", attempt, err)
		}
		if errors.Is(err, stripeclient.ErrTransient) {
			t.Errorf("attempt %d: err = %v, must not be ErrTransient", attempt, err)
		}
		if !strings.Contains(err.Error(), `decline code "generic_decline"`) {
			t.Errorf("attempt %d: err = %v, want it to name decline code generic_decline", attempt, err)
		}
		if pi != (stripeclient.PaymentIntent{}) {
			t.Errorf("attempt %d: PaymentIntent = %+v, want zero", attempt, pi)
		}
		assertNoKey(t, err)
	}

	if got := f.PaymentIntentCount(); got != 0 {
		t.Errorf("PaymentIntentCount() = %d, want 0", got)
	}
	if got := f.Requests(intentsPath); got != 2 {
		t.Errorf("Requests(%s) = %d, want 2", intentsPath, got)
	}
}

func TestTimeoutRetrySameKey(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext(intentsPath, stripetest.FaultTimeout, 1)
	c := newFakeClient(f, fakeKey, clientTimeout)

	assertRetryReturnsOneIntent(t, f, c, "payment-timeout")
}

func TestLostResponseRetrySameKey(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext(intentsPath, stripetest.FaultLostResponse, 1)
	c := newFakeClient(f, fakeKey, clientTimeout)

	assertRetryReturnsOneIntent(t, f, c, "payment-lost")
}

// assertRetryReturnsOneIntent checks a fault that creates the intent but
// loses the response: the first call is transient, and two retries with the
// same key return one and the same intent.
func assertRetryReturnsOneIntent(t *testing.T, f *stripetest.Fake, c *stripeclient.Client, key string) {
	t.Helper()
	ctx := context.Background()

	_, err := c.CreatePaymentIntent(ctx, visaPayment(key))
	if !errors.Is(err, stripeclient.ErrTransient) {
		t.Fatalf("first call: err = %v, want ErrTransient", err)
	}
	assertNoKey(t, err)
	if got := f.PaymentIntentCount(); got != 1 {
		t.Errorf("after first call: PaymentIntentCount() = %d, want 1", got)
	}

	first, err := c.CreatePaymentIntent(ctx, visaPayment(key))
	if err != nil {
		t.Fatalf("first retry: %v", err)
	}
	second, err := c.CreatePaymentIntent(ctx, visaPayment(key))
	if err != nil {
		t.Fatalf("second retry: %v", err)
	}

	if first.ID != second.ID {
		t.Errorf("retries returned %q and %q, want one id", first.ID, second.ID)
	}
	if first.Status != "succeeded" {
		t.Errorf("Status = %q, want succeeded", first.Status)
	}
	if got := f.PaymentIntentCount(); got != 1 {
		t.Errorf("PaymentIntentCount() = %d, want 1", got)
	}
	if got := f.Requests(intentsPath); got != 3 {
		t.Errorf("Requests(%s) = %d, want 3", intentsPath, got)
	}
}

func TestServerErrorRetryCreatesOne(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.FailNext(intentsPath, stripetest.FaultServerError, 1)
	c := newFakeClient(f, fakeKey, clientTimeout)
	ctx := context.Background()

	_, err := c.CreatePaymentIntent(ctx, visaPayment("payment-500"))
	if !errors.Is(err, stripeclient.ErrTransient) {
		t.Fatalf("first call: err = %v, want ErrTransient", err)
	}
	assertNoKey(t, err)
	if got := f.PaymentIntentCount(); got != 0 {
		t.Errorf("after HTTP 500: PaymentIntentCount() = %d, want 0", got)
	}

	pi, err := c.CreatePaymentIntent(ctx, visaPayment("payment-500"))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}

	if pi.Status != "succeeded" {
		t.Errorf("Status = %q, want succeeded", pi.Status)
	}
	if got := f.PaymentIntentCount(); got != 1 {
		t.Errorf("PaymentIntentCount() = %d, want 1", got)
	}
}

func TestRefundTimeoutRetrySameKey(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	c := newFakeClient(f, fakeKey, clientTimeout)
	ctx := context.Background()

	pi, err := c.CreatePaymentIntent(ctx, visaPayment("payment-refund-timeout"))
	if err != nil {
		t.Fatalf("CreatePaymentIntent: %v", err)
	}

	f.FailNext(refundsPath, stripetest.FaultTimeout, 1)
	params := stripeclient.RefundParams{PaymentIntentID: pi.ID, Amount: 300, IdempotencyKey: "refund-timeout"}

	_, err = c.CreateRefund(ctx, params)
	if !errors.Is(err, stripeclient.ErrTransient) {
		t.Fatalf("first call: err = %v, want ErrTransient", err)
	}

	first, err := c.CreateRefund(ctx, params)
	if err != nil {
		t.Fatalf("first retry: %v", err)
	}
	second, err := c.CreateRefund(ctx, params)
	if err != nil {
		t.Fatalf("second retry: %v", err)
	}

	if first != second {
		t.Errorf("retries returned %+v and %+v, want the same refund", first, second)
	}
	if first.Status != "succeeded" {
		t.Errorf("Status = %q, want succeeded", first.Status)
	}
	if got := f.RefundCount(); got != 1 {
		t.Errorf("RefundCount() = %d, want 1", got)
	}
}

func TestRefundOverRemainingIsPermanent(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	c := newFakeClient(f, fakeKey, clientTimeout)
	ctx := context.Background()

	pi, err := c.CreatePaymentIntent(ctx, visaPayment("payment-refund-over"))
	if err != nil {
		t.Fatalf("CreatePaymentIntent: %v", err)
	}

	_, err = c.CreateRefund(ctx, stripeclient.RefundParams{PaymentIntentID: pi.ID, Amount: 600, IdempotencyKey: "refund-600"})
	if err != nil {
		t.Fatalf("refund 600 of 1000: %v", err)
	}

	_, err = c.CreateRefund(ctx, stripeclient.RefundParams{PaymentIntentID: pi.ID, Amount: 500, IdempotencyKey: "refund-500"})
	assertPermanent(t, "refund 500 of remaining 400", err, http.StatusBadRequest)
	assertNoKey(t, err)

	if got := f.RefundCount(); got != 1 {
		t.Errorf("RefundCount() = %d, want 1", got)
	}
}

func TestInvalidCurrencyIsPermanent(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	c := newFakeClient(f, fakeKey, clientTimeout)
	params := visaPayment("payment-bad-currency")
	params.Currency = "euro"

	_, err := c.CreatePaymentIntent(context.Background(), params)

	assertPermanent(t, "currency euro", err, http.StatusBadRequest)
	if got := f.PaymentIntentCount(); got != 0 {
		t.Errorf("PaymentIntentCount() = %d, want 0", got)
	}
}

func TestAPIKeyNotInErrors(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	// The fake rejects keys that do not start with sk_test_ and echoes them.
	const liveKey = "sk_live_do_not_print_9876"
	c := newFakeClient(f, liveKey, clientTimeout)

	_, err := c.CreatePaymentIntent(context.Background(), visaPayment("payment-live-key"))

	assertPermanent(t, "live key", err, http.StatusUnauthorized)
	if strings.Contains(err.Error(), liveKey) {
		t.Errorf("error message contains the API key: %v", err)
	}
	if !strings.Contains(err.Error(), "[redacted API key]") {
		t.Errorf("err = %v, want the key replaced by [redacted API key]", err)
	}
}

func TestContextCancelAbortsRequest(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	f.SetDelay(time.Minute)
	f.FailNext(intentsPath, stripetest.FaultTimeout, 1)
	c := newFakeClient(f, fakeKey, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	go cancelWhenReceived(f, cancel)
	_, err := c.CreatePaymentIntent(ctx, visaPayment("payment-cancel"))

	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if !errors.Is(err, stripeclient.ErrTransient) {
		t.Errorf("err = %v, want ErrTransient because the intent may exist", err)
	}
}

// cancelWhenReceived calls cancel once f has received a request, or after 10s.
func cancelWhenReceived(f *stripetest.Fake, cancel context.CancelFunc) {
	defer cancel()

	for range 1000 {
		if f.Requests(intentsPath) > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMissingIdempotencyKeySendsNothing(t *testing.T) {
	t.Parallel()
	f := stripetest.NewFake(t)
	c := newFakeClient(f, fakeKey, clientTimeout)
	ctx := context.Background()

	_, payErr := c.CreatePaymentIntent(ctx, visaPayment(""))
	_, refundErr := c.CreateRefund(ctx, stripeclient.RefundParams{PaymentIntentID: "pi_1", Amount: 1})

	for name, err := range map[string]error{"payment intent": payErr, "refund": refundErr} {
		if err == nil || !strings.Contains(err.Error(), "missing idempotency key") {
			t.Errorf("%s: err = %v, want missing idempotency key", name, err)
		}
		if errors.Is(err, stripeclient.ErrTransient) {
			t.Errorf("%s: err = %v, must not be ErrTransient", name, err)
		}
	}
	if got := f.Requests("/"); got != 0 {
		t.Errorf("Requests(/) = %d, want 0", got)
	}
}

func TestConnectionRefusedIsTransient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	closedURL := "http://" + ln.Addr().String()
	ln.Close()
	c := stripeclient.New(stripeclient.Config{APIKey: fakeKey, BaseURL: closedURL})

	_, err = c.CreatePaymentIntent(context.Background(), visaPayment("payment-refused"))

	if !errors.Is(err, stripeclient.ErrTransient) {
		t.Errorf("err = %v, want ErrTransient", err)
	}
}

func TestInvalidBaseURLIsPermanent(t *testing.T) {
	t.Parallel()
	c := stripeclient.New(stripeclient.Config{APIKey: fakeKey, BaseURL: "127.0.0.1:12111"})

	_, err := c.CreatePaymentIntent(context.Background(), visaPayment("payment-bad-url"))

	if err == nil || !strings.Contains(err.Error(), "invalid base URL") {
		t.Errorf("err = %v, want invalid base URL", err)
	}
	if errors.Is(err, stripeclient.ErrTransient) {
		t.Errorf("err = %v, must not be ErrTransient", err)
	}
}

// getIntent reads a PaymentIntent from the fake as raw JSON.
func getIntent(t *testing.T, f *stripetest.Fake, id string) map[string]any {
	t.Helper()

	req, err := http.NewRequest(http.MethodGet, f.URL+intentsPath+"/"+id, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+fakeKey)

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", id, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d, want 200", id, resp.StatusCode)
	}

	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode %s: %v", id, err)
	}

	return out
}
