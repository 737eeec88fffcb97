// Package migrations embeds the payment schema's SQL migrations.
package migrations

import (
	"context"
	"embed"

	"github.com/advancia-pay/ledger/pkg/pgmigrate"
)

// Schema is the PostgreSQL schema that holds every payment table.
const Schema = "payment"

//go:embed *.sql
var files embed.FS

// Up applies every pending payment migration; see pgmigrate.Up.
func Up(ctx context.Context, databaseURL string) error {
	return pgmigrate.Up(ctx, databaseURL, Schema, files)
}
