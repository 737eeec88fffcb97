package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

// reverse posts the opposite of op.Amount of transaction op.TransactionID.
// The reversals of a transaction never sum to more than its amount: the
// sum is read in the same SERIALIZABLE transaction that writes the new
// reversal, with the wallets locked.
func (b *batch) reverse(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Result, error) {
	return b.post(ctx, q, op, func() ([]leg, error) {
		original, err := b.reversible(ctx, q, op)
		if err != nil {
			return nil, err
		}
		return b.reversalLegs(ctx, q, op, original)
	})
}

// reversible checks that op may reverse its transaction for op.Amount.
func (b *batch) reversible(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Transaction, error) {
	var original ledger.Transaction
	var reversed int64
	err := q.QueryRow(ctx, `SELECT t.type, t.amount,
			(SELECT coalesce(sum(r.amount), 0) FROM transactions r
			 WHERE r.reverses_transaction_id = t.id
			   AND NOT (r.wallet_id = $2 AND r.actor = $3 AND r.idempotency_key = $4))
		FROM transactions t WHERE t.id = $1`,
		op.TransactionID, op.WalletID, op.Actor, op.IdempotencyKey).Scan(&original.Type, &original.Amount, &reversed)
	if err != nil {
		return ledger.Transaction{}, fmt.Errorf("read reversed transaction: %w", err)
	}

	if original.Type == ledger.TypeReversal {
		return ledger.Transaction{}, apperr.New(apperr.InvalidRequest, "transaction %s is a reversal and cannot be reversed", op.TransactionID)
	}
	if op.Amount > original.Amount-reversed {
		return ledger.Transaction{}, apperr.New(apperr.ReversalExceedsTransaction,
			"transaction %s of %d has %d left to reverse, %d requested", op.TransactionID, original.Amount, original.Amount-reversed, op.Amount)
	}
	return original, nil
}

// reversalLegs mirrors the original postings for op.Amount, with
// op.WalletID's leg first.
func (b *batch) reversalLegs(ctx context.Context, q pgx.Tx, op ledger.Operation, original ledger.Transaction) ([]leg, error) {
	rows, err := q.Query(ctx, `SELECT wallet_id::text, amount FROM postings WHERE transaction_id = $1`, op.TransactionID)
	if err != nil {
		return nil, fmt.Errorf("read reversed postings: %w", err)
	}
	postings, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		WalletID string
		Amount   int64
	}])
	if err != nil {
		return nil, fmt.Errorf("read reversed postings: %w", err)
	}

	var legs []leg
	for _, p := range postings {
		l, err := b.reversalLeg(p.WalletID, p.Amount, op.Amount)
		if err != nil {
			return nil, err
		}
		if p.WalletID == op.WalletID {
			legs = append([]leg{l}, legs...)
		} else {
			legs = append(legs, l)
		}
	}
	return legs, nil
}

// reversalLeg moves amount against the direction of an original posting.
// User wallets are checked for funds and overflow; system wallets keep no
// balance.
func (b *batch) reversalLeg(walletID string, originalAmount, amount int64) (leg, error) {
	w := b.wallets[walletID]
	switch {
	case w == nil && originalAmount > 0:
		return leg{walletID: walletID, amount: -amount}, nil
	case w == nil:
		return leg{walletID: walletID, amount: amount}, nil
	case originalAmount > 0:
		return debited(w, amount, w.available())
	default:
		return credited(w, amount)
	}
}
