package stripeclient_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/advancia-pay/ledger/services/payment/internal/stripeclient"
	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
)

// stripe-mock validates every request against Stripe's OpenAPI spec and
// returns HTTP 400 on a violation, so a success here shows that the request
// conforms. Its responses are fixtures: ids are fresh but statuses are fixed.

func TestCreatePaymentIntentStripeMock(t *testing.T) {
	t.Parallel()
	c := stripeclient.New(stripeclient.Config{APIKey: "sk_test_stripemock", BaseURL: stripetest.StartMock(t)})

	pi, err := c.CreatePaymentIntent(context.Background(), stripeclient.PaymentIntentParams{
		Amount:         1999,
		Currency:       "USD",
		PaymentMethod:  "pm_card_visa",
		Description:    "order 42",
		Metadata:       map[string]string{"payment_id": "pay_42"},
		IdempotencyKey: "payment-pay_42",
	})
	if err != nil {
		t.Fatalf("CreatePaymentIntent: %v", err)
	}

	if !strings.HasPrefix(pi.ID, "pi_") {
		t.Errorf("ID = %q, want a pi_ id", pi.ID)
	}
	// stripe-mock v0.183.0 returns its fixture's status.
	if pi.Status != "requires_payment_method" {
		t.Errorf("Status = %q, want the fixture's requires_payment_method", pi.Status)
	}
	if pi.LastErrorCode != "" {
		t.Errorf("LastErrorCode = %q, want empty", pi.LastErrorCode)
	}
}

func TestCreateRefundStripeMock(t *testing.T) {
	t.Parallel()
	c := stripeclient.New(stripeclient.Config{APIKey: "sk_test_stripemock", BaseURL: stripetest.StartMock(t)})

	refund, err := c.CreateRefund(context.Background(), stripeclient.RefundParams{
		PaymentIntentID: "pi_stripemock",
		Amount:          500,
		Reason:          "requested_by_customer",
		IdempotencyKey:  "refund-ref_7",
		Metadata:        map[string]string{"refund_id": "ref_7"},
	})
	if err != nil {
		t.Fatalf("CreateRefund: %v", err)
	}

	if !strings.HasPrefix(refund.ID, "re_") {
		t.Errorf("ID = %q, want a re_ id", refund.ID)
	}
	if refund.Status != "succeeded" {
		t.Errorf("Status = %q, want the fixture's succeeded", refund.Status)
	}
}

func TestInvalidRequestsStripeMock(t *testing.T) {
	t.Parallel()
	c := stripeclient.New(stripeclient.Config{APIKey: "sk_test_stripemock", BaseURL: stripetest.StartMock(t)})
	ctx := context.Background()

	// stripe-mock v0.183.0 does not check currency codes against ISO 4217,
	// so the request it can reject is one without a currency.
	_, missingCurrency := c.CreatePaymentIntent(ctx, stripeclient.PaymentIntentParams{
		Amount:         1999,
		PaymentMethod:  "pm_card_visa",
		IdempotencyKey: "payment-no-currency",
	})
	_, badReason := c.CreateRefund(ctx, stripeclient.RefundParams{
		PaymentIntentID: "pi_stripemock",
		Amount:          500,
		Reason:          "changed_mind",
		IdempotencyKey:  "refund-bad-reason",
	})

	for name, err := range map[string]error{"missing currency": missingCurrency, "invalid refund reason": badReason} {
		assertPermanent(t, name, err, http.StatusBadRequest)
	}
}

// assertPermanent checks that err is a permanent Stripe error with status.
func assertPermanent(t *testing.T, name string, err error, status int) {
	t.Helper()

	if err == nil {
		t.Errorf("%s: err = nil, want HTTP %d", name, status)
		return
	}
	if errors.Is(err, stripeclient.ErrTransient) {
		t.Errorf("%s: err = %v, want permanent, not ErrTransient", name, err)
	}
	if errors.Is(err, stripeclient.ErrCardDeclined) {
		t.Errorf("%s: err = %v, want permanent, not ErrCardDeclined", name, err)
	}

	var stripeErr *stripe.Error
	if !errors.As(err, &stripeErr) {
		t.Errorf("%s: err = %v, want it to wrap *stripe.Error", name, err)
		return
	}
	if stripeErr.HTTPStatusCode != status {
		t.Errorf("%s: HTTP status = %d, want %d", name, stripeErr.HTTPStatusCode, status)
	}
}
