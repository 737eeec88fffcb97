// Package postgres implements payments.Store on PostgreSQL.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
	"github.com/advancia-pay/ledger/services/payment/internal/payments"
	"github.com/advancia-pay/ledger/services/payment/migrations"
)

// Store is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

var _ payments.Store = (*Store)(nil)

// New returns a Store over pool, which must use the payment schema.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// NewPool connects with search_path set to the payment schema.
func NewPool(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	return pgmigrate.NewPool(ctx, databaseURL, migrations.Schema)
}

const paymentColumns = `id, status, method, amount, refunded_amount, currency, payer_id,
	coalesce(payer_wallet_id::text, ''), payee_wallet_id::text, payment_method,
	coalesce(stripe_payment_intent_id, ''), coalesce(ledger_transaction_id::text, ''),
	description, metadata, failure_reason, disputed, idempotency_key, created_at`

func scanPayment(row pgx.Row) (payments.Payment, error) {
	var p payments.Payment
	var id uuid.UUID
	err := row.Scan(&id, &p.Status, &p.Method, &p.Amount, &p.RefundedAmount, &p.Currency, &p.PayerID,
		&p.PayerWalletID, &p.PayeeWalletID, &p.PaymentMethod, &p.StripePaymentIntentID, &p.LedgerTransactionID,
		&p.Description, &p.Metadata, &p.FailureReason, &p.Disputed, &p.IdempotencyKey, &p.CreatedAt)
	p.ID = id.String()
	p.CreatedAt = p.CreatedAt.UTC()
	return p, err
}

// CreatePayment inserts p or returns the payer's payment with the same
// key.
func (s *Store) CreatePayment(ctx context.Context, p payments.Payment) (payments.Payment, bool, error) {
	var payerWallet *string
	if p.PayerWalletID != "" {
		payerWallet = &p.PayerWalletID
	}
	if p.Metadata == nil {
		p.Metadata = map[string]string{}
	}
	row := s.pool.QueryRow(ctx, `
		INSERT INTO payments (id, status, method, amount, currency, payer_id, idempotency_key, payer_wallet_id,
			payee_wallet_id, payment_method, description, metadata, created_at, updated_at)
		VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), now())
		ON CONFLICT (payer_id, idempotency_key) DO NOTHING
		RETURNING `+paymentColumns,
		p.ID, p.Method, p.Amount, p.Currency, p.PayerID, p.IdempotencyKey, payerWallet,
		p.PayeeWalletID, p.PaymentMethod, p.Description, p.Metadata)
	out, err := scanPayment(row)
	if err == nil {
		return out, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return payments.Payment{}, false, fmt.Errorf("insert payment: %w", err)
	}
	out, err = scanPayment(s.pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE payer_id = $1 AND idempotency_key = $2`, p.PayerID, p.IdempotencyKey))
	if err != nil {
		return payments.Payment{}, false, fmt.Errorf("read existing payment: %w", err)
	}
	return out, false, nil
}

// GetPayment returns one payment.
func (s *Store) GetPayment(ctx context.Context, id string) (payments.Payment, error) {
	p, err := scanPayment(s.pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return payments.Payment{}, apperr.New(apperr.NotFound, "payment %s not found", id)
	}
	if err != nil {
		return payments.Payment{}, fmt.Errorf("read payment: %w", err)
	}
	return p, nil
}

// ListPayments returns a payer's payments, newest first; the cursor is the
// last payment's id (UUIDv7, so ids order by creation).
func (s *Store) ListPayments(ctx context.Context, payerID string, page payments.Page) ([]payments.Payment, string, error) {
	after := page.After
	if after == "" {
		after = "ffffffff-ffff-ffff-ffff-ffffffffffff"
	}
	rows, err := s.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE payer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, payerID, after, page.Size+1)
	if err != nil {
		return nil, "", fmt.Errorf("list payments: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (payments.Payment, error) { return scanPayment(r) })
	if err != nil {
		return nil, "", fmt.Errorf("list payments: %w", err)
	}
	if len(list) <= page.Size {
		return list, "", nil
	}
	return list[:page.Size], list[page.Size-1].ID, nil
}

// SetPaymentIntent records the PaymentIntent of a card payment.
func (s *Store) SetPaymentIntent(ctx context.Context, paymentID, intentID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE payments SET stripe_payment_intent_id = $2, updated_at = now()
		WHERE id = $1 AND stripe_payment_intent_id IS NULL`, paymentID, intentID)
	if err != nil {
		return fmt.Errorf("record payment intent: %w", err)
	}
	return nil
}

// MarkSucceeded moves a pending payment forward and queues the payee's
// credit when asked.
func (s *Store) MarkSucceeded(ctx context.Context, paymentID, ledgerTransactionID string, creditPayee bool) (bool, error) {
	var changed bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		changed, err = markSucceeded(ctx, tx, paymentID, ledgerTransactionID, creditPayee)
		return err
	})
	return changed, err
}

func markSucceeded(ctx context.Context, tx pgx.Tx, paymentID, ledgerTransactionID string, creditPayee bool) (bool, error) {
	var ledgerTx *string
	if ledgerTransactionID != "" {
		ledgerTx = &ledgerTransactionID
	}
	tag, err := tx.Exec(ctx, `UPDATE payments SET status = 'succeeded', ledger_transaction_id = coalesce($2, ledger_transaction_id),
		updated_at = now() WHERE id = $1 AND status = 'pending'`, paymentID, ledgerTx)
	if err != nil {
		return false, fmt.Errorf("mark payment succeeded: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if creditPayee {
		if _, err := tx.Exec(ctx, `INSERT INTO outbox (kind, payment_id, created_at) VALUES ('credit_payee', $1, now())`, paymentID); err != nil {
			return false, fmt.Errorf("queue payee credit: %w", err)
		}
	}
	return true, nil
}

// MarkFailed moves a pending payment to failed.
func (s *Store) MarkFailed(ctx context.Context, paymentID, reason string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE payments SET status = 'failed', failure_reason = $2, updated_at = now()
		WHERE id = $1 AND status = 'pending'`, paymentID, reason)
	if err != nil {
		return false, fmt.Errorf("mark payment failed: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
