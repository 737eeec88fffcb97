package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/services/payment/internal/payments"
)

const refundColumns = `id, payment_id::text, amount, status, reason, coalesce(stripe_refund_id, ''),
	requested_by, idempotency_key, created_at`

func scanRefund(row pgx.Row) (payments.Refund, error) {
	var r payments.Refund
	var id uuid.UUID
	err := row.Scan(&id, &r.PaymentID, &r.Amount, &r.Status, &r.Reason, &r.StripeRefundID,
		&r.RequestedBy, &r.IdempotencyKey, &r.CreatedAt)
	r.ID = id.String()
	r.CreatedAt = r.CreatedAt.UTC()
	return r, err
}

// CreateRefund records a pending refund within the payment's amount. The
// payment row is locked for the check and the insert, so concurrent
// refunds are decided one after the other.
func (s *Store) CreateRefund(ctx context.Context, r payments.Refund) (payments.Refund, bool, error) {
	var out payments.Refund
	var created bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, created, err = createRefund(ctx, tx, r)
		return err
	})
	return out, created, err
}

func createRefund(ctx context.Context, tx pgx.Tx, r payments.Refund) (payments.Refund, bool, error) {
	var status string
	var amount, refunded int64
	var disputed bool
	err := tx.QueryRow(ctx, `SELECT status, amount, refunded_amount, disputed FROM payments WHERE id = $1 FOR UPDATE`,
		r.PaymentID).Scan(&status, &amount, &refunded, &disputed)
	if errors.Is(err, pgx.ErrNoRows) {
		return payments.Refund{}, false, apperr.New(apperr.NotFound, "payment %s not found", r.PaymentID)
	}
	if err != nil {
		return payments.Refund{}, false, fmt.Errorf("lock payment: %w", err)
	}

	existing, err := scanRefund(tx.QueryRow(ctx, `SELECT `+refundColumns+` FROM refunds
		WHERE payment_id = $1 AND requested_by = $2 AND idempotency_key = $3`, r.PaymentID, r.RequestedBy, r.IdempotencyKey))
	if err == nil {
		return existing, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return payments.Refund{}, false, fmt.Errorf("read refund: %w", err)
	}

	switch {
	case status != payments.StatusSucceeded:
		return payments.Refund{}, false, apperr.New(apperr.PaymentNotRefundable, "payment %s is %s; only succeeded payments can be refunded", r.PaymentID, status)
	case disputed:
		return payments.Refund{}, false, apperr.New(apperr.PaymentNotRefundable, "payment %s is disputed; refunds wait until the dispute is settled", r.PaymentID)
	case refunded+r.Amount > amount:
		return payments.Refund{}, false, apperr.New(apperr.RefundExceedsPayment,
			"payment %s of %d has %d left to refund, %d requested", r.PaymentID, amount, amount-refunded, r.Amount)
	}

	out, err := scanRefund(tx.QueryRow(ctx, `
		INSERT INTO refunds (id, payment_id, amount, status, reason, requested_by, idempotency_key, created_at, updated_at)
		VALUES ($1, $2, $3, 'pending', $4, $5, $6, now(), now()) RETURNING `+refundColumns,
		r.ID, r.PaymentID, r.Amount, r.Reason, r.RequestedBy, r.IdempotencyKey))
	if err != nil {
		return payments.Refund{}, false, fmt.Errorf("insert refund: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET refunded_amount = refunded_amount + $2, updated_at = now() WHERE id = $1`,
		r.PaymentID, r.Amount); err != nil {
		return payments.Refund{}, false, fmt.Errorf("count refund: %w", err)
	}
	return out, true, nil
}

// CompleteRefund moves a pending refund forward. A succeeded refund queues
// its ledger reversal; a failed one gives its amount back to the payment.
func (s *Store) CompleteRefund(ctx context.Context, refundID, stripeRefundID, status string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return completeRefund(ctx, tx, refundID, stripeRefundID, status)
	})
}

func completeRefund(ctx context.Context, tx pgx.Tx, refundID, stripeRefundID, status string) error {
	var stripeID *string
	if stripeRefundID != "" {
		stripeID = &stripeRefundID
	}
	var paymentID string
	var amount int64
	err := tx.QueryRow(ctx, `UPDATE refunds SET status = $2, stripe_refund_id = coalesce($3, stripe_refund_id), updated_at = now()
		WHERE id = $1 AND status = 'pending' RETURNING payment_id::text, amount`, refundID, status, stripeID).Scan(&paymentID, &amount)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // already final: states only move forward
	}
	if err != nil {
		return fmt.Errorf("complete refund: %w", err)
	}

	if status == payments.StatusFailed {
		_, err = tx.Exec(ctx, `UPDATE payments SET refunded_amount = refunded_amount - $2, updated_at = now() WHERE id = $1`, paymentID, amount)
	} else {
		_, err = tx.Exec(ctx, `INSERT INTO outbox (kind, payment_id, refund_id, created_at) VALUES ('reverse_for_refund', $1, $2, now())`,
			paymentID, refundID)
	}
	if err != nil {
		return fmt.Errorf("settle refund: %w", err)
	}
	return nil
}

// ListRefunds returns a payment's refunds, oldest first.
func (s *Store) ListRefunds(ctx context.Context, paymentID string) ([]payments.Refund, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+refundColumns+` FROM refunds WHERE payment_id = $1 ORDER BY created_at, id`, paymentID)
	if err != nil {
		return nil, fmt.Errorf("list refunds: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (payments.Refund, error) { return scanRefund(r) })
	if err != nil {
		return nil, fmt.Errorf("list refunds: %w", err)
	}
	return list, nil
}

// GetRefund returns one refund.
func (s *Store) GetRefund(ctx context.Context, id string) (payments.Refund, error) {
	r, err := scanRefund(s.pool.QueryRow(ctx, `SELECT `+refundColumns+` FROM refunds WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return payments.Refund{}, apperr.New(apperr.NotFound, "refund %s not found", id)
	}
	return r, err
}
