package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	gatewaymigrations "github.com/advancia-pay/ledger/gateway/clients/migrations"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
	"github.com/advancia-pay/ledger/pkg/pgtest"
	idempotencymigrations "github.com/advancia-pay/ledger/services/idempotency/migrations"
	paymentmigrations "github.com/advancia-pay/ledger/services/payment/migrations"
	walletmigrations "github.com/advancia-pay/ledger/services/wallet/migrations"
)

// rolesDatabase returns the URL of a new database holding every schema,
// migrated by the admin user, with one wallet, one transaction and its
// postings written as the wallet role.
func rolesDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	url := emptyDatabases.NewDatabase(t)
	for _, up := range []func(context.Context, string) error{
		walletmigrations.Up, paymentmigrations.Up, idempotencymigrations.Up, gatewaymigrations.Up,
	} {
		if err := up(ctx, url); err != nil {
			t.Fatal(err)
		}
	}

	wallet := connectAs(t, url, walletmigrations.Role)
	for _, stmt := range []string{
		`INSERT INTO wallet.wallets (id, owner_id, kind, currency, created_at)
			VALUES ('00000000-0000-4000-8000-000000000001', 'role-test', 'user', 'USD', now())`,
		`INSERT INTO wallet.transactions (id, type, status, wallet_id, amount, currency, idempotency_key,
				request_hash, description, actor, request_id, created_at)
			VALUES ('00000000-0000-4000-8000-0000000000a1', 'credit', 'posted', '00000000-0000-4000-8000-000000000001',
				5, 'USD', 'k1', '\x00', '', 'role-test', '', now())`,
	} {
		if _, err := wallet.Exec(ctx, stmt); err != nil {
			t.Fatalf("as %s: %s: %v", walletmigrations.Role, stmt, err)
		}
	}
	return url
}

func connectAs(t *testing.T, url, role string) *pgx.Conn {
	t.Helper()
	return connect(t, pgtest.WithUser(url, role))
}

// connect opens a connection to url that t.Cleanup closes.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// wantDenied runs each statement as conn's role and requires SQLSTATE 42501
// (insufficient privilege).
func wantDenied(t *testing.T, conn *pgx.Conn, statements ...string) {
	t.Helper()
	role := conn.Config().User
	for _, stmt := range statements {
		_, err := conn.Exec(context.Background(), stmt)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.InsufficientPrivilege {
			t.Errorf("as %s: %s: err = %v, want SQLSTATE 42501 (insufficient privilege)", role, stmt, err)
		}
	}
}

func TestPaymentRoleCannotTouchWalletTables(t *testing.T) {
	t.Parallel()
	url := rolesDatabase(t)
	payment := connectAs(t, url, paymentmigrations.Role)

	wantDenied(t, payment,
		`SELECT * FROM wallet.wallets`,
		`SELECT * FROM wallet.postings`,
		`UPDATE wallet.wallets SET balance = 1000000`,
		`DELETE FROM wallet.transactions`,
		`INSERT INTO wallet.postings (transaction_id, wallet_id, amount, currency, balance_after, created_at)
			VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 5, 'USD', 5, now())`,
	)
}

func TestWalletRoleCannotRewriteHistory(t *testing.T) {
	t.Parallel()
	url := rolesDatabase(t)
	wallet := connectAs(t, url, walletmigrations.Role)

	wantDenied(t, wallet,
		`ALTER TABLE wallet.postings DISABLE TRIGGER postings_append_only`,
		`ALTER TABLE wallet.wallets DISABLE ROW LEVEL SECURITY`,
		`SET session_replication_role = replica`,
		`UPDATE wallet.postings SET amount = 1`,
		`UPDATE wallet.transactions SET amount = 1`,
		`DELETE FROM wallet.audit_events`,
		`UPDATE wallet.wallets SET owner_id = 'someone-else'`,
		`TRUNCATE wallet.postings`,
		`SELECT * FROM payment.payments`,
	)
}

