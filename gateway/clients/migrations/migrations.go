// Package migrations embeds the gateway schema's SQL migrations.
package migrations

import (
	"context"
	"embed"

	"github.com/advancia-pay/ledger/pkg/pgmigrate"
)

// Schema is the PostgreSQL schema of the gateway's API clients.
const Schema = "gateway"

// Role is the login role gatewayd and `ledgerctl clients` connects as. The migrations grant it
// only what it needs on this schema, and it owns nothing.
const Role = "ledger_gateway"

//go:embed *.sql
var files embed.FS

// Up applies every pending gateway migration; see pgmigrate.Up.
func Up(ctx context.Context, databaseURL string) error {
	return pgmigrate.Up(ctx, databaseURL, Schema, files, Role, pgmigrate.ReportingRole)
}
