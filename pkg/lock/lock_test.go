package lock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/advancia-pay/ledger/pkg/redistest"
)

func newLocker(t *testing.T, opts Options) (*Locker, *redis.Client, string) {
	t.Helper()

	client, prefix := redistest.NewClient(t)
	opts.Prefix = prefix

	return New(client, opts), client, prefix
}

// TestMutualExclusion increments a Redis counter with a non-atomic GET and
// SET under the lock. Any overlap between holders would lose an increment.
func TestMutualExclusion(t *testing.T) {
	t.Parallel()

	locker, client, prefix := newLocker(t, Options{MaxAttempts: 2000, MaxDelay: 5 * time.Millisecond})
	ctx := context.Background()
	// The counter lives under the test prefix but outside the lock key.
	counterKey := prefix + "count"

	const (
		workers    = 8
		increments = 25
	)

	var (
		wg       sync.WaitGroup
		inside   atomic.Int32
		overlaps atomic.Int32
		failures = make(chan error, workers*increments)
	)

	for range workers {
		wg.Add(1)

		go func() {
			defer wg.Done()

			for range increments {
				if err := incrementUnderLock(ctx, locker, client, counterKey, &inside, &overlaps); err != nil {
					failures <- err
					return
				}
			}
		}()
	}

	wg.Wait()
	close(failures)

	for err := range failures {
		t.Errorf("increment: %v", err)
	}

	if got := overlaps.Load(); got != 0 {
		t.Errorf("overlapping holders = %d, want 0", got)
	}

	got, err := client.Get(ctx, counterKey).Int()
	if err != nil {
		t.Fatalf("get counter: %v", err)
	}

	if got != workers*increments {
		t.Errorf("counter = %d, want %d", got, workers*increments)
	}
}

func incrementUnderLock(ctx context.Context, locker *Locker, client *redis.Client, key string, inside, overlaps *atomic.Int32) (err error) {
	lk, err := locker.Acquire(ctx, "counter")
	if err != nil {
		return err
	}

	defer func() {
		err = errors.Join(err, lk.Release(ctx))
	}()

	if inside.Add(1) != 1 {
		overlaps.Add(1)
	}
	defer inside.Add(-1)

	value, err := client.Get(ctx, key).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}

	return client.Set(ctx, key, strconv.Itoa(value+1), 0).Err()
}

func TestExpiredHolderIsReplaced(t *testing.T) {
	t.Parallel()

	locker, _, _ := newLocker(t, Options{TTL: 200 * time.Millisecond, MaxAttempts: 400, MaxDelay: 25 * time.Millisecond})
	ctx := context.Background()

	// The first holder never releases, as if its process had crashed.
	if _, err := locker.Acquire(ctx, "wallet"); err != nil {
		t.Fatalf("first acquire: %v", err)
	}

	lk, err := locker.Acquire(ctx, "wallet")
	if err != nil {
		t.Fatalf("acquire after TTL: %v", err)
	}

	if err := lk.Release(ctx); err != nil {
		t.Errorf("release: %v", err)
	}
}

func TestReleaseAfterExpiryKeepsNewHolder(t *testing.T) {
	t.Parallel()

	locker, client, prefix := newLocker(t, Options{TTL: 100 * time.Millisecond, MaxAttempts: 400, MaxDelay: 25 * time.Millisecond})
	ctx := context.Background()

	first, err := locker.Acquire(ctx, "wallet")
	if err != nil {
		t.Fatalf("first acquire: %v", err)
	}

	// Acquire retries until the first lock expires.
	second, err := locker.Acquire(ctx, "wallet")
	if err != nil {
		t.Fatalf("second acquire: %v", err)
	}

	if err := first.Release(ctx); !errors.Is(err, ErrNotHeld) {
		t.Errorf("first release = %v, want ErrNotHeld", err)
	}

	value, err := client.Get(ctx, prefix+"wallet").Result()
	if err != nil {
		t.Fatalf("get key after stale release: %v", err)
	}

	if value != second.token {
		t.Errorf("key value = %q, want second holder's token %q", value, second.token)
	}

	if err := second.Release(ctx); err != nil {
		t.Errorf("second release: %v", err)
	}
}

func TestNotAcquiredWhileHeld(t *testing.T) {
	t.Parallel()

	locker, client, prefix := newLocker(t, Options{TTL: time.Minute, MaxAttempts: 3})
	ctx := context.Background()

	holder, err := locker.Acquire(ctx, "b")
	if err != nil {
		t.Fatalf("acquire b: %v", err)
	}

	lk, err := locker.Acquire(ctx, "a", "b")
	if !errors.Is(err, ErrNotAcquired) {
		t.Fatalf("acquire a, b = %v, want ErrNotAcquired", err)
	}

	if lk != nil {
		t.Errorf("lock = %v, want nil", lk)
	}

	// Acquire took "a" before failing on "b" and must have released it.
	exists, err := client.Exists(ctx, prefix+"a").Result()
	if err != nil {
		t.Fatalf("exists a: %v", err)
	}

	if exists != 0 {
		t.Errorf("key a still exists after failed acquire")
	}

	if err := holder.Release(ctx); err != nil {
		t.Errorf("release b: %v", err)
	}
}

