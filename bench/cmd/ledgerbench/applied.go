package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
)

// withWalletDB runs fn on a connection to the wallet database. Without
// WALLET_DATABASE_URL it skips fn and records that purpose was skipped.
func (b *bench) withWalletDB(ctx context.Context, purpose string, fn func(*pgx.Conn) error) error {
	url := os.Getenv("WALLET_DATABASE_URL")
	if url == "" {
		b.checks = append(b.checks, purpose+" skipped: WALLET_DATABASE_URL is not set")
		return nil
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("%s: connect: %w", purpose, err)
	}
	defer conn.Close(ctx)
	return fn(conn)
}

// analyze refreshes the planner statistics of the wallet tables after the
// setup wrote its wallets, so that every run measures the same plans.
// Without statistics PostgreSQL may scan the wallets table instead of using
// its index, and under SERIALIZABLE a sequential scan takes a predicate lock
// on the whole table: concurrent transfers then nearly all conflict. That
// is the state of a new database until autovacuum first analyzes it.
func (b *bench) analyze(ctx context.Context) error {
	return b.withWalletDB(ctx, "setup: ANALYZE", func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `ANALYZE wallet.wallets, wallet.holds, wallet.transactions, wallet.postings, wallet.audit_events`)
		if err != nil {
			return fmt.Errorf("analyze the wallet tables: %w", err)
		}
		return nil
	})
}

// checkApplied compares the operations a step saw acknowledged with the
// transactions PostgreSQL holds under the step's key prefix: each
// acknowledged operation must be there exactly once, and nothing else.
func (b *bench) checkApplied(ctx context.Context, step, keyPrefix string, acknowledged int64) error {
	return b.withWalletDB(ctx, step+": applied-once check", func(conn *pgx.Conn) error {
		var rows, keys int64
		err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT (wallet_id, actor, idempotency_key)) FROM wallet.transactions
			WHERE idempotency_key LIKE $1 || '%'`, keyPrefix).Scan(&rows, &keys)
		if err != nil {
			return fmt.Errorf("count applied operations: %w", err)
		}
		if rows != acknowledged || keys != rows {
			return fmt.Errorf("%s: %d operations acknowledged but %d transactions under %d keys were applied", step, acknowledged, rows, keys)
		}
		b.checks = append(b.checks, fmt.Sprintf("%s: %d acknowledged operations, each applied exactly once", step, acknowledged))
		return nil
	})
}
