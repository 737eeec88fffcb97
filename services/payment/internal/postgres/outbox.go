package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/services/payment/internal/payments"
)

// PendingOutbox returns up to limit unprocessed entries, those tried least
// often first and then the oldest, so entries that keep failing cannot
// hold back newer ones.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]payments.OutboxEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, payment_id::text, coalesce(refund_id::text, ''), attempts, created_at
		FROM outbox WHERE processed_at IS NULL ORDER BY attempts, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (payments.OutboxEntry, error) {
		var e payments.OutboxEntry
		err := r.Scan(&e.ID, &e.Kind, &e.PaymentID, &e.RefundID, &e.Attempts, &e.CreatedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return entries, nil
}

// FinishOutbox marks an entry processed, and records the payee credit's
// ledger transaction on the payment.
func (s *Store) FinishOutbox(ctx context.Context, e payments.OutboxEntry, ledgerTransactionID string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE outbox SET processed_at = now(), attempts = attempts + 1, last_error = ''
			WHERE id = $1`, e.ID); err != nil {
			return fmt.Errorf("finish outbox entry: %w", err)
		}
		if e.Kind != payments.OutboxCreditPayee {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE payments SET ledger_transaction_id = $2, updated_at = now() WHERE id = $1`,
			e.PaymentID, ledgerTransactionID)
		if err != nil {
			return fmt.Errorf("record payee credit: %w", err)
		}
		return nil
	})
}

// FailOutbox records a failed attempt; the entry stays for the next run.
func (s *Store) FailOutbox(ctx context.Context, e payments.OutboxEntry, cause error) error {
	_, err := s.pool.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
		e.ID, truncate(cause.Error(), 500))
	if err != nil {
		return fmt.Errorf("record outbox failure: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
