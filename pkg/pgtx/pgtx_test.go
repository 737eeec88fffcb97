package pgtx

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/advancia-pay/ledger/pkg/pgtest"
)

const schema = `
CREATE TABLE doctors (
	name    text PRIMARY KEY,
	on_call boolean NOT NULL
);
INSERT INTO doctors VALUES ('alice', true), ('bob', true);

CREATE TABLE accounts (
	id      bigint PRIMARY KEY,
	email   text NOT NULL CONSTRAINT accounts_email_key UNIQUE,
	balance bigint NOT NULL CONSTRAINT accounts_balance_check CHECK (balance >= 0)
);
`

var template = pgtest.NewTemplate("pgtx", func(ctx context.Context, databaseURL string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	_, err = conn.Exec(ctx, schema)

	return err
})

func TestMain(m *testing.M) {
	code := m.Run()
	template.Close()
	os.Exit(code)
}

var errSerialization = &pgconn.PgError{Code: "40001", Message: "could not serialize access"}

// fastRetries keeps retry delays short so the tests spend little time asleep.
var fastRetries = Options{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

// TestInTxRetriesWriteSkew runs the classic on-call write skew: two
// SERIALIZABLE transactions each see two doctors on call and take one off.
// PostgreSQL aborts at least one of them with 40001, and once the other has
// committed, the retry sees one doctor left and changes nothing.
func TestInTxRetriesWriteSkew(t *testing.T) {
	t.Parallel()

	pool := template.NewPool(t)
	ctx := context.Background()

	var (
		bothRead sync.WaitGroup
		calls    atomic.Int64
		retries  atomic.Int64
		badCode  atomic.Value
	)

	bothRead.Add(2)

	opts := fastRetries
	opts.OnRetry = func(attempt int, err error) {
		retries.Add(1)
		if code := retryableState(err); code != "40001" {
			badCode.Store(code)
		}
	}

	goOffCall := func(name string) error {
		first := true

		return InTx(ctx, pool, opts, func(tx pgx.Tx) error {
			calls.Add(1)

			var onCall int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM doctors WHERE on_call`).Scan(&onCall); err != nil {
				return err
			}

			// Only the first attempt waits, so that both transactions read
			// before either writes.
			if first {
				first = false
				bothRead.Done()

				if err := waitTimeout(&bothRead, 10*time.Second); err != nil {
					return err
				}
			}

			if onCall < 2 {
				return nil
			}

			_, err := tx.Exec(ctx, `UPDATE doctors SET on_call = false WHERE name = $1`, name)

			return err
		})
	}

	errs := make(chan error, 2)
	for _, name := range []string{"alice", "bob"} {
		go func() { errs <- goOffCall(name) }()
	}

	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("InTx: %v", err)
		}
	}

	// A retry that starts before the other transaction commits can fail
	// again, so the exact number of retries depends on timing.
	if retries.Load() < 1 {
		t.Errorf("retries = 0, want at least 1")
	}

	if code := badCode.Load(); code != nil {
		t.Errorf("retry sqlstate = %v, want 40001", code)
	}

	if got, want := calls.Load(), 2+retries.Load(); got != want {
		t.Errorf("fn calls = %d, want %d (two first attempts plus one per retry)", got, want)
	}

	var onCall int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM doctors WHERE on_call`).Scan(&onCall); err != nil {
		t.Fatalf("count on call: %v", err)
	}

	if onCall != 1 {
		t.Errorf("doctors on call = %d, want 1", onCall)
	}
}

func TestInTxStopsAfterMaxAttempts(t *testing.T) {
	t.Parallel()

	pool := template.NewPool(t)

	var calls, retries int

	opts := fastRetries
	opts.MaxAttempts = 4
	opts.OnRetry = func(attempt int, err error) {
		retries++
		if attempt != retries {
			t.Errorf("OnRetry attempt = %d, want %d", attempt, retries)
		}
	}

	err := InTx(context.Background(), pool, opts, func(pgx.Tx) error {
		calls++
		return errSerialization
	})

	if !errors.Is(err, ErrRetriesExhausted) {
		t.Errorf("error = %v, want ErrRetriesExhausted", err)
	}

	if !errors.Is(err, errSerialization) {
		t.Errorf("error = %v, want it to wrap the last PgError", err)
	}

	if calls != 4 {
		t.Errorf("fn calls = %d, want 4", calls)
	}

	if retries != 3 {
		t.Errorf("OnRetry calls = %d, want 3", retries)
	}
}

func TestInTxDefaultMaxAttempts(t *testing.T) {
	t.Parallel()

	pool := template.NewPool(t)

	var calls int

	err := InTx(context.Background(), pool, fastRetries, func(pgx.Tx) error {
		calls++
		return &pgconn.PgError{Code: "40P01"}
	})

	if !errors.Is(err, ErrRetriesExhausted) {
		t.Errorf("error = %v, want ErrRetriesExhausted", err)
	}

	if calls != defaultMaxAttempts {
		t.Errorf("fn calls = %d, want %d", calls, defaultMaxAttempts)
	}
}

func TestInTxNonRetryableReturnsAtOnce(t *testing.T) {
	t.Parallel()

	pool := template.NewPool(t)
	errBusiness := errors.New("insufficient funds")

	tests := []struct {
		name string
		err  error
	}{
		{"plain error", errBusiness},
		{"unique violation", &pgconn.PgError{Code: "23505"}},
	}

	for _, tt := range tests {
		var calls int

		err := InTx(context.Background(), pool, fastRetries, func(pgx.Tx) error {
			calls++
			return tt.err
		})

		if !errors.Is(err, tt.err) {
			t.Errorf("%s: error = %v, want %v", tt.name, err, tt.err)
		}

		if errors.Is(err, ErrRetriesExhausted) {
			t.Errorf("%s: error wraps ErrRetriesExhausted", tt.name)
		}

		if calls != 1 {
			t.Errorf("%s: fn calls = %d, want 1", tt.name, calls)
		}
	}
}

func TestInTxCancelStopsRetrying(t *testing.T) {
	t.Parallel()

	pool := template.NewPool(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var calls int

	opts := Options{
		BaseDelay: time.Hour,
		MaxDelay:  time.Hour,
		OnRetry:   func(int, error) { cancel() },
	}

	err := InTx(ctx, pool, opts, func(pgx.Tx) error {
		calls++
		return errSerialization
	})

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}

	if !errors.Is(err, errSerialization) {
		t.Errorf("error = %v, want it to wrap the last PgError", err)
	}

	if errors.Is(err, ErrRetriesExhausted) {
		t.Errorf("error wraps ErrRetriesExhausted")
	}

	if calls != 1 {
		t.Errorf("fn calls = %d, want 1", calls)
	}
}

func TestInTxRollsBackOnError(t *testing.T) {
	t.Parallel()

	pool := template.NewPool(t)
	ctx := context.Background()
	errAbort := errors.New("abort")

	err := InTx(ctx, pool, Options{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO accounts VALUES (1, 'a@example.com', 10)`); err != nil {
			return err
		}

		return errAbort
	})

	if !errors.Is(err, errAbort) {
		t.Fatalf("error = %v, want errAbort", err)
	}

	if got := countAccounts(t, pool); got != 0 {
		t.Errorf("accounts = %d, want 0", got)
	}
}

func TestInTxCommits(t *testing.T) {
	t.Parallel()

	pool := template.NewPool(t)
	ctx := context.Background()

	var isolation string

	err := InTx(ctx, pool, Options{Isolation: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SHOW transaction_isolation`).Scan(&isolation); err != nil {
			return err
		}

		_, err := tx.Exec(ctx, `INSERT INTO accounts VALUES (1, 'a@example.com', 10)`)

		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}

	if isolation != "repeatable read" {
		t.Errorf("isolation = %q, want %q", isolation, "repeatable read")
	}

	if got := countAccounts(t, pool); got != 1 {
		t.Errorf("accounts = %d, want 1", got)
	}
}

func TestInTxDefaultIsolationSerializable(t *testing.T) {
	t.Parallel()

	pool := template.NewPool(t)
	ctx := context.Background()

	var isolation string

	err := InTx(ctx, pool, Options{}, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SHOW transaction_isolation`).Scan(&isolation)
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}

	if isolation != "serializable" {
		t.Errorf("isolation = %q, want %q", isolation, "serializable")
	}
}

func TestConstraintViolations(t *testing.T) {
	t.Parallel()

	pool := template.NewPool(t)
	ctx := context.Background()

	if _, err := pool.Exec(ctx, `INSERT INTO accounts VALUES (1, 'a@example.com', 10)`); err != nil {
		t.Fatalf("seed: %v", err)
	}

	_, uniqueErr := pool.Exec(ctx, `INSERT INTO accounts VALUES (2, 'a@example.com', 10)`)
	_, checkErr := pool.Exec(ctx, `UPDATE accounts SET balance = -1 WHERE id = 1`)

	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"unique any", IsUniqueViolation(uniqueErr, ""), true},
		{"unique named", IsUniqueViolation(uniqueErr, "accounts_email_key"), true},
		{"unique other name", IsUniqueViolation(uniqueErr, "accounts_pkey"), false},
		{"unique on check error", IsUniqueViolation(checkErr, ""), false},
		{"check any", IsCheckViolation(checkErr, ""), true},
		{"check named", IsCheckViolation(checkErr, "accounts_balance_check"), true},
		{"check other name", IsCheckViolation(checkErr, "other_check"), false},
		{"check on unique error", IsCheckViolation(uniqueErr, ""), false},
		{"unique on nil", IsUniqueViolation(nil, ""), false},
		{"retryable unique", IsRetryable(uniqueErr), false},
	}

	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %t, want %t", tt.name, tt.got, tt.want)
		}
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("x"), false},
		{"serialization", &pgconn.PgError{Code: "40001"}, true},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, true},
		{"wrapped", errors.Join(errors.New("rollback failed"), &pgconn.PgError{Code: "40001"}), true},
		{"other class 40", &pgconn.PgError{Code: "40002"}, false},
		{"joined after other PgError", errors.Join(&pgconn.PgError{Code: "23505"}, &pgconn.PgError{Code: "40P01"}), true},
	}

	for _, tt := range tests {
		if got := IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%s) = %t, want %t", tt.name, got, tt.want)
		}
	}
}

// metricReader collects from the global meter provider, which the delegating
// global meter binds only once per process.
var (
	metricReader    = sdkmetric.NewManualReader()
	installProvider sync.Once
)

// TestRetryMetric does not run in parallel because it counts every retry in
// the process.
func TestRetryMetric(t *testing.T) {
	installProvider.Do(func() {
		otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(metricReader)))
	})

	pool := template.NewPool(t)
	before := retryMetric(t)

	opts := fastRetries
	opts.MaxAttempts = 3

	err := InTx(context.Background(), pool, opts, func(pgx.Tx) error { return errSerialization })
	if !errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("error = %v, want ErrRetriesExhausted", err)
	}

	if got := retryMetric(t) - before; got != 2 {
		t.Errorf("ledger.pgtx.retries{sqlstate=40001} grew by %d, want 2", got)
	}
}

func retryMetric(t *testing.T) int64 {
	t.Helper()

	var data metricdata.ResourceMetrics
	if err := metricReader.Collect(context.Background(), &data); err != nil {
		t.Fatalf("collect: %v", err)
	}

	value, _ := counterValue(data, "ledger.pgtx.retries", attribute.String("sqlstate", "40001"))

	return value
}

func counterValue(data metricdata.ResourceMetrics, name string, attr attribute.KeyValue) (int64, bool) {
	for _, scope := range data.ScopeMetrics {
		for _, m := range scope.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != name || !ok {
				continue
			}

			for _, point := range sum.DataPoints {
				if v, ok := point.Attributes.Value(attr.Key); ok && v == attr.Value {
					return point.Value, true
				}
			}
		}
	}

	return 0, false
}

func countAccounts(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()

	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
		t.Fatalf("count accounts: %v", err)
	}

	return n
}

func waitTimeout(wg *sync.WaitGroup, timeout time.Duration) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()

	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		return errors.New("other transaction did not read within the timeout")
	}
}
