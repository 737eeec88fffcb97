// Package migrations embeds the payment schema's SQL migrations.
package migrations

import (
	"context"
	"embed"

	"github.com/advancia-pay/ledger/pkg/pgmigrate"
)

// Schema is the PostgreSQL schema that holds every payment table.
const Schema = "payment"

// Role is the login role paymentd connects as. The migrations grant it
// only what it needs on this schema, and it owns nothing.
const Role = "ledger_payment"

//go:embed *.sql
var files embed.FS

// Up applies every pending payment migration; see pgmigrate.Up.
func Up(ctx context.Context, databaseURL string) error {
	return pgmigrate.Up(ctx, databaseURL, Schema, files, Role, pgmigrate.ReportingRole)
}
