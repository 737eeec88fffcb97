// Package migrations embeds the gateway schema's SQL migrations.
package migrations

import (
	"context"
	"embed"

	"github.com/advancia-pay/ledger/pkg/pgmigrate"
)

// Schema is the PostgreSQL schema of the gateway's API clients.
const Schema = "gateway"

//go:embed *.sql
var files embed.FS

// Up applies every pending gateway migration; see pgmigrate.Up.
func Up(ctx context.Context, databaseURL string) error {
	return pgmigrate.Up(ctx, databaseURL, Schema, files)
}
