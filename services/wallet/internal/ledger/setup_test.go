package ledger_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/lock"
	"github.com/advancia-pay/ledger/pkg/pgtest"
	"github.com/advancia-pay/ledger/pkg/redistest"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
	"github.com/advancia-pay/ledger/services/wallet/internal/postgres"
	"github.com/advancia-pay/ledger/services/wallet/migrations"
)

var template = pgtest.NewTemplate("wallet", migrations.Up).As(migrations.Role)

func TestMain(m *testing.M) {
	code := m.Run()
	template.Close()
	os.Exit(code)
}

var (
	alice   = auth.Identity{Subject: "alice"}
	bob     = auth.Identity{Subject: "bob"}
	billing = auth.Identity{Subject: "billing", Roles: []string{auth.RoleService}}
)

// ledgerEnv is one test's wallet service on its own database and Redis key
// prefix.
type ledgerEnv struct {
	svc *ledger.Service
	// pool connects as the wallet service's role, like walletd.
	pool       *pgxpool.Pool
	url        string
	lockPrefix string
}

type envOption func(*lock.Options, *postgres.Options)

func newEnv(t testing.TB, options ...envOption) *ledgerEnv {
	t.Helper()
	ctx := context.Background()

	url := template.NewDatabase(t)
	pool, err := postgres.NewPool(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	rdb, prefix := redistest.NewClient(t)

	// A generous lock budget: tests assert exact outcomes, and a wallet_busy
	// error under the race detector's slowdown would be noise.
	lockOpts := lock.Options{Prefix: prefix + "lock:", MaxAttempts: 400}
	storeOpts := postgres.Options{}
	for _, o := range options {
		o(&lockOpts, &storeOpts)
	}
	storeOpts.Tx.MaxAttempts = 50

	svc := ledger.NewService(postgres.New(pool, storeOpts), lock.New(rdb, lockOpts), slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &ledgerEnv{svc: svc, pool: pool, url: url, lockPrefix: lockOpts.Prefix}
}

// admin returns a pool on the test's database as the owner of the wallet
// tables, for tests of what the schema itself enforces.
func (e *ledgerEnv) admin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.NewPool(context.Background(), pgtest.AsAdmin(e.url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func (e *ledgerEnv) wallet(t testing.TB, owner auth.Identity, currency string) ledger.Wallet {
	t.Helper()
	w, err := e.svc.CreateWallet(context.Background(), owner, currency)
	if err != nil {
		t.Fatalf("create %s wallet for %s: %v", currency, owner.Subject, err)
	}
	return w
}

func (e *ledgerEnv) fundedWallet(t testing.TB, owner auth.Identity, currency string, amount int64) ledger.Wallet {
	t.Helper()
	w := e.wallet(t, owner, currency)
	if _, err := e.move(ledger.TypeCredit, billing, w.ID, "", amount, "fund-"+w.ID); err != nil {
		t.Fatalf("fund wallet %s: %v", w.ID, err)
	}
	return w
}

func (e *ledgerEnv) move(opType string, caller auth.Identity, from, to string, amount int64, key string) (ledger.Result, error) {
	op := ledger.Operation{
		Type: opType, WalletID: from, ToWalletID: to, Amount: amount,
		IdempotencyKey: key, RequestHash: []byte(opType + from + to + key),
	}
	return e.svc.Move(context.Background(), caller, op)
}

func (e *ledgerEnv) balance(t *testing.T, walletID string) int64 {
	t.Helper()
	var balance int64
	err := e.pool.QueryRow(context.Background(), `SELECT balance FROM wallets WHERE id = $1`, walletID).Scan(&balance)
	if err != nil {
		t.Fatalf("read balance of %s: %v", walletID, err)
	}
	return balance
}

func (e *ledgerEnv) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	// A table name cannot be a parameter; callers pass a literal name.
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// checkInvariants asserts that every user wallet's balance equals the sum
// of its postings and is not negative, and that postings sum to zero per
// transaction and per currency.
func (e *ledgerEnv) checkInvariants(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	queries := map[string]string{
		"balance differs from postings": `SELECT count(*) FROM wallets w WHERE w.kind = 'user'
			AND w.balance <> (SELECT coalesce(sum(amount), 0) FROM postings p WHERE p.wallet_id = w.id)`,
		"negative user wallet": `SELECT count(*) FROM wallets WHERE kind = 'user' AND balance < 0`,
		"unbalanced transaction": `SELECT count(*) FROM (SELECT transaction_id FROM postings
			GROUP BY transaction_id, currency HAVING sum(amount) <> 0) x`,
		"unbalanced currency": `SELECT count(*) FROM (SELECT currency FROM postings
			GROUP BY currency HAVING sum(amount) <> 0) x`,
	}
	for name, q := range queries {
		var n int
		if err := e.pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows", name, n)
		}
	}
}

func codeOf(err error) apperr.Code {
	if err == nil {
		return ""
	}
	var appErr *apperr.Error
	if errors.As(err, &appErr) {
		return appErr.Code
	}
	return apperr.Code("unexpected: " + err.Error())
}
