// Package migrations embeds the wallet schema's SQL migrations.
package migrations

import (
	"context"
	"embed"

	"github.com/advancia-pay/ledger/pkg/pgmigrate"
)

// Schema is the PostgreSQL schema that holds every wallet table.
const Schema = "wallet"

//go:embed *.sql
var files embed.FS

// Up applies every pending wallet migration; see pgmigrate.Up.
func Up(ctx context.Context, databaseURL string) error {
	return pgmigrate.Up(ctx, databaseURL, Schema, files)
}
