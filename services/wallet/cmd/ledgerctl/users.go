package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/pgtx"
)

// usersConfig is the configuration of the users commands: the owner of
// every schema, in the one database that holds them all.
type usersConfig struct {
	DatabaseURL string `env:"LEDGER_DATABASE_URL,required,notEmpty" secret:"true"`
}

// usersCommand runs "users export|erase OWNER -operator NAME" and returns
// the exit code.
func usersCommand(ctx context.Context, args []string, w io.Writer) (int, error) {
	if len(args) < 2 || (args[0] != "export" && args[0] != "erase") {
		return 2, errors.New("usage: ledgerctl users export|erase OWNER -operator NAME [-out FILE]")
	}
	action, subject := args[0], args[1]
	flags := flag.NewFlagSet("users "+action, flag.ContinueOnError)
	operator := flags.String("operator", "", "who runs the command, recorded in the privacy audit trail; required")
	out := flags.String("out", "", "export: the JSON file to write (standard output when empty)")
	if err := flags.Parse(args[2:]); err != nil {
		return 2, err
	}
	if *operator == "" {
		return 2, errors.New("-operator is required: it is recorded with the " + action)
	}
	if subject == "" || len(subject) > 255 {
		return 2, fmt.Errorf("owner %q is invalid: it must be 1 to 255 bytes", subject)
	}

	cfg, err := config.Load[usersConfig]()
	if err != nil {
		return 2, err
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return 2, err
	}
	defer pool.Close()

	if action == "export" {
		return exportUser(ctx, pool, subject, *operator, *out, w)
	}
	return eraseUser(ctx, pool, subject, *operator, w)
}

// The conditions that select an owner's rows, in the named arguments of
// owner.args. The export and the erasure share them, so that an erasure
// changes exactly the rows an export shows.
const (
	ownerTransactions = `wallet_id = ANY(@wallets::uuid[]) OR counterparty_wallet_id = ANY(@wallets::uuid[]) OR actor = @subject`
	ownerHolds        = `wallet_id = ANY(@wallets::uuid[]) OR actor = @subject`
	ownerPayments     = `payer_id = @subject OR payer_wallet_id = ANY(@wallets::uuid[]) OR payee_wallet_id = ANY(@wallets::uuid[])`
	ownerPaymentIDs   = `payment_id IN (SELECT id FROM payment.payments WHERE ` + ownerPayments + `)`
	ownerRefunds      = `requested_by = @subject OR ` + ownerPaymentIDs
	ownerRecords      = `left(scope, length(@subject) + 1) = @subject || ' '`
)

// personalTables lists every table that may hold records of an owner, with
// the query that selects them as JSON rows. A table whose schema is not in
// the database is reported, not skipped silently.
var personalTables = []struct{ name, query string }{
	{"wallet.wallets", `SELECT to_jsonb(t) FROM wallet.wallets t WHERE owner_id = @subject OR id = ANY(@wallets::uuid[])`},
	{"wallet.transactions", `SELECT to_jsonb(t) FROM wallet.transactions t WHERE ` + ownerTransactions},
	{"wallet.postings", `SELECT to_jsonb(t) FROM wallet.postings t WHERE wallet_id = ANY(@wallets::uuid[])`},
	{"wallet.holds", `SELECT to_jsonb(t) FROM wallet.holds t WHERE ` + ownerHolds},
	{"wallet.audit_events", `SELECT to_jsonb(t) FROM wallet.audit_events t WHERE wallet_id = ANY(@wallets::uuid[]) OR actor = @principal`},
	{"payment.payments", `SELECT to_jsonb(t) FROM payment.payments t WHERE ` + ownerPayments},
	{"payment.refunds", `SELECT to_jsonb(t) FROM payment.refunds t WHERE ` + ownerRefunds},
	{"payment.disputes", `SELECT to_jsonb(t) FROM payment.disputes t WHERE ` + ownerPaymentIDs},
	{"idempotency.records", `SELECT to_jsonb(t) FROM idempotency.records t WHERE ` + ownerRecords},
	{"gateway.clients", `SELECT to_jsonb(t) - 'secret_hash' FROM gateway.clients t WHERE owner = @subject`},
}

// owner is the subject, principal and wallets of one person's records.
type owner struct {
	subject     string
	principalID string
	walletIDs   []string
}

