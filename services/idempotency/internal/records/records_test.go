package records_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/advancia-pay/ledger/pkg/pgtest"
	"github.com/advancia-pay/ledger/pkg/redistest"
	"github.com/advancia-pay/ledger/services/idempotency/internal/records"
	"github.com/advancia-pay/ledger/services/idempotency/migrations"
)

var template = pgtest.NewTemplate("idempotency", migrations.Up).As(migrations.Role)

func TestMain(m *testing.M) {
	code := m.Run()
	template.Close()
	os.Exit(code)
}

type env struct {
	store  *records.Store
	pool   *pgxpool.Pool
	redis  *redis.Client
	prefix string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := newPool(t)
	rdb, prefix := redistest.NewClient(t)
	return &env{
		store: records.New(pool, rdb, records.Options{RedisPrefix: prefix}),
		pool:  pool, redis: rdb, prefix: prefix,
	}
}

func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(template.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = migrations.Schema
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

var (
	ctx         = context.Background()
	fingerprint = []byte("fingerprint-1")
)

func (e *env) claim(t *testing.T, key string, fp []byte, lease time.Duration) records.Claim {
	t.Helper()
	c, err := e.store.Claim(ctx, "user-1 /Debit", key, fp, lease)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClaimOutcomes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	first := e.claim(t, "k1", fingerprint, time.Minute)
	if first.Outcome != records.OutcomeNew || first.LeaseToken == "" {
		t.Fatalf("first claim = %+v, want new with a token", first)
	}
	if c := e.claim(t, "k1", fingerprint, time.Minute); c.Outcome != records.OutcomeInProgress || c.RetryAfter <= 0 || c.RetryAfter > time.Minute {
		t.Errorf("claim while running = %+v, want in_progress with retry_after within the lease", c)
	}
	if c := e.claim(t, "k1", []byte("other"), time.Minute); c.Outcome != records.OutcomeMismatch {
		t.Errorf("claim with another fingerprint = %+v, want mismatch", c)
	}

	if err := e.store.Complete(ctx, "user-1 /Debit", "k1", first.LeaseToken, []byte("response-1")); err != nil {
		t.Fatal(err)
	}
	done := e.claim(t, "k1", fingerprint, time.Minute)
	if done.Outcome != records.OutcomeCompleted || string(done.Response) != "response-1" {
		t.Errorf("claim after completion = %+v, want completed with response-1", done)
	}
	if c := e.claim(t, "k1", []byte("other"), time.Minute); c.Outcome != records.OutcomeMismatch {
		t.Errorf("cached claim with another fingerprint = %+v, want mismatch", c)
	}
	if err := e.store.Complete(ctx, "user-1 /Debit", "k1", first.LeaseToken, []byte("again")); !errors.Is(err, records.ErrLeaseLost) {
		t.Errorf("second Complete = %v, want ErrLeaseLost", err)
	}
}

func TestScopesAreSeparate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, err := e.store.Claim(ctx, "user-a /Debit", "shared", fingerprint, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Complete(ctx, "user-a /Debit", "shared", a.LeaseToken, []byte("a's response")); err != nil {
		t.Fatal(err)
	}
	b, err := e.store.Claim(ctx, "user-b /Debit", "shared", fingerprint, time.Minute)
	if err != nil || b.Outcome != records.OutcomeNew {
		t.Errorf("user b's claim of user a's key = %+v, %v; want new", b, err)
	}
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	crashed := e.claim(t, "k1", fingerprint, time.Second)

	time.Sleep(1100 * time.Millisecond)

	retry := e.claim(t, "k1", fingerprint, time.Minute)
	if retry.Outcome != records.OutcomeNew || retry.LeaseToken == crashed.LeaseToken {
		t.Fatalf("claim after the lease ran out = %+v, want new with another token", retry)
	}
	if err := e.store.Complete(ctx, "user-1 /Debit", "k1", crashed.LeaseToken, []byte("late")); !errors.Is(err, records.ErrLeaseLost) {
		t.Errorf("Complete by the crashed holder = %v, want ErrLeaseLost", err)
	}
	if err := e.store.Complete(ctx, "user-1 /Debit", "k1", retry.LeaseToken, []byte("retry")); err != nil {
		t.Fatal(err)
	}
	if c := e.claim(t, "k1", fingerprint, time.Minute); string(c.Response) != "retry" {
		t.Errorf("stored response = %q, want the retry's", c.Response)
	}
}

func TestReleaseLetsRetryRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.claim(t, "k1", fingerprint, time.Minute)
	if err := e.store.Release(ctx, "user-1 /Debit", "k1", first.LeaseToken); err != nil {
		t.Fatal(err)
	}
	if c := e.claim(t, "k1", fingerprint, time.Minute); c.Outcome != records.OutcomeNew {
		t.Errorf("claim after release = %+v, want new", c)
	}
}

