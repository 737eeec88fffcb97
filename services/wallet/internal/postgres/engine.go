package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/pgtx"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

// lockedWallet is a user wallet row held FOR UPDATE by the current
// transaction. balance and reserved track the writes of earlier operations
// of the batch.
type lockedWallet struct {
	id       string
	currency string
	balance  int64
	// reserved is the sum that active, unexpired holds keep from the
	// balance.
	reserved int64
}

func (w *lockedWallet) available() int64 {
	return w.balance - w.reserved
}

// batch is the state of one transaction attempt of Apply.
type batch struct {
	tx pgx.Tx
	// now is PostgreSQL's clock read after the wallet rows were locked, so
	// the times of one wallet's transactions follow their commit order
	// whichever replica wrote them.
	now      time.Time
	wallets  map[string]*lockedWallet
	clearing map[string]string
}

// Apply is the posting engine. It applies ops in one SERIALIZABLE
// transaction that locks every user wallet involved in id order, so that
// concurrent batches never deadlock, and commits once. Each operation
// writes its idempotency record first, so a reused key replays the
// original even when the balance has changed since. An operation that
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
		b := &batch{tx: tx, clearing: clearing}
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

// clearingWallets returns the clearing wallet id of every currency among
// ops. Transfers never use it, but reversals and captures may.
func (s *Store) clearingWallets(ctx context.Context, ops []ledger.Operation) (map[string]string, error) {
	ids := make(map[string]string)
	for _, op := range ops {
		if op.Type == ledger.TypeTransfer || op.Currency == "" || ids[op.Currency] != "" {
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

// lockWallets locks every user wallet of the batch, sorted by id, then
// reads the clock and what active holds reserve on each wallet.
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
	return b.readReserved(ctx, ids)
}

// readReserved sets b.now from PostgreSQL's clock and each locked wallet's
// reserved amount.
func (b *batch) readReserved(ctx context.Context, ids []string) error {
	rows, err := b.tx.Query(ctx, `
		WITH clock AS (SELECT clock_timestamp() AS now)
		SELECT clock.now, w.id, coalesce(sum(h.amount - h.captured_amount), 0)
		FROM clock CROSS JOIN unnest($1::uuid[]) AS w (id)
		LEFT JOIN holds h ON h.wallet_id = w.id AND h.status = 'active'
			AND (h.expires_at IS NULL OR h.expires_at > clock.now)
		GROUP BY clock.now, w.id`, ids)
	if err != nil {
		return fmt.Errorf("read held amounts: %w", err)
	}
	defer rows.Close()

	for rows.Next() {
		var id uuid.UUID
		var reserved int64
		if err := rows.Scan(&b.now, &id, &reserved); err != nil {
			return fmt.Errorf("read held amounts: %w", err)
		}
		if w := b.wallets[id.String()]; w != nil {
			w.reserved = reserved
		}
	}
	b.now = b.now.UTC().Truncate(time.Microsecond)
	return rows.Err()
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
		// Each operation gets its own time, so that the balance at one
		// operation's time excludes the later operations of the batch.
		if err := b.tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&b.now); err != nil {
			return fmt.Errorf("read clock: %w", err)
		}
		b.now = b.now.UTC().Truncate(time.Microsecond)
		sp, err := b.tx.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin savepoint: %w", err)
		}
		snapshot := b.snapshot()
		res, err := b.apply(ctx, sp, op)
		if isDomainError(err) {
			results[i] = ledger.Result{Err: err}
			b.restore(snapshot)
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

// snapshot copies the tracked wallet state, so that an operation rolled
// back to its savepoint leaves no trace in memory either.
func (b *batch) snapshot() map[string]lockedWallet {
	copies := make(map[string]lockedWallet, len(b.wallets))
	for id, w := range b.wallets {
		copies[id] = *w
	}
	return copies
}

func (b *batch) restore(copies map[string]lockedWallet) {
	for id, w := range copies {
		*b.wallets[id] = w
	}
}

func isDomainError(err error) bool {
	var appErr *apperr.Error
	return errors.As(err, &appErr)
}

// apply writes one operation. A domain error is returned with the
// operation's idempotency record already written, so the caller must roll
// back.
func (b *batch) apply(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Result, error) {
	switch op.Type {
	case ledger.TypeCredit, ledger.TypeDebit, ledger.TypeTransfer:
		return b.post(ctx, q, op, func() ([]leg, error) { return b.movementLegs(op) })
	case ledger.TypeCapture:
		return b.capture(ctx, q, op)
	case ledger.TypeReversal:
		return b.reverse(ctx, q, op)
	case ledger.TypeHold:
		return b.placeHold(ctx, q, op)
	case ledger.TypeVoid:
		return b.voidHold(ctx, q, op)
	}
	return ledger.Result{}, fmt.Errorf("unknown operation type %q", op.Type)
}

// wallet returns a locked wallet of the batch.
func (b *batch) wallet(id string) (*lockedWallet, error) {
	w := b.wallets[id]
	if w == nil {
		return nil, apperr.New(apperr.NotFound, "wallet %s not found", id)
	}
	return w, nil
}
