package pgmigrate

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
)

// NewPool connects to databaseURL with search_path set to schema. It does
// not wait for a connection to succeed.
func NewPool(ctx context.Context, databaseURL, schema string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create database pool: %w", err)
	}
	return pool, nil
}

// Open is a service's database start: it applies the migrations with up
// when migrate is set, logs that, and returns a pool on schema.
func Open(ctx context.Context, databaseURL, schema string, migrate bool, up func(context.Context, string) error, logger *slog.Logger) (*pgxpool.Pool, error) {
	if migrate {
		if err := up(ctx, databaseURL); err != nil {
			return nil, fmt.Errorf("migrate database: %w", err)
		}
		logger.Info("migrations applied", "schema", schema)
	}
	return NewPool(ctx, databaseURL, schema)
}
