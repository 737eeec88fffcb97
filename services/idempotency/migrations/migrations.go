// Package migrations embeds the idempotency schema's SQL migrations.
package migrations

import (
	"context"
	"embed"

	"github.com/advancia-pay/ledger/pkg/pgmigrate"
)

// Schema is the PostgreSQL schema of the idempotency records.
const Schema = "idempotency"

// Role is the login role idempotencyd connects as. The migrations grant it
// only what it needs on this schema, and it owns nothing.
const Role = "ledger_idempotency"

//go:embed *.sql
var files embed.FS

// Up applies every pending idempotency migration; see pgmigrate.Up.
func Up(ctx context.Context, databaseURL string) error {
	return pgmigrate.Up(ctx, databaseURL, Schema, files, Role, pgmigrate.ReportingRole)
}
