package postgres

import (
	"bytes"
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/money"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

// leg is one posting. balanceAfter is nil for a system wallet.
type leg struct {
	walletID     string
	amount       int64
	balanceAfter *int64
}

// post writes a transaction: its row first (so a reused key replays), then
// the legs that computeLegs returns, the balances and the audit events.
// The first leg must be op.WalletID's.
func (b *batch) post(ctx context.Context, q pgx.Tx, op ledger.Operation, computeLegs func() ([]leg, error)) (ledger.Result, error) {
	txID, err := uuid.NewV7()
	if err != nil {
		return ledger.Result{}, fmt.Errorf("generate transaction id: %w", err)
	}
	fresh, err := b.insertTransaction(ctx, q, txID, op)
	if err != nil {
		return ledger.Result{}, err
	}
	if !fresh {
		return b.replay(ctx, q, op)
	}

	legs, err := computeLegs()
	if err != nil {
		return ledger.Result{}, err
	}
	if err := b.writeLegs(ctx, q, txID, op, legs); err != nil {
		return ledger.Result{}, err
	}
	for _, l := range legs {
		if w := b.wallets[l.walletID]; w != nil {
			w.balance = *l.balanceAfter
		}
	}

	direction := ledger.DirectionIn
	if legs[0].amount < 0 {
		direction = ledger.DirectionOut
	}
	return ledger.Result{Transaction: ledger.Transaction{
		ID:                    txID.String(),
		Type:                  op.Type,
		Amount:                op.Amount,
		Currency:              op.Currency,
		Status:                ledger.StatusPosted,
		WalletID:              op.WalletID,
		CounterpartyWalletID:  op.ToWalletID,
		BalanceAfter:          *legs[0].balanceAfter,
		IdempotencyKey:        op.IdempotencyKey,
		Description:           op.Description,
		Direction:             direction,
		HoldID:                op.HoldID,
		ReversesTransactionID: op.TransactionID,
		CreatedAt:             b.now,
	}}, nil
}

// insertTransaction writes the transaction row and reports whether it is
// new; false means the idempotency key was used before.
func (b *batch) insertTransaction(ctx context.Context, q pgx.Tx, id uuid.UUID, op ledger.Operation) (bool, error) {
	tag, err := q.Exec(ctx, `
		INSERT INTO transactions (id, type, status, wallet_id, counterparty_wallet_id, amount, currency,
			idempotency_key, request_hash, description, actor, request_id, created_at,
			hold_id, reverses_transaction_id)
		VALUES ($1, $2, 'posted', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (wallet_id, actor, idempotency_key) DO NOTHING`,
		id, op.Type, op.WalletID, nullable(op.ToWalletID), op.Amount, op.Currency,
		op.IdempotencyKey, op.RequestHash, op.Description, op.Actor, op.RequestID, b.now,
		nullable(op.HoldID), nullable(op.TransactionID))
	if err != nil {
		return false, fmt.Errorf("insert transaction: %w", err)
	}
	if tag.RowsAffected() == 0 && duplicateKey != nil {
		op.IdempotencyKey = duplicateKey(op.IdempotencyKey)
		return b.insertTransaction(ctx, q, id, op)
	}
	return tag.RowsAffected() == 1, nil
}

// nullable maps "" to SQL NULL.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// replay returns the transaction that op's caller first wrote with op's
// idempotency key, or idempotency_key_reused when that key came with
// another request.
func (b *batch) replay(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Result, error) {
	row := q.QueryRow(ctx, `SELECT `+transactionColumns+`, t.request_hash
		FROM transactions t JOIN postings p ON p.transaction_id = t.id AND p.wallet_id = t.wallet_id
		WHERE t.wallet_id = $1 AND t.actor = $2 AND t.idempotency_key = $3`, op.WalletID, op.Actor, op.IdempotencyKey)
	var hash []byte
	tx, err := scanTransaction(row, &hash)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("read replayed transaction: %w", err)
	}
	if !bytes.Equal(hash, op.RequestHash) {
		return ledger.Result{}, keyReused(op)
	}
	return ledger.Result{Transaction: tx, Replayed: true}, nil
}

