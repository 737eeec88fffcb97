package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/services/payment/internal/payments"
)

// HandleEvent records ev's id and applies it in one transaction, so a
// failure leaves no trace and Stripe's retry applies it again, and a
// repeated or concurrent delivery of the same id applies nothing.
func (s *Store) HandleEvent(ctx context.Context, ev payments.Event) (bool, error) {
	var applied bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO webhook_events (id, type, received_at) VALUES ($1, $2, now())
			ON CONFLICT (id) DO NOTHING`, ev.ID, ev.Type)
		if err != nil {
			return fmt.Errorf("record event: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		applied = true
		return applyEvent(ctx, tx, ev)
	})
	return applied, err
}

func applyEvent(ctx context.Context, tx pgx.Tx, ev payments.Event) error {
	switch ev.Type {
	case "payment_intent.succeeded":
		id, err := paymentOf(ctx, tx, ev)
		if err != nil || id == "" {
			return err
		}
		_, err = markSucceeded(ctx, tx, id, "", true)
		return err
	case "payment_intent.payment_failed":
		id, err := paymentOf(ctx, tx, ev)
		if err != nil || id == "" {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE payments SET status = 'failed', failure_reason = $2, updated_at = now()
			WHERE id = $1 AND status = 'pending'`, id, "card_"+ev.DeclineCode)
		return err
	case "refund.updated", "charge.refunded":
		return applyRefundEvent(ctx, tx, ev)
	case "charge.dispute.created":
		return applyDispute(ctx, tx, ev)
	}
	return nil
}

// paymentOf finds the payment an event is about, by our id from the
// PaymentIntent's metadata or by the PaymentIntent id. "" means none.
func paymentOf(ctx context.Context, tx pgx.Tx, ev payments.Event) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `SELECT id::text FROM payments
		WHERE ($1 <> '' AND id::text = $1) OR ($2 <> '' AND stripe_payment_intent_id = $2) LIMIT 1`,
		ev.PaymentID, ev.PaymentIntentID).Scan(&id)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find payment of event: %w", err)
	}
	if ev.PaymentIntentID != "" {
		if _, err := tx.Exec(ctx, `UPDATE payments SET stripe_payment_intent_id = $2
			WHERE id = $1 AND stripe_payment_intent_id IS NULL`, id, ev.PaymentIntentID); err != nil {
			return "", fmt.Errorf("record payment intent: %w", err)
		}
	}
	return id, nil
}

func applyRefundEvent(ctx context.Context, tx pgx.Tx, ev payments.Event) error {
	if ev.StripeRefundID == "" {
		return nil
	}
	var refundID string
	err := tx.QueryRow(ctx, `SELECT id::text FROM refunds WHERE stripe_refund_id = $1`, ev.StripeRefundID).Scan(&refundID)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find refund of event: %w", err)
	}
	switch ev.RefundStatus {
	case "succeeded":
		return completeRefund(ctx, tx, refundID, "", payments.StatusSucceeded)
	case "failed", "canceled":
		return completeRefund(ctx, tx, refundID, "", payments.StatusFailed)
	}
	return nil
}

func applyDispute(ctx context.Context, tx pgx.Tx, ev payments.Event) error {
	id, err := paymentOf(ctx, tx, ev)
	if err != nil || id == "" {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO disputes (id, payment_id, status, amount, created_at)
		VALUES ($1, $2, $3, $4, now()) ON CONFLICT (id) DO NOTHING`, ev.DisputeID, id, ev.DisputeStatus, ev.DisputeAmount); err != nil {
		return fmt.Errorf("record dispute: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE payments SET disputed = true, updated_at = now() WHERE id = $1`, id)
	return err
}