func TestOppositeOrderNoDeadlock(t *testing.T) {
	t.Parallel()

	locker, _, _ := newLocker(t, Options{TTL: time.Minute, MaxAttempts: 2000, MaxDelay: 5 * time.Millisecond})
	ctx := context.Background()

	const rounds = 50

	orders := [][]string{{"a", "b", "a"}, {"b", "a"}}
	errs := make(chan error, len(orders))

	for _, keys := range orders {
		go func() {
			errs <- lockRepeatedly(ctx, locker, keys, rounds)
		}()
	}

	for range orders {
		if err := <-errs; err != nil {
			t.Errorf("lock repeatedly: %v", err)
		}
	}
}

func lockRepeatedly(ctx context.Context, locker *Locker, keys []string, rounds int) error {
	for range rounds {
		lk, err := locker.Acquire(ctx, keys...)
		if err != nil {
			return err
		}

		if got := lk.Keys(); !slices.Equal(got, []string{"a", "b"}) {
			return fmt.Errorf("Keys() = %v, want [a b]", got)
		}

		if err := lk.Release(ctx); err != nil {
			return err
		}
	}

	return nil
}

func TestAcquireCanceled(t *testing.T) {
	t.Parallel()

	locker, _, _ := newLocker(t, Options{TTL: time.Minute, MaxAttempts: 100000, BaseDelay: 10 * time.Millisecond, MaxDelay: 10 * time.Millisecond})

	holder, err := locker.Acquire(context.Background(), "wallet")
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()

	_, err = locker.Acquire(ctx, "wallet")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("acquire = %v, want context.Canceled", err)
	}

	if errors.Is(err, ErrNotAcquired) {
		t.Errorf("acquire error wraps ErrNotAcquired, want only context.Canceled")
	}

	// A canceled context still releases.
	if err := holder.Release(ctx); err != nil {
		t.Errorf("release with canceled ctx: %v", err)
	}
}

func TestReleaseTwice(t *testing.T) {
	t.Parallel()

	locker, client, prefix := newLocker(t, Options{})
	ctx := context.Background()

	lk, err := locker.Acquire(ctx, "wallet", "wallet")
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}

	if got := lk.Keys(); !slices.Equal(got, []string{"wallet"}) {
		t.Errorf("Keys() = %v, want [wallet]", got)
	}

	ttl, err := client.PTTL(ctx, prefix+"wallet").Result()
	if err != nil {
		t.Fatalf("pttl: %v", err)
	}

	if ttl <= 0 || ttl > defaultTTL {
		t.Errorf("PTTL = %s, want within (0, %s]", ttl, defaultTTL)
	}

	if err := lk.Release(ctx); err != nil {
		t.Fatalf("first release: %v", err)
	}

	if err := lk.Release(ctx); !errors.Is(err, ErrNotHeld) {
		t.Errorf("second release = %v, want ErrNotHeld", err)
	}
}

func TestAcquireNoKeys(t *testing.T) {
	t.Parallel()

	locker, _, _ := newLocker(t, Options{})

	lk, err := locker.Acquire(context.Background())
	if err == nil {
		t.Fatalf("acquire with no keys = %v, want error", lk)
	}
}

// metricReader collects from the global meter provider, which the delegating
// global meter binds only once per process.
var (
	metricReader    = sdkmetric.NewManualReader()
	installProvider sync.Once
)

// TestWaitMetric does not run in parallel because it counts every Acquire in
// the process.
func TestWaitMetric(t *testing.T) {
	installProvider.Do(func() {
		otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(metricReader)))
	})

	locker, _, _ := newLocker(t, Options{TTL: time.Minute, MaxAttempts: 2})
	ctx := context.Background()
	before := waitCounts(t)

	holder, err := locker.Acquire(ctx, "wallet")
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}

	if _, err := locker.Acquire(ctx, "wallet"); !errors.Is(err, ErrNotAcquired) {
		t.Fatalf("second acquire = %v, want ErrNotAcquired", err)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()

	if _, err := locker.Acquire(canceled, "wallet"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled acquire = %v, want context.Canceled", err)
	}

	if err := holder.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}

	after := waitCounts(t)
	for _, outcome := range []string{outcomeAcquired, outcomeNotAcquired, outcomeCanceled} {
		if got := after[outcome] - before[outcome]; got != 1 {
			t.Errorf("ledger.lock.wait{outcome=%s} count grew by %d, want 1", outcome, got)
		}
	}
}

// waitCounts returns the number of ledger.lock.wait measurements by outcome.
func waitCounts(t *testing.T) map[string]uint64 {
	t.Helper()

	var data metricdata.ResourceMetrics
	if err := metricReader.Collect(context.Background(), &data); err != nil {
		t.Fatalf("collect: %v", err)
	}

	counts := make(map[string]uint64)

	for _, scope := range data.ScopeMetrics {
		for _, m := range scope.Metrics {
			histogram, ok := m.Data.(metricdata.Histogram[float64])
			if m.Name != "ledger.lock.wait" || !ok {
				continue
			}

			if m.Unit != "s" {
				t.Errorf("ledger.lock.wait unit = %q, want s", m.Unit)
			}

			for _, point := range histogram.DataPoints {
				value, _ := point.Attributes.Value(attribute.Key("outcome"))
				counts[value.AsString()] += point.Count
			}
		}
	}

	return counts
}