// args returns the named arguments of the export and erasure statements.
func (o owner) args() pgx.NamedArgs {
	return pgx.NamedArgs{
		"subject":   o.subject,
		"wallets":   o.walletIDs,
		"principal": o.principalID,
		"pseudonym": "erased:" + o.principalID,
	}
}

// findOwner reads the owner's principal and wallets. With create, it makes
// a principal when the subject has none, because an erasure needs one for
// its pseudonym. An export never stores the subject it was asked for.
func findOwner(ctx context.Context, tx pgx.Tx, subject string, create bool) (owner, error) {
	o := owner{subject: subject}
	if create {
		_, err := tx.Exec(ctx, `INSERT INTO wallet.principals (id, subject, created_at)
			VALUES (gen_random_uuid(), $1, now()) ON CONFLICT (subject) DO NOTHING`, subject)
		if err != nil {
			return o, fmt.Errorf("create principal: %w", err)
		}
	}
	err := tx.QueryRow(ctx, `SELECT coalesce((SELECT id::text FROM wallet.principals WHERE subject = $1), ''),
		coalesce((SELECT array_agg(id::text ORDER BY id) FROM wallet.wallets WHERE owner_id = $1), '{}')`,
		subject).Scan(&o.principalID, &o.walletIDs)
	if err != nil {
		return o, fmt.Errorf("look up owner %q: %w", subject, err)
	}
	return o, nil
}

// present reports whether table exists in the database.
func present(ctx context.Context, tx pgx.Tx, table string) (bool, error) {
	var exists bool
	err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists)
	return exists, err
}

// recordPrivacyEvent writes the audit record of an export or an erasure.
// An export of a subject the ledger never saw is recorded without a
// principal.
func recordPrivacyEvent(ctx context.Context, tx pgx.Tx, action string, o owner, operator string, counts map[string]int) error {
	_, err := tx.Exec(ctx, `INSERT INTO wallet.privacy_events (occurred_at, action, principal_id, operator, counts)
		VALUES (now(), $1, nullif($2, '')::uuid, $3, $4)`, action, o.principalID, operator, counts)
	if err != nil {
		return fmt.Errorf("record the %s: %w", action, err)
	}
	return nil
}

// export is the document `ledgerctl users export` writes.
type export struct {
	Subject     string `json:"subject"`
	PrincipalID string `json:"principal_id,omitempty"`
	// Records holds each table's rows of the owner, every column included
	// except client secret hashes.
	Records map[string][]json.RawMessage `json:"records"`
	// MissingTables are tables whose schema is not in this database, so
	// the export contains nothing from them.
	MissingTables []string `json:"missing_tables,omitempty"`
}

// exportUser writes every record of subject as JSON, and records the export
// in the same transaction that read it.
func exportUser(ctx context.Context, pool *pgxpool.Pool, subject, operator, out string, w io.Writer) (int, error) {
	doc := export{Subject: subject, Records: map[string][]json.RawMessage{}}
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		o, err := findOwner(ctx, tx, subject, false)
		if err != nil {
			return err
		}
		doc.PrincipalID = o.principalID
		counts := map[string]int{}
		for _, table := range personalTables {
			rows, err := readRecords(ctx, tx, table.name, table.query, o)
			if errors.Is(err, errTableMissing) {
				doc.MissingTables = append(doc.MissingTables, table.name)
				continue
			}
			if err != nil {
				return err
			}
			doc.Records[table.name], counts[table.name] = rows, len(rows)
		}
		if o.principalID == "" && total(counts) > 0 {
			// The owner has records but never acted: give them a principal
			// so that the audit record names whose data left.
			if o, err = findOwner(ctx, tx, subject, true); err != nil {
				return err
			}
			doc.PrincipalID = o.principalID
		}
		return recordPrivacyEvent(ctx, tx, "export", o, operator, counts)
	})
	if err != nil {
		return 2, err
	}
	return 0, writeExport(doc, out, w)
}

var (
	errTableMissing = errors.New("table not in this database")
	errNoRecords    = errors.New("no records")
)

// total sums the per-table counts.
func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func readRecords(ctx context.Context, tx pgx.Tx, table, query string, o owner) ([]json.RawMessage, error) {
	exists, err := present(ctx, tx, table)
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", table, err)
	}
	if !exists {
		return nil, errTableMissing
	}
	rows, err := tx.Query(ctx, query, o.args())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	records, err := pgx.CollectRows(rows, pgx.RowTo[json.RawMessage])
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return records, nil
}