func TestReportingRoleReadsEverySchemaWritesNothing(t *testing.T) {
	t.Parallel()
	url := rolesDatabase(t)
	reporting := connectAs(t, url, pgmigrate.ReportingRole)
	ctx := context.Background()

	var wallets int
	if err := reporting.QueryRow(ctx, `SELECT count(*) FROM wallet.wallets`).Scan(&wallets); err != nil || wallets != 1 {
		t.Errorf("as %s: wallets = %d, %v; want 1", pgmigrate.ReportingRole, wallets, err)
	}
	for _, table := range []string{
		"wallet.transactions", "wallet.postings", "wallet.audit_events", "wallet.holds",
		"payment.payments", "payment.refunds", "payment.outbox", "payment.webhook_events", "payment.disputes",
	} {
		// table comes from the literal list above, never from input.
		if _, err := reporting.Exec(ctx, `SELECT count(*) FROM `+table); err != nil {
			t.Errorf("as %s: read %s: %v", pgmigrate.ReportingRole, table, err)
		}
	}
	for _, stmt := range []string{
		`SELECT id, owner, name, revoked_at FROM gateway.clients`,
		`SELECT scope, key, state, expires_at FROM idempotency.records`,
	} {
		if _, err := reporting.Exec(ctx, stmt); err != nil {
			t.Errorf("as %s: %s: %v", pgmigrate.ReportingRole, stmt, err)
		}
	}
	wantDenied(t, reporting,
		`SELECT secret_hash FROM gateway.clients`,
		`SELECT response FROM idempotency.records`,
		`UPDATE wallet.wallets SET balance = 1`,
		`INSERT INTO gateway.clients (id, secret_hash, owner, created_at) VALUES ('cl_00000000000000000000000000000000', 'x', 'o', now())`,
		`DELETE FROM idempotency.records`,
		`UPDATE payment.payments SET status = 'failed'`,
	)
}

func TestMisplacedGrantExposesNoRows(t *testing.T) {
	t.Parallel()
	url := rolesDatabase(t)
	ctx := context.Background()
	admin := connect(t, url)
	if _, err := admin.Exec(ctx, `GRANT USAGE ON SCHEMA wallet TO ledger_payment;
		GRANT SELECT, UPDATE ON wallet.wallets TO ledger_payment`); err != nil {
		t.Fatal(err)
	}

	payment := connectAs(t, url, paymentmigrations.Role)
	var visible int
	if err := payment.QueryRow(ctx, `SELECT count(*) FROM wallet.wallets`).Scan(&visible); err != nil || visible != 0 {
		t.Errorf("wallets visible to %s after a misplaced grant = %d, %v; want 0", paymentmigrations.Role, visible, err)
	}
	tag, err := payment.Exec(ctx, `UPDATE wallet.wallets SET balance = 1000000`)
	if err != nil || tag.RowsAffected() != 0 {
		t.Errorf("update by %s after a misplaced grant: %d rows, %v; want 0 rows", paymentmigrations.Role, tag.RowsAffected(), err)
	}
}

func TestServiceRolesOwnNothing(t *testing.T) {
	t.Parallel()
	url := rolesDatabase(t)
	admin := connect(t, url)
	ctx := context.Background()

	owned, err := queryStrings(ctx, admin, `SELECT n.nspname || '.' || c.relname || ' owned by ' || pg_get_userbyid(c.relowner)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('wallet', 'payment', 'idempotency', 'gateway')
			AND pg_get_userbyid(c.relowner) LIKE 'ledger\_%'`)
	if err != nil || len(owned) != 0 {
		t.Errorf("objects owned by a ledger role: %v, %v; want none", owned, err)
	}

	noRLS, err := queryStrings(ctx, admin, `SELECT n.nspname || '.' || c.relname
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('wallet', 'payment', 'idempotency', 'gateway') AND c.relkind = 'r'
			AND NOT c.relrowsecurity`)
	if err != nil || len(noRLS) != 0 {
		t.Errorf("tables without row-level security: %v, %v; want none", noRLS, err)
	}

	privileged, err := queryStrings(ctx, admin, `SELECT rolname FROM pg_roles
		WHERE rolname LIKE 'ledger\_%' AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb)`)
	if err != nil || len(privileged) != 0 {
		t.Errorf("ledger roles with superuser, BYPASSRLS, CREATEROLE or CREATEDB: %v, %v; want none", privileged, err)
	}
}

func queryStrings(ctx context.Context, conn *pgx.Conn, query string) ([]string, error) {
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
