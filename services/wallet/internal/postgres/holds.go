package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

// holdColumns selects a hold. An active hold past its expiry reads as
// expired, by PostgreSQL's clock, which also decides captures.
const holdColumns = `id, wallet_id, amount, captured_amount, currency,
	CASE WHEN status = 'active' AND expires_at <= clock_timestamp() THEN 'expired' ELSE status END,
	description, expires_at, created_at, updated_at`

// scanHold reads holdColumns plus extra destinations.
func scanHold(row pgx.Row, extra ...any) (ledger.Hold, error) {
	var h ledger.Hold
	var id, walletID uuid.UUID
	var expiresAt *time.Time
	dest := append([]any{&id, &walletID, &h.Amount, &h.CapturedAmount, &h.Currency, &h.Status,
		&h.Description, &expiresAt, &h.CreatedAt, &h.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return ledger.Hold{}, err
	}
	h.ID, h.WalletID = id.String(), walletID.String()
	h.CreatedAt, h.UpdatedAt = h.CreatedAt.UTC(), h.UpdatedAt.UTC()
	if expiresAt != nil {
		h.ExpiresAt = expiresAt.UTC()
	}
	return h, nil
}

// remaining returns the amount an active hold still reserves.
func remaining(h ledger.Hold) int64 {
	return h.Amount - h.CapturedAmount
}

// placeHold reserves op.Amount of the wallet's available balance.
func (b *batch) placeHold(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Result, error) {
	w, err := b.wallet(op.WalletID)
	if err != nil {
		return ledger.Result{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return ledger.Result{}, fmt.Errorf("generate hold id: %w", err)
	}
	var expiresAt *time.Time
	if op.ExpiresIn > 0 {
		at := b.now.Add(op.ExpiresIn)
		expiresAt = &at
	}

	tag, err := q.Exec(ctx, `
		INSERT INTO holds (id, wallet_id, amount, captured_amount, currency, status, description, expires_at,
			idempotency_key, request_hash, actor, request_id, created_at, updated_at)
		VALUES ($1, $2, $3, 0, $4, 'active', $5, $6, $7, $8, $9, $10, $11, $11)
		ON CONFLICT (wallet_id, actor, idempotency_key) DO NOTHING`,
		id, op.WalletID, op.Amount, w.currency, op.Description, expiresAt,
		op.IdempotencyKey, op.RequestHash, op.Actor, op.RequestID, b.now)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("insert hold: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return b.replayHold(ctx, q, op)
	}

	if op.Amount > w.available() {
		return ledger.Result{}, apperr.New(apperr.InsufficientFunds,
			"wallet %s has %d available, %d requested", w.id, max(w.available(), 0), op.Amount)
	}
	if err := b.audit(ctx, q, op, auditEvent{walletID: w.id, action: "hold.placed", holdID: id.String(), amount: -op.Amount}); err != nil {
		return ledger.Result{}, err
	}
	w.reserved += op.Amount

	h := ledger.Hold{
		ID: id.String(), WalletID: w.id, Amount: op.Amount, Currency: w.currency, Status: ledger.HoldActive,
		Description: op.Description, CreatedAt: b.now, UpdatedAt: b.now,
	}
	if expiresAt != nil {
		h.ExpiresAt = *expiresAt
	}
	return ledger.Result{Hold: &h}, nil
}

// replayHold returns the hold first placed with op's key, as it is now.
func (b *batch) replayHold(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Result, error) {
	var hash []byte
	row := q.QueryRow(ctx, `SELECT `+holdColumns+`, request_hash FROM holds
		WHERE wallet_id = $1 AND actor = $2 AND idempotency_key = $3`, op.WalletID, op.Actor, op.IdempotencyKey)
	h, err := scanHold(row, &hash)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("read replayed hold: %w", err)
	}
	if !bytes.Equal(hash, op.RequestHash) {
		return ledger.Result{}, keyReused(op)
	}
	return ledger.Result{Hold: &h, Replayed: true}, nil
}

// lockHold reads op's hold FOR UPDATE and checks that it belongs to the
// locked wallet.
func (b *batch) lockHold(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Hold, error) {
	row := q.QueryRow(ctx, `SELECT `+holdColumns+` FROM holds WHERE id = $1 FOR UPDATE`, op.HoldID)
	h, err := scanHold(row)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && h.WalletID != op.WalletID) {
		return ledger.Hold{}, apperr.New(apperr.NotFound, "hold %s not found", op.HoldID)
	}
	if err != nil {
		return ledger.Hold{}, fmt.Errorf("lock hold: %w", err)
	}
	return h, nil
}

func holdNotActive(h ledger.Hold) error {
	if h.Status == ledger.HoldExpired {
		return apperr.New(apperr.HoldNotActive, "hold %s expired at %s", h.ID, h.ExpiresAt.Format(time.RFC3339))
	}
	return apperr.New(apperr.HoldNotActive, "hold %s is already %s", h.ID, h.Status)
}