func writeExport(doc export, out string, w io.Writer) error {
	raw, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	raw = append(raw, '\n')
	if out == "" {
		_, err = w.Write(raw)
		return err
	}
	// 0600: the file holds one person's personal data.
	if err := os.WriteFile(out, raw, 0o600); err != nil { // #nosec G703 -- out is the path the operator passed to ledgerctl
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(w, "exported %s to %s\n", doc.Subject, out)
	return nil
}

// eraseUser removes or pseudonymises every personal identifier of subject
// in one transaction, leaving amounts, balances and the audit chain as
// they were, and records the erasure.
func eraseUser(ctx context.Context, pool *pgxpool.Pool, subject, operator string, w io.Writer) (int, error) {
	var counts map[string]int
	var o owner
	err := pgtx.InTx(ctx, pool, pgtx.Options{}, func(tx pgx.Tx) error {
		var err error
		if o, err = findOwner(ctx, tx, subject, true); err != nil {
			return err
		}
		if counts, err = erase(ctx, tx, o); err != nil {
			return err
		}
		// The principal row changes even for a subject the ledger never
		// saw, because findOwner created it; nothing else does then.
		if total(counts)-counts["wallet.principals"] == 0 {
			return errNoRecords
		}
		return recordPrivacyEvent(ctx, tx, "erase", o, operator, counts)
	})
	if errors.Is(err, errNoRecords) {
		return 1, fmt.Errorf("no record of owner %q in this database; nothing was erased (check the spelling)", subject)
	}
	if err != nil {
		return 2, err
	}
	summary, _ := json.Marshal(map[string]any{"erased": subject, "principal_id": o.principalID, "changed": counts})
	fmt.Fprintln(w, string(summary))
	return 0, nil
}

// erasures lists the statements of an erasure, in order. The wallets are
// renamed last, because the statements before find the owner's records
// through them.
var erasures = []struct{ table, stmt string }{
	{"wallet.transactions", `UPDATE wallet.transactions SET description = '',
		actor = CASE WHEN actor = @subject THEN @pseudonym ELSE actor END WHERE ` + ownerTransactions},
	{"wallet.holds", `UPDATE wallet.holds SET description = '',
		actor = CASE WHEN actor = @subject THEN @pseudonym ELSE actor END WHERE ` + ownerHolds},
	{"payment.refunds", `UPDATE payment.refunds SET reason = '',
		requested_by = CASE WHEN requested_by = @subject THEN @pseudonym ELSE requested_by END WHERE ` + ownerRefunds},
	{"payment.payments", `UPDATE payment.payments SET description = '', metadata = '{}',
		payer_id = CASE WHEN payer_id = @subject THEN @pseudonym ELSE payer_id END WHERE ` + ownerPayments},
	{"idempotency.records", `DELETE FROM idempotency.records WHERE ` + ownerRecords},
	{"gateway.clients", `UPDATE gateway.clients SET owner = @pseudonym, name = '', revoked_at = coalesce(revoked_at, now())
		WHERE owner = @subject`},
	{"wallet.wallets", `UPDATE wallet.wallets SET owner_id = @pseudonym WHERE owner_id = @subject`},
	{"wallet.principals", `UPDATE wallet.principals SET subject = NULL, erased_at = now()
		WHERE subject = @subject`},
}

// erase runs the erasure statements and returns how many rows each
// changed. The erasure setting lets the transactions table take the
// pseudonymised actor and the cleared description, and nothing else.
func erase(ctx context.Context, tx pgx.Tx, o owner) (map[string]int, error) {
	if _, err := tx.Exec(ctx, `SET LOCAL ledger.erasure = 'on'`); err != nil {
		return nil, fmt.Errorf("enable erasure: %w", err)
	}
	counts := map[string]int{}
	for _, e := range erasures {
		exists, err := present(ctx, tx, e.table)
		if err != nil {
			return nil, fmt.Errorf("look up %s: %w", e.table, err)
		}
		if !exists {
			// TODO: an owner's records in a schema kept in another
			// database are not erased; the command needs one database
			// that holds every schema.
			return nil, fmt.Errorf("table %s not found: erase needs the one database that contains every schema (set LEDGER_DATABASE_URL to it)", e.table)
		}
		tag, err := tx.Exec(ctx, e.stmt, o.args())
		if err != nil {
			return nil, fmt.Errorf("erase from %s: %w", e.table, err)
		}
		counts[e.table] = int(tag.RowsAffected())
	}
	return counts, nil
}
