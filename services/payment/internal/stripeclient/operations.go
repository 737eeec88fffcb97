package stripeclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/stripe/stripe-go/v76"
)

// PaymentIntentParams describes one card payment.
type PaymentIntentParams struct {
	// Amount is in the currency's smallest unit (cents for usd).
	Amount int64

	// Currency is an ISO 4217 code in either case. It is sent in lower case.
	Currency string

	// PaymentMethod is a Stripe PaymentMethod id, for example pm_card_visa.
	PaymentMethod string

	// Description is optional and shown in the Stripe dashboard.
	Description string

	// Metadata is optional and stored on the PaymentIntent.
	Metadata map[string]string

	// IdempotencyKey is required, at most 255 characters, and must be derived
	// from the caller's own payment id so that a retry reuses it.
	IdempotencyKey string
}

// PaymentIntent is the part of a Stripe PaymentIntent that callers act on.
type PaymentIntent struct {
	// ID is Stripe's id, pi_...
	ID string

	// Status is Stripe's status: succeeded, requires_payment_method,
	// processing, requires_action, canceled and so on.
	Status string

	// LastErrorCode is the code of last_payment_error, empty when there is none.
	LastErrorCode string
}

// RefundParams describes one refund of a PaymentIntent.
type RefundParams struct {
	// PaymentIntentID is the pi_... id to refund.
	PaymentIntentID string

	// Amount is in the currency's smallest unit. Zero refunds the whole
	// remaining amount.
	Amount int64

	// Reason is empty or one of requested_by_customer, duplicate, fraudulent.
	Reason string

	// IdempotencyKey is required, at most 255 characters, and must be derived
	// from the caller's own refund id so that a retry reuses it.
	IdempotencyKey string

	// Metadata is optional and stored on the Refund.
	Metadata map[string]string
}

// Refund is the part of a Stripe Refund that callers act on.
type Refund struct {
	// ID is Stripe's id, re_...
	ID string

	// Status is Stripe's status: succeeded, pending, requires_action, failed
	// or canceled.
	Status string
}

// CreatePaymentIntent creates and confirms (confirm=true,
// payment_method_types=["card"]) a PaymentIntent under p.IdempotencyKey.
// Cancelling ctx aborts the HTTP request. Errors wrap ErrCardDeclined,
// ErrTransient, or neither when they are permanent. An empty idempotency key
// is a permanent error and sends nothing.
func (c *Client) CreatePaymentIntent(ctx context.Context, p PaymentIntentParams) (PaymentIntent, error) {
	const op = "create payment intent"

	if err := c.checkCall(op, p.IdempotencyKey); err != nil {
		return PaymentIntent{}, err
	}

	ctx, a := withAttempt(ctx)
	params := &stripe.PaymentIntentParams{
		Amount:             stripe.Int64(p.Amount),
		Confirm:            stripe.Bool(true),
		Currency:           optionalString(strings.ToLower(p.Currency)),
		Description:        optionalString(p.Description),
		PaymentMethod:      optionalString(p.PaymentMethod),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
	}
	params.Context = ctx
	params.IdempotencyKey = stripe.String(p.IdempotencyKey)
	for k, v := range p.Metadata {
		params.AddMetadata(k, v)
	}

	pi, err := c.paymentIntent.New(params)
	if err != nil {
		return PaymentIntent{}, c.classify(op, err, a)
	}

	out := PaymentIntent{ID: pi.ID, Status: string(pi.Status)}
	if pi.LastPaymentError != nil {
		out.LastErrorCode = string(pi.LastPaymentError.Code)
	}

	return out, nil
}

// CreateRefund refunds p.Amount of a PaymentIntent under p.IdempotencyKey.
// Cancelling ctx aborts the HTTP request. Errors wrap ErrTransient, or not
// when they are permanent, for example an amount over what remains to refund.
// An empty idempotency key is a permanent error and sends nothing.
func (c *Client) CreateRefund(ctx context.Context, p RefundParams) (Refund, error) {
	const op = "create refund"

	if err := c.checkCall(op, p.IdempotencyKey); err != nil {
		return Refund{}, err
	}

	ctx, a := withAttempt(ctx)
	params := &stripe.RefundParams{
		PaymentIntent: optionalString(p.PaymentIntentID),
		Reason:        optionalString(p.Reason),
	}
	if p.Amount != 0 {
		params.Amount = stripe.Int64(p.Amount)
	}
	params.Context = ctx
	params.IdempotencyKey = stripe.String(p.IdempotencyKey)
	for k, v := range p.Metadata {
		params.AddMetadata(k, v)
	}

	r, err := c.refund.New(params)
	if err != nil {
		return Refund{}, c.classify(op, err, a)
	}

	return Refund{ID: r.ID, Status: string(r.Status)}, nil
}

// checkCall rejects a call that must not reach Stripe. Without a key,
// stripe-go would send a random one and a retry could charge twice.
func (c *Client) checkCall(op, idempotencyKey string) error {
	if c.configErr != nil {
		return fmt.Errorf("stripeclient: %s: %w", op, c.configErr)
	}

	if strings.TrimSpace(idempotencyKey) == "" {
		return fmt.Errorf("stripeclient: %s: missing idempotency key", op)
	}

	return nil
}

// optionalString returns nil for "" so that stripe-go leaves the field out
// of the form instead of sending an empty value.
func optionalString(s string) *string {
	if s == "" {
		return nil
	}

	return stripe.String(s)
}