// capture posts op.Amount (0 means all) of a hold to the clearing wallet or
// to op.ToWalletID, and ends the hold: the uncaptured rest is released.
func (b *batch) capture(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Result, error) {
	var h ledger.Hold
	res, err := b.post(ctx, q, op, func() ([]leg, error) {
		var err error
		if h, err = b.lockHold(ctx, q, op); err != nil {
			return nil, err
		}
		return b.captureLegs(h, op)
	})
	if err != nil || res.Replayed {
		return b.withHold(ctx, q, res, op.HoldID, err)
	}

	if _, err := q.Exec(ctx, `UPDATE holds SET status = 'captured', captured_amount = $2, updated_at = $3
		WHERE id = $1`, h.ID, res.Transaction.Amount, b.now); err != nil {
		return ledger.Result{}, fmt.Errorf("mark hold captured: %w", err)
	}
	h.Status, h.CapturedAmount, h.UpdatedAt = ledger.HoldCaptured, res.Transaction.Amount, b.now
	res.Hold = &h
	return res, nil
}

// captureLegs checks that the hold can be captured for op.Amount, releases
// it from the wallet's reservation and returns the postings.
func (b *batch) captureLegs(h ledger.Hold, op ledger.Operation) ([]leg, error) {
	if h.Status != ledger.HoldActive {
		return nil, holdNotActive(h)
	}
	if op.Amount > remaining(h) {
		return nil, apperr.New(apperr.InvalidRequest, "capture of %d exceeds hold %s of %d", op.Amount, h.ID, remaining(h))
	}
	src, err := b.wallet(h.WalletID)
	if err != nil {
		return nil, err
	}

	// The hold's own reservation is spendable by its capture.
	out, err := debited(src, op.Amount, src.available()+remaining(h))
	if err != nil {
		return nil, err
	}
	src.reserved -= remaining(h)
	if op.ToWalletID == "" {
		return []leg{out, {walletID: b.clearing[op.Currency], amount: op.Amount}}, nil
	}
	dst, err := b.receiver(src, op.ToWalletID)
	if err != nil {
		return nil, err
	}
	in, err := credited(dst, op.Amount)
	return []leg{out, in}, err
}

// withHold adds the hold's current state to a replayed capture.
func (b *batch) withHold(ctx context.Context, q pgx.Tx, res ledger.Result, holdID string, err error) (ledger.Result, error) {
	if err != nil {
		return ledger.Result{}, err
	}
	row := q.QueryRow(ctx, `SELECT `+holdColumns+` FROM holds WHERE id = $1`, holdID)
	h, err := scanHold(row)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("read captured hold: %w", err)
	}
	res.Hold = &h
	return res, nil
}

// voidHold ends an active hold without moving money. Voiding a voided hold
// returns it unchanged, so a retried void succeeds.
func (b *batch) voidHold(ctx context.Context, q pgx.Tx, op ledger.Operation) (ledger.Result, error) {
	h, err := b.lockHold(ctx, q, op)
	if err != nil {
		return ledger.Result{}, err
	}
	if h.Status == ledger.HoldVoided {
		return ledger.Result{Hold: &h}, nil
	}
	if h.Status != ledger.HoldActive {
		return ledger.Result{}, holdNotActive(h)
	}

	if _, err := q.Exec(ctx, `UPDATE holds SET status = 'voided', updated_at = $2 WHERE id = $1`, h.ID, b.now); err != nil {
		return ledger.Result{}, fmt.Errorf("mark hold voided: %w", err)
	}
	op.Currency = h.Currency
	if err := b.audit(ctx, q, op, auditEvent{walletID: h.WalletID, action: "hold.voided", holdID: h.ID, amount: remaining(h)}); err != nil {
		return ledger.Result{}, err
	}
	b.wallets[h.WalletID].reserved -= remaining(h)

	h.Status, h.UpdatedAt = ledger.HoldVoided, b.now
	return ledger.Result{Hold: &h}, nil
}

// audit appends one event outside a pgx.Batch.
func (b *batch) audit(ctx context.Context, q pgx.Tx, op ledger.Operation, ev auditEvent) error {
	var pb pgx.Batch
	b.queueAudit(&pb, op, ev)
	if err := q.SendBatch(ctx, &pb).Close(); err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return nil
}

// GetHold returns a hold as it is now.
func (s *Store) GetHold(ctx context.Context, id string) (ledger.Hold, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+holdColumns+` FROM holds WHERE id = $1`, id)
	h, err := scanHold(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Hold{}, apperr.New(apperr.NotFound, "hold %s not found", id)
	}
	if err != nil {
		return ledger.Hold{}, translate(err, "read hold")
	}
	return h, nil
}
