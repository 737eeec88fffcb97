package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/money"
	"github.com/advancia-pay/ledger/pkg/pgtx"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

// lockedWallet is a user wallet row held FOR UPDATE by the current
// transaction; balance tracks the writes of earlier operations of the batch.
type lockedWallet struct {
	id       string
	currency string
	balance  int64
}

// batch is the state of one transaction attempt of Apply.
type batch struct {
	tx       pgx.Tx
	now      time.Time
	wallets  map[string]*lockedWallet
	clearing map[string]string
}

// Apply is the posting engine. It applies ops in one SERIALIZABLE
// transaction that locks every user wallet involved in id order, so that
// concurrent batches never deadlock, and commits once. Each operation
// writes its transaction row first, so a reused idempotency key replays
// the original even when the balance has changed since. An operation that
// fails for a domain reason (insufficient funds, currency mismatch) is
// rolled back alone through a savepoint; an infrastructure failure fails
// the whole batch.
func (s *Store) Apply(ctx context.Context, ops []ledger.Operation) []ledger.Result {
	results := make([]ledger.Result, len(ops))
	clearing, err := s.clearingWallets(ctx, ops)
	if err != nil {
		return failAll(results, err)
	}

	err = pgtx.InTx(ctx, s.pool, s.opts.Tx, func(tx pgx.Tx) error {
		clear(results)
		b := &batch{tx: tx, now: s.now(), clearing: clearing}
		if err := b.lockWallets(ctx, ops); err != nil {
			return err
		}
		if s.opts.InTxHook != nil {
			s.opts.InTxHook(ctx)
		}
		return b.applyAll(ctx, ops, results)
	})
	if err != nil {
		return failAll(results, translate(err, "apply operations"))
	}
	return results
}

func failAll(results []ledger.Result, err error) []ledger.Result {
	for i := range results {
		results[i] = ledger.Result{Err: err}
	}
	return results
}

// clearingWallets returns the clearing wallet id of every currency that the
// credits and debits among ops touch.
func (s *Store) clearingWallets(ctx context.Context, ops []ledger.Operation) (map[string]string, error) {
	ids := make(map[string]string)
	for _, op := range ops {
		if op.Type == ledger.TypeTransfer || ids[op.Currency] != "" {
			continue
		}
		id, err := s.clearingWallet(ctx, op.Currency)
		if err != nil {
			return nil, err
		}
		ids[op.Currency] = id
	}
	return ids, nil
}

