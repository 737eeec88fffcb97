// Package cards implements payments.Cards with Stripe.
package cards

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/services/payment/internal/payments"
	"github.com/advancia-pay/ledger/services/payment/internal/stripeclient"
)

// Cards charges and refunds through a Stripe client.
type Cards struct {
	client *stripeclient.Client
}

var _ payments.Cards = (*Cards)(nil)

// New returns Cards over client.
func New(client *stripeclient.Client) *Cards {
	return &Cards{client: client}
}

// Charge creates and confirms a PaymentIntent keyed by key, with our
// payment id in its metadata so webhooks find the payment.
func (c *Cards) Charge(ctx context.Context, p payments.Payment, key string) (payments.Charge, error) {
	metadata := map[string]string{"payment_id": p.ID}
	for k, v := range p.Metadata {
		metadata[k] = v
	}
	pi, err := c.client.CreatePaymentIntent(ctx, stripeclient.PaymentIntentParams{
		Amount: p.Amount, Currency: strings.ToLower(p.Currency), PaymentMethod: p.PaymentMethod,
		Description: p.Description, Metadata: metadata, IdempotencyKey: key,
	})
	if errors.Is(err, stripeclient.ErrCardDeclined) {
		code := "declined"
		var stripeErr *stripe.Error
		if errors.As(err, &stripeErr) && stripeErr.DeclineCode != "" {
			code = string(stripeErr.DeclineCode)
		}
		return payments.Charge{PaymentIntentID: pi.ID, DeclineCode: code}, nil
	}
	if err != nil {
		return payments.Charge{}, translate(err)
	}
	return payments.Charge{PaymentIntentID: pi.ID, Status: pi.Status}, nil
}

// Refund refunds amount of a PaymentIntent, keyed by key.
func (c *Cards) Refund(ctx context.Context, paymentIntentID string, amount int64, reason, key string) (string, string, error) {
	r, err := c.client.CreateRefund(ctx, stripeclient.RefundParams{
		PaymentIntentID: paymentIntentID, Amount: amount, Reason: stripeReason(reason), IdempotencyKey: key,
	})
	if err != nil {
		return "", "", translate(err)
	}
	return r.ID, r.Status, nil
}

// stripeReason passes on the reasons Stripe accepts; free text stays in
// our own records only.
func stripeReason(reason string) string {
	switch reason {
	case "duplicate", "fraudulent", "requested_by_customer":
		return reason
	}
	return ""
}

// translate maps Stripe failures to client-visible codes. A transient
// failure is retryable with the same idempotency key.
func translate(err error) error {
	if errors.Is(err, stripeclient.ErrTransient) {
		return apperr.Wrap(err, apperr.Unavailable, "the card processor did not answer; retry with the same Idempotency-Key").WithRetryAfter(2 * time.Second)
	}
	return apperr.Wrap(err, apperr.Internal, "the card processor rejected the request")
}
