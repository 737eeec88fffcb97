// Package migrations embeds the wallet schema's SQL migrations.
package migrations

import (
	"context"
	"embed"

	"github.com/advancia-pay/ledger/pkg/pgmigrate"
)

// Schema is the PostgreSQL schema that holds every wallet table.
const Schema = "wallet"

// Role is the login role walletd connects as. The migrations grant it
// only what it needs on this schema, and it owns nothing.
const Role = "ledger_wallet"

//go:embed *.sql
var files embed.FS

// Up applies every pending wallet migration; see pgmigrate.Up.
func Up(ctx context.Context, databaseURL string) error {
	return pgmigrate.Up(ctx, databaseURL, Schema, files, Role, pgmigrate.ReportingRole)
}