// lockWallets locks every user wallet of the batch, sorted by id.
func (b *batch) lockWallets(ctx context.Context, ops []ledger.Operation) error {
	var ids []string
	for _, op := range ops {
		ids = append(ids, op.WalletIDs()...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)

	rows, err := b.tx.Query(ctx, `SELECT id, currency, balance FROM wallets
		WHERE id = ANY($1) AND kind = 'user' ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return fmt.Errorf("lock wallets: %w", err)
	}
	locked, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*lockedWallet, error) {
		var w lockedWallet
		var id uuid.UUID
		err := r.Scan(&id, &w.currency, &w.balance)
		w.id = id.String()
		return &w, err
	})
	if err != nil {
		return fmt.Errorf("lock wallets: %w", err)
	}

	b.wallets = make(map[string]*lockedWallet, len(locked))
	for _, w := range locked {
		b.wallets[w.id] = w
	}
	return nil
}

// applyAll applies each operation; with more than one, each runs inside
// its own savepoint so that a rejected one leaves no trace.
func (b *batch) applyAll(ctx context.Context, ops []ledger.Operation, results []ledger.Result) error {
	if len(ops) == 1 {
		res, err := b.apply(ctx, b.tx, ops[0])
		results[0] = res
		return err
	}
	for i, op := range ops {
		sp, err := b.tx.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin savepoint: %w", err)
		}
		res, err := b.apply(ctx, sp, op)
		if isDomainError(err) {
			results[i] = ledger.Result{Err: err}
			err = sp.Rollback(ctx)
		} else if err == nil {
			results[i] = res
			err = sp.Commit(ctx)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func isDomainError(err error) bool {
	var appErr *apperr.Error
	return errors.As(err, &appErr)
}

// apply writes one operation: its transaction row, then its postings,
// balances and audit event. A domain error is returned with the
// transaction row already written, so the caller must roll back.
func (b *batch) apply(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Result, error) {
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

	legs, err := b.legs(op)
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

	return ledger.Result{Transaction: ledger.Transaction{
		ID:                   txID.String(),
		Type:                 op.Type,
		Amount:               op.Amount,
		Currency:             op.Currency,
		Status:               ledger.StatusPosted,
		WalletID:             op.WalletID,
		CounterpartyWalletID: op.ToWalletID,
		BalanceAfter:         *legs[0].balanceAfter,
		IdempotencyKey:       op.IdempotencyKey,
		Description:          op.Description,
		Direction:            sourceDirection(op.Type),
		CreatedAt:            b.now,
	}}, nil
}

// insertTransaction writes the transaction row and reports whether it is
// new; false means the idempotency key was used before.
func (b *batch) insertTransaction(ctx context.Context, q pgx.Tx, id uuid.UUID, op ledger.Operation) (bool, error) {
	var counterparty *string
	if op.ToWalletID != "" {
		counterparty = &op.ToWalletID
	}
	tag, err := q.Exec(ctx, `
		INSERT INTO transactions (id, type, status, wallet_id, counterparty_wallet_id, amount, currency,
			idempotency_key, request_hash, description, actor, request_id, created_at)
		VALUES ($1, $2, 'posted', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (wallet_id, idempotency_key) DO NOTHING`,
		id, op.Type, op.WalletID, counterparty, op.Amount, op.Currency,
		op.IdempotencyKey, op.RequestHash, op.Description, op.Actor, op.RequestID, b.now)
	if err != nil {
		return false, fmt.Errorf("insert transaction: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// replay returns the transaction first written with op's idempotency key,
// or idempotency_key_reused when that key came with another request.
func (b *batch) replay(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Result, error) {
	row := q.QueryRow(ctx, `SELECT `+transactionColumns+`, t.request_hash
		FROM transactions t JOIN postings p ON p.transaction_id = t.id AND p.wallet_id = t.wallet_id
		WHERE t.wallet_id = $1 AND t.idempotency_key = $2`, op.WalletID, op.IdempotencyKey)
	var hash []byte
	tx, err := scanTransaction(row, &hash)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("read replayed transaction: %w", err)
	}
	if !bytes.Equal(hash, op.RequestHash) {
		return ledger.Result{}, apperr.New(apperr.IdempotencyKeyReused,
			"idempotency key %q was already used with a different request", op.IdempotencyKey)
	}
	return ledger.Result{Transaction: tx, Replayed: true}, nil
}

func sourceDirection(opType string) string {
	if opType == ledger.TypeCredit {
		return ledger.DirectionIn
	}
	return ledger.DirectionOut
}

// leg is one posting. balanceAfter is nil for a system wallet.
type leg struct {
	walletID     string
	amount       int64
	balanceAfter *int64
}

// legs computes the postings of op against the locked balances, checking
// currency, funds and overflow. The first leg is always op.WalletID's.
func (b *batch) legs(op ledger.Operation) ([]leg, error) {
	src := b.wallets[op.WalletID]
	if src == nil {
		return nil, apperr.New(apperr.NotFound, "wallet %s not found", op.WalletID)
	}
	if src.currency != op.Currency {
		return nil, apperr.New(apperr.CurrencyMismatch, "wallet %s holds %s, not %s", src.id, src.currency, op.Currency)
	}

	switch op.Type {
	case ledger.TypeCredit:
		in, err := credited(src, op.Amount)
		return []leg{in, {walletID: b.clearing[op.Currency], amount: -op.Amount}}, err
	case ledger.TypeDebit:
		out, err := debited(src, op.Amount)
		return []leg{out, {walletID: b.clearing[op.Currency], amount: op.Amount}}, err
	case ledger.TypeTransfer:
		return b.transferLegs(src, op)
	}
	return nil, fmt.Errorf("unknown operation type %q", op.Type)
}

func (b *batch) transferLegs(src *lockedWallet, op ledger.Operation) ([]leg, error) {
	dst := b.wallets[op.ToWalletID]
	if dst == nil {
		return nil, apperr.New(apperr.NotFound, "wallet %s not found", op.ToWalletID)
	}
	if dst.currency != src.currency {
		return nil, apperr.New(apperr.CurrencyMismatch,
			"cannot transfer %s from wallet %s to wallet %s, which holds %s", src.currency, src.id, dst.id, dst.currency)
	}
	out, err := debited(src, op.Amount)
	if err != nil {
		return nil, err
	}
	in, err := credited(dst, op.Amount)
	if err != nil {
		return nil, err
	}
	return []leg{out, in}, nil
}

func debited(w *lockedWallet, amount int64) (leg, error) {
	after, err := money.Sub(w.balance, amount)
	if err != nil || after < 0 {
		return leg{}, apperr.New(apperr.InsufficientFunds,
			"wallet %s has %d available, %d requested", w.id, w.balance, amount)
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
// requires), the new user-wallet balances and the audit event in one round
// trip.
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
		if l.balanceAfter != nil {
			pb.Queue(`UPDATE wallets SET balance = $2 WHERE id = $1`, l.walletID, *l.balanceAfter)
		}
	}
	pb.Queue(`INSERT INTO audit_events (occurred_at, actor, action, wallet_id, transaction_id, amount, currency, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		b.now, op.Actor, op.Type, op.WalletID, txID, op.Amount, op.Currency, op.RequestID)

	if err := q.SendBatch(ctx, &pb).Close(); err != nil {
		return fmt.Errorf("write postings: %w", err)
	}
	return nil
}
