package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

// transactionColumns selects a transaction joined with one of its postings
// (alias p): the posting of the wallet the view belongs to.
const transactionColumns = `t.id, t.type, t.amount, t.currency, t.status, t.wallet_id,
	t.counterparty_wallet_id, t.idempotency_key, t.description, t.created_at,
	t.hold_id, t.reverses_transaction_id, p.wallet_id, p.amount, p.balance_after`

// scanTransaction reads transactionColumns, plus extra destinations, and
// builds the view of the posting's wallet. The counterparty is the other
// wallet of a transfer. The idempotency key is shown to the source wallet
// only, because it belongs to the caller that sent the request.
func scanTransaction(row pgx.Row, extra ...any) (ledger.Transaction, error) {
	var t ledger.Transaction
	var id, source, viewer uuid.UUID
	var counterparty, holdID, reverses *uuid.UUID
	var postingAmount int64
	var balanceAfter *int64
	dest := append([]any{&id, &t.Type, &t.Amount, &t.Currency, &t.Status, &source,
		&counterparty, &t.IdempotencyKey, &t.Description, &t.CreatedAt,
		&holdID, &reverses, &viewer, &postingAmount, &balanceAfter}, extra...)
	if err := row.Scan(dest...); err != nil {
		return ledger.Transaction{}, err
	}

	t.ID = id.String()
	t.WalletID = viewer.String()
	if balanceAfter != nil {
		t.BalanceAfter = *balanceAfter
	}
	t.Direction = ledger.DirectionIn
	if postingAmount < 0 {
		t.Direction = ledger.DirectionOut
	}
	if counterparty != nil {
		t.CounterpartyWalletID = counterparty.String()
		if viewer != source {
			t.CounterpartyWalletID = source.String()
		}
	}
	if viewer != source {
		t.IdempotencyKey = ""
	}
	if holdID != nil {
		t.HoldID = holdID.String()
	}
	if reverses != nil {
		t.ReversesTransactionID = reverses.String()
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

// GetTransaction returns transaction id as seen from viewerWalletID, or
// from its source wallet when viewerWalletID is empty.
func (s *Store) GetTransaction(ctx context.Context, id, viewerWalletID string) (ledger.Transaction, error) {
	// Both statements join only constants; the ids are parameters.
	query := `SELECT ` + transactionColumns + ` FROM transactions t
		JOIN postings p ON p.transaction_id = t.id AND p.wallet_id = t.wallet_id WHERE t.id = $1`
	args := []any{id}
	if viewerWalletID != "" {
		query = `SELECT ` + transactionColumns + ` FROM transactions t
			JOIN postings p ON p.transaction_id = t.id WHERE t.id = $1 AND p.wallet_id = $2`
		args = append(args, viewerWalletID)
	}

	t, err := scanTransaction(s.pool.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Transaction{}, apperr.New(apperr.NotFound, "transaction %s not found", id)
	}
	if err != nil {
		return ledger.Transaction{}, translate(err, "read transaction")
	}
	return t, nil
}

// ListTransactions returns a page of the transactions that posted to
// walletID, newest first. The cursor is the id of the wallet's last posting
// on the page.
func (s *Store) ListTransactions(ctx context.Context, walletID string, page ledger.Page) ([]ledger.Transaction, int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+transactionColumns+`, p.id FROM postings p
		JOIN transactions t ON t.id = p.transaction_id
		WHERE p.wallet_id = $1 AND ($2 = 0 OR p.id < $2)
		ORDER BY p.id DESC LIMIT $3`, walletID, page.After, page.Size+1)
	if err != nil {
		return nil, 0, translate(err, "list transactions")
	}
	defer rows.Close()

	var list []ledger.Transaction
	var cursors []int64
	for rows.Next() {
		var cursor int64
		t, err := scanTransaction(rows, &cursor)
		if err != nil {
			return nil, 0, translate(err, "list transactions")
		}
		list = append(list, t)
		cursors = append(cursors, cursor)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, translate(err, "list transactions")
	}

	if len(list) <= page.Size {
		return list, 0, nil
	}
	return list[:page.Size], cursors[page.Size-1], nil
}

// BalanceAt sums the postings of walletID created at or before at. Each
// transaction's time is PostgreSQL's clock after the wallet was locked, so
// the sum at a transaction's time equals its balance_after.
func (s *Store) BalanceAt(ctx context.Context, walletID string, at time.Time) (int64, error) {
	var balance int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM postings
		WHERE wallet_id = $1 AND created_at <= $2`, walletID, at).Scan(&balance)
	if err != nil {
		return 0, translate(err, "sum postings")
	}
	return balance, nil
}
