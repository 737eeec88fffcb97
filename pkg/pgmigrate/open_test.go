package pgmigrate_test

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/pgmigrate"
	"github.com/advancia-pay/ledger/pkg/pgtest"
)

var template = pgtest.NewTemplate("pgmigrate", func(ctx context.Context, url string) error { return nil })

func TestMain(m *testing.M) {
	code := m.Run()
	template.Close()
	os.Exit(code)
}

func TestNewPoolSetsIdleInTransactionTimeout(t *testing.T) {
	ctx := context.Background()
	pool, err := pgmigrate.NewPool(ctx, template.NewDatabase(t), "public")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	var timeout string
	if err := pool.QueryRow(ctx, `SHOW idle_in_transaction_session_timeout`).Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != pgmigrate.IdleInTransactionTimeout {
		t.Errorf("idle_in_transaction_session_timeout = %q, want %q", timeout, pgmigrate.IdleInTransactionTimeout)
	}
}

// TestStalledTransactionReleasesItsLocks stalls a transaction that holds a
// row lock past a 1 s timeout set in the URL, and requires PostgreSQL to
// end it so that another session can take the row.
func TestStalledTransactionReleasesItsLocks(t *testing.T) {
	ctx := context.Background()
	u, err := url.Parse(template.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	query := u.Query()
	query.Set("idle_in_transaction_session_timeout", "1s")
	u.RawQuery = query.Encode()
	pool, err := pgmigrate.NewPool(ctx, u.String(), "public")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE accounts (id int PRIMARY KEY, balance int); INSERT INTO accounts VALUES (1, 100)`); err != nil {
		t.Fatal(err)
	}

	stalled, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stalled.Exec(ctx, `UPDATE accounts SET balance = 0 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)

	lockCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := pool.Exec(lockCtx, `UPDATE accounts SET balance = balance + 1 WHERE id = 1`); err != nil {
		t.Fatalf("update after the stalled transaction's timeout: %v", err)
	}
	if err := stalled.Commit(ctx); err == nil {
		t.Error("the stalled transaction committed after PostgreSQL ended its session")
	}
	var balance int
	if err := pool.QueryRow(ctx, `SELECT balance FROM accounts WHERE id = 1`).Scan(&balance); err != nil || balance != 101 {
		t.Errorf("balance = %d, %v; want 101 (the stalled update rolled back)", balance, err)
	}
}
