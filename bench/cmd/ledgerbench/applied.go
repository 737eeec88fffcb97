package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
)

// checkApplied compares the operations the workload saw acknowledged with
// the transactions PostgreSQL holds under the workload's key prefix: each
// acknowledged operation must be there exactly once, and nothing else.
func (b *bench) checkApplied(ctx context.Context, workload, keyPrefix string, acknowledged int64) error {
	url := os.Getenv("WALLET_DATABASE_URL")
	if url == "" {
		b.checks = append(b.checks, workload+": applied-once check skipped, WALLET_DATABASE_URL is not set")
		return nil
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect for the applied-once check: %w", err)
	}
	defer conn.Close(ctx)

	var rows, keys int64
	err = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT (wallet_id, actor, idempotency_key)) FROM wallet.transactions
		WHERE idempotency_key LIKE $1 || '%'`, keyPrefix).Scan(&rows, &keys)
	if err != nil {
		return fmt.Errorf("count applied operations: %w", err)
	}
	if rows != acknowledged || keys != rows {
		return fmt.Errorf("%s: %d operations acknowledged but %d transactions under %d keys were applied", workload, acknowledged, rows, keys)
	}
	b.checks = append(b.checks, fmt.Sprintf("%s: %d acknowledged operations, each applied exactly once", workload, acknowledged))
	return nil
}