func TestPostgresServesWhenRedisIsEmptyOrDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.claim(t, "k1", fingerprint, time.Minute)
	if err := e.store.Complete(ctx, "user-1 /Debit", "k1", first.LeaseToken, []byte("kept")); err != nil {
		t.Fatal(err)
	}

	keys, err := e.redis.Keys(ctx, e.prefix+"*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("Redis keys = %v, %v; want the one cached record", keys, err)
	}
	if err := e.redis.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	if c := e.claim(t, "k1", fingerprint, time.Minute); c.Outcome != records.OutcomeCompleted || string(c.Response) != "kept" {
		t.Errorf("claim after the cache was emptied = %+v, want completed from PostgreSQL", c)
	}

	// A Redis that cannot be reached: port 1 on loopback refuses at once.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	store := records.New(e.pool, down, records.Options{})
	c, err := store.Claim(ctx, "user-1 /Debit", "k1", fingerprint, time.Minute)
	if err != nil || c.Outcome != records.OutcomeCompleted || string(c.Response) != "kept" {
		t.Errorf("claim with Redis down = %+v, %v; want completed from PostgreSQL", c, err)
	}
	fresh, err := store.Claim(ctx, "user-1 /Debit", "k2", fingerprint, time.Minute)
	if err != nil || fresh.Outcome != records.OutcomeNew {
		t.Errorf("new claim with Redis down = %+v, %v; want new", fresh, err)
	}
}

func TestExpiredRecordsAreDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.claim(t, "old", fingerprint, time.Minute)
	if err := e.store.Complete(ctx, "user-1 /Debit", "old", old.LeaseToken, []byte("old response")); err != nil {
		t.Fatal(err)
	}
	e.claim(t, "recent", fingerprint, time.Minute)
	if _, err := e.pool.Exec(ctx, `UPDATE records SET created_at = created_at - interval '25 hours',
		expires_at = expires_at - interval '25 hours' WHERE key = 'old'`); err != nil {
		t.Fatal(err)
	}

	deleted, err := e.store.DeleteExpired(ctx, 100)
	if err != nil || deleted != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1", deleted, err)
	}
	var left int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM records`).Scan(&left); err != nil || left != 1 {
		t.Errorf("records left = %d, %v; want 1", left, err)
	}
	// Backdating moved only the row; the Redis copy, which in service
	// expires together with it, is dropped by hand.
	if err := e.redis.Del(ctx, mustKeys(t, e)...).Err(); err != nil {
		t.Fatal(err)
	}
	if c := e.claim(t, "old", fingerprint, time.Minute); c.Outcome != records.OutcomeNew {
		t.Errorf("claim of a key older than 24 hours = %+v, want new", c)
	}
}

func mustKeys(t *testing.T, e *env) []string {
	t.Helper()
	keys, err := e.redis.Keys(ctx, e.prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("Redis keys = %v, %v", keys, err)
	}
	return keys
}
