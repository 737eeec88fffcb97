package payments

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
)

// CreateRefund returns amount of a succeeded payment to the payer. Only
// services may refund. The refund is recorded first, and the sum of the
// payment's refunds is checked under the payment's row lock. Then Stripe
// refunds a card payment with a key derived from the refund id, and the
// ledger reversal follows through the outbox.
func (s *Service) CreateRefund(ctx context.Context, caller auth.Identity, r Refund) (out Refund, err error) {
	defer func() { recordRefund(ctx, out, err) }()
	if !caller.IsService() {
		return Refund{}, apperr.New(apperr.PermissionDenied, "only services may refund payments")
	}
	if _, err := uuid.Parse(r.PaymentID); err != nil {
		return Refund{}, apperr.New(apperr.InvalidRequest, "payment_id must be a UUID")
	}
	if r.Amount <= 0 {
		return Refund{}, apperr.New(apperr.InvalidRequest, "amount must be a positive whole number of minor units, got %d", r.Amount)
	}
	p, err := s.store.GetPayment(ctx, r.PaymentID)
	if err != nil {
		return Refund{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Refund{}, fmt.Errorf("generate refund id: %w", err)
	}
	r.ID, r.RequestedBy = id.String(), caller.Subject

	stored, _, err := s.store.CreateRefund(ctx, r)
	if err != nil {
		return Refund{}, err
	}
	if stored.Amount != r.Amount {
		return Refund{}, apperr.New(apperr.IdempotencyKeyReused, "idempotency key %q was already used for another refund", r.IdempotencyKey)
	}
	if stored.Status != StatusPending {
		return stored, nil
	}
	return s.settleRefund(ctx, p, stored)
}

// settleRefund completes a pending refund: at once for a wallet payment,
// through Stripe for a card payment.
func (s *Service) settleRefund(ctx context.Context, p Payment, r Refund) (Refund, error) {
	stripeID, status := "", StatusSucceeded
	if p.Method == MethodCard {
		var err error
		var stripeStatus string
		stripeID, stripeStatus, err = s.cards.Refund(ctx, p.StripePaymentIntentID, r.Amount, r.Reason, "refund:"+r.ID)
		if err != nil {
			return Refund{}, err
		}
		status = refundStatus(stripeStatus)
	}
	if status != StatusPending || stripeID != "" {
		if err := s.store.CompleteRefund(ctx, r.ID, stripeID, status); err != nil {
			return Refund{}, err
		}
	}
	if status == StatusSucceeded {
		s.relay.Wake()
	}
	return s.store.GetRefund(ctx, r.ID)
}

// refundStatus maps Stripe's refund status to ours; pending waits for the
// refund.updated webhook.
func refundStatus(stripeStatus string) string {
	switch stripeStatus {
	case "succeeded":
		return StatusSucceeded
	case "failed", "canceled":
		return StatusFailed
	}
	return StatusPending
}

// ListRefunds returns a payment's refunds to its payer or a service.
func (s *Service) ListRefunds(ctx context.Context, caller auth.Identity, paymentID string) ([]Refund, error) {
	if _, err := s.GetPayment(ctx, caller, paymentID); err != nil {
		return nil, err
	}
	return s.store.ListRefunds(ctx, paymentID)
}

// HandleEvent applies a verified Stripe event once, reports whether it
// was new, and wakes the relay when it may have queued a ledger call.
func (s *Service) HandleEvent(ctx context.Context, ev Event) (bool, error) {
	applied, err := s.store.HandleEvent(ctx, ev)
	switch {
	case err != nil:
		recordWebhook(ctx, ev.Type, "failed")
		return false, err
	case applied:
		recordWebhook(ctx, ev.Type, "applied")
		s.relay.Wake()
	default:
		recordWebhook(ctx, ev.Type, "duplicate")
	}
	return applied, nil
}
