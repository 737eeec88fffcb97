package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/pkg/pgtx"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

// sweeperActor is the audit actor of holds the sweep expires.
const sweeperActor = "system:hold-sweep"

// ExpireHolds marks up to limit active holds past their expiry as expired,
// each in its own transaction with its wallet row locked and an audit
// event, and returns how many it marked. Expired holds stop reserving
// funds at their expiry time whether or not the sweep has run; the sweep
// only records it.
func (s *Store) ExpireHolds(ctx context.Context, limit int) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text, wallet_id::text FROM holds
		WHERE status = 'active' AND expires_at <= clock_timestamp()
		ORDER BY expires_at LIMIT $1`, limit)
	if err != nil {
		return 0, translate(err, "find expired holds")
	}
	due, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ HoldID, WalletID string }])
	if err != nil {
		return 0, translate(err, "find expired holds")
	}

	// One hold that fails must not keep the others from expiring.
	expired := 0
	var errs []error
	for _, h := range due {
		done, err := s.expireHold(ctx, h.HoldID, h.WalletID)
		if err != nil {
			errs = append(errs, fmt.Errorf("expire hold %s: %w", h.HoldID, err))
		}
		if done {
			expired++
		}
	}
	return expired, errors.Join(errs...)
}

// expireHold marks one hold expired unless it was captured or voided since
// it was selected.
func (s *Store) expireHold(ctx context.Context, holdID, walletID string) (bool, error) {
	var done bool
	err := pgtx.InTx(ctx, s.pool, s.opts.Tx, func(tx pgx.Tx) error {
		b := &batch{tx: tx}
		if err := b.lockWallets(ctx, []ledger.Operation{{WalletID: walletID}}); err != nil {
			return err
		}

		var rest int64
		var currency string
		err := tx.QueryRow(ctx, `UPDATE holds SET status = 'expired', updated_at = $2
			WHERE id = $1 AND status = 'active' AND expires_at <= $2
			RETURNING amount - captured_amount, currency`, holdID, b.now).Scan(&rest, &currency)
		if errors.Is(err, pgx.ErrNoRows) {
			done = false
			return nil
		}
		if err != nil {
			return fmt.Errorf("mark hold expired: %w", err)
		}

		done = true
		op := ledger.Operation{Actor: sweeperActor, Currency: currency, RequestID: "hold-sweep-" + uuid.NewString()}
		return b.audit(ctx, tx, op, auditEvent{walletID: walletID, action: "hold.expired", holdID: holdID, amount: rest})
	})
	return done, err
}
