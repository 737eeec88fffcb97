package pgmigrate

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
)

// IdleInTransactionTimeout is how long PostgreSQL lets a service's
// session sit idle inside a transaction before it ends the session and
// releases its locks. A process that stops mid-transaction (paused,
// swapped out, or cut off from the database) would otherwise keep the
// rows it locked, such as a wallet, from every other instance for as long
// as it stalls. Every transaction of the services runs in milliseconds.
const IdleInTransactionTimeout = "15s"

// NewPool connects to databaseURL with search_path set to schema and the
// idle-in-transaction timeout set, unless the URL sets its own. It does
// not wait for a connection to succeed.
func NewPool(ctx context.Context, databaseURL, schema string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = IdleInTransactionTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create database pool: %w", err)
	}
	return pool, nil
}

// Open is a service's database start: when migrate is set it applies the
// migrations with up as the user of migrationURL (databaseURL when empty)
// and logs that, then returns a pool on schema as the user of databaseURL.
func Open(ctx context.Context, databaseURL, migrationURL, schema string, migrate bool, up func(context.Context, string) error, logger *slog.Logger) (*pgxpool.Pool, error) {
	if migrate {
		if migrationURL == "" {
			migrationURL = databaseURL
		}
		if err := up(ctx, migrationURL); err != nil {
			return nil, fmt.Errorf("migrate database (as the migration URL's user, which must own the schema and may create roles): %w", err)
		}
		logger.Info("migrations applied", "schema", schema)
	}
	return NewPool(ctx, databaseURL, schema)
}