func keyReused(op ledger.Operation) error {
	return apperr.New(apperr.IdempotencyKeyReused,
		"idempotency key %q was already used with a different request", op.IdempotencyKey)
}

// movementLegs computes the postings of a credit, debit or transfer
// against the locked balances, checking currency, funds and overflow.
func (b *batch) movementLegs(op ledger.Operation) ([]leg, error) {
	src, err := b.wallet(op.WalletID)
	if err != nil {
		return nil, err
	}
	if src.currency != op.Currency {
		return nil, apperr.New(apperr.CurrencyMismatch, "wallet %s holds %s, not %s", src.id, src.currency, op.Currency)
	}

	switch op.Type {
	case ledger.TypeCredit:
		in, err := credited(src, op.Amount)
		return []leg{in, {walletID: b.clearing[op.Currency], amount: -op.Amount}}, err
	case ledger.TypeDebit:
		out, err := debited(src, op.Amount, src.available())
		return []leg{out, {walletID: b.clearing[op.Currency], amount: op.Amount}}, err
	}

	dst, err := b.receiver(src, op.ToWalletID)
	if err != nil {
		return nil, err
	}
	out, err := debited(src, op.Amount, src.available())
	if err != nil {
		return nil, err
	}
	in, err := credited(dst, op.Amount)
	if err != nil {
		return nil, err
	}
	return []leg{out, in}, nil
}

// receiver returns the locked wallet that money from src goes to, checking
// that it holds the same currency.
func (b *batch) receiver(src *lockedWallet, id string) (*lockedWallet, error) {
	dst, err := b.wallet(id)
	if err != nil {
		return nil, err
	}
	if dst.currency != src.currency {
		return nil, apperr.New(apperr.CurrencyMismatch,
			"cannot move %s from wallet %s to wallet %s, which holds %s", src.currency, src.id, dst.id, dst.currency)
	}
	return dst, nil
}

// debited returns the leg taking amount out of w, which may spend at most
// spendable.
func debited(w *lockedWallet, amount, spendable int64) (leg, error) {
	after, err := money.Sub(w.balance, amount)
	if err != nil || amount > spendable || after < 0 {
		return leg{}, apperr.New(apperr.InsufficientFunds,
			"wallet %s has %d available, %d requested", w.id, max(spendable, 0), amount)
	}
	return leg{walletID: w.id, amount: -amount, balanceAfter: &after}, nil
}

func credited(w *lockedWallet, amount int64) (leg, error) {
	after, err := money.Add(w.balance, amount)
	if err != nil {
		return leg{}, apperr.Wrap(err, apperr.InvalidRequest,
			"amount %d would overflow the balance of wallet %s", amount, w.id)
	}
	return leg{walletID: w.id, amount: amount, balanceAfter: &after}, nil
}

// writeLegs writes the postings (in one statement, as the balance trigger
// requires), the new user-wallet balances and one audit event per user
// wallet, in one round trip.
func (b *batch) writeLegs(ctx context.Context, q pgx.Tx, txID uuid.UUID, op ledger.Operation, legs []leg) error {
	walletIDs := make([]string, len(legs))
	amounts := make([]int64, len(legs))
	balances := make([]*int64, len(legs))
	for i, l := range legs {
		walletIDs[i], amounts[i], balances[i] = l.walletID, l.amount, l.balanceAfter
	}

	var pb pgx.Batch
	pb.Queue(`INSERT INTO postings (transaction_id, wallet_id, amount, currency, balance_after, created_at)
		SELECT $1, w, a, $2, ba, $3 FROM unnest($4::uuid[], $5::bigint[], $6::bigint[]) AS leg (w, a, ba)`,
		txID, op.Currency, b.now, walletIDs, amounts, balances)
	for _, l := range legs {
		if l.balanceAfter == nil {
			continue
		}
		pb.Queue(`UPDATE wallets SET balance = $2 WHERE id = $1`, l.walletID, *l.balanceAfter)
		b.queueAudit(&pb, op, auditEvent{walletID: l.walletID, action: op.Type, transactionID: txID.String(), holdID: op.HoldID, amount: l.amount})
	}

	if err := q.SendBatch(ctx, &pb).Close(); err != nil {
		return fmt.Errorf("write postings: %w", err)
	}
	return nil
}
