// Package pgtx runs a function inside one PostgreSQL transaction and retries
// it when PostgreSQL aborts the transaction with a serialization failure
// (SQLSTATE 40001) or a deadlock (SQLSTATE 40P01).
package pgtx

import (
	"context"
	"errors"
	"fmt"
	"github.com/advancia-pay/ledger/pkg/backoff"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	defaultMaxAttempts = 8
	defaultBaseDelay   = 5 * time.Millisecond
	defaultMaxDelay    = 250 * time.Millisecond

	// rollbackTimeout bounds the rollback, which runs even after the
	// caller's context is canceled so the connection returns clean.
	rollbackTimeout = 5 * time.Second
)

// ErrRetriesExhausted is wrapped, together with the last PostgreSQL error, by
// InTx when every attempt failed with a retryable error.
var ErrRetriesExhausted = errors.New("pgtx: serialization retries exhausted")

// Beginner starts transactions. *pgxpool.Pool and *pgx.Conn satisfy it.
type Beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// Options configures InTx. The zero value selects SERIALIZABLE isolation and
// 8 attempts with delays of 5ms doubling up to 250ms.
type Options struct {
	// Isolation is the transaction isolation level, pgx.Serializable when
	// empty.
	Isolation pgx.TxIsoLevel

	// MaxAttempts is the total number of attempts including the first,
	// 8 when zero or negative.
	MaxAttempts int

	// BaseDelay is the upper bound of the first retry delay, 5ms when zero
	// or negative. The bound doubles after each retry.
	BaseDelay time.Duration

	// MaxDelay caps the upper bound of every retry delay, 250ms when zero
	// or negative.
	MaxDelay time.Duration

	// OnRetry, when set, is called synchronously before each retry delay
	// with the number of the attempt that failed (starting at 1) and its
	// error.
	OnRetry func(attempt int, err error)
}

func (o Options) withDefaults() Options {
	if o.Isolation == "" {
		o.Isolation = pgx.Serializable
	}

	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultMaxAttempts
	}

	if o.BaseDelay <= 0 {
		o.BaseDelay = defaultBaseDelay
	}

	if o.MaxDelay <= 0 {
		o.MaxDelay = defaultMaxDelay
	}

	return o
}

// InTx runs fn in one transaction and commits it. An error from fn rolls the
// transaction back and is returned unchanged, joined with the rollback error
// if the rollback also failed. When fn or the commit fails with SQLSTATE
// 40001 or 40P01, InTx rolls back and calls fn again in a new transaction,
// up to opts.MaxAttempts attempts, sleeping a random delay (full jitter)
// between attempts. fn may therefore run more than once and must not have
// effects outside the transaction that cannot be repeated.
//
// When every attempt fails with a retryable error, the returned error wraps
// ErrRetriesExhausted and the last error. When ctx is canceled during a retry
// delay, the returned error wraps ctx.Err() and the last error.
func InTx(ctx context.Context, db Beginner, opts Options, fn func(pgx.Tx) error) error {
	opts = opts.withDefaults()

	for attempt := 1; ; attempt++ {
		err := runOnce(ctx, db, opts.Isolation, fn)
		if err == nil || !IsRetryable(err) {
			return err
		}

		if attempt >= opts.MaxAttempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrRetriesExhausted, attempt, err)
		}

		recordRetry(ctx, err)

		if opts.OnRetry != nil {
			opts.OnRetry(attempt, err)
		}

		if waitErr := backoff.Sleep(ctx, backoff.Jittered(attempt, opts.BaseDelay, opts.MaxDelay)); waitErr != nil {
			return fmt.Errorf("pgtx: wait before attempt %d: %w (last error: %w)", attempt+1, waitErr, err)
		}
	}
}

// runOnce runs fn in one transaction. Errors from fn are returned unwrapped
// so that callers can match their own sentinel errors.
func runOnce(ctx context.Context, db Beginner, isolation pgx.TxIsoLevel, fn func(pgx.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, pgx.TxOptions{IsoLevel: isolation})
	if err != nil {
		return fmt.Errorf("pgtx: begin transaction: %w", err)
	}

	// A panic in fn must not leave the transaction open on a pooled
	// connection.
	defer func() {
		if p := recover(); p != nil {
			_ = rollback(ctx, tx)
			panic(p)
		}
	}()

	if err := fn(tx); err != nil {
		if rbErr := rollback(ctx, tx); rbErr != nil {
			return errors.Join(err, rbErr)
		}

		return err
	}

	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgtx: commit: %w", err)
	}

	return nil
}

func rollback(ctx context.Context, tx pgx.Tx) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()

	err := tx.Rollback(ctx)
	if err == nil || errors.Is(err, pgx.ErrTxClosed) {
		return nil
	}

	return fmt.Errorf("pgtx: rollback: %w", err)
}
