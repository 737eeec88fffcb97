// Package lock provides a Redis-based mutual-exclusion lock that reduces
// contention between callers working on the same keys. The lock expires after
// its TTL even if the holder is still working, so correctness must never
// depend on it: the database transaction remains the source of truth.
package lock

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/advancia-pay/ledger/pkg/backoff"
)

const (
	defaultPrefix      = "lock:"
	defaultTTL         = 5 * time.Second
	defaultMaxAttempts = 50
	defaultBaseDelay   = 2 * time.Millisecond
	defaultMaxDelay    = 50 * time.Millisecond

	// releaseTimeout bounds the release, which runs even after the
	// caller's context is canceled.
	releaseTimeout = 2 * time.Second
)

// ErrNotAcquired is wrapped by Acquire when a key stayed held by another
// caller for MaxAttempts attempts.
var ErrNotAcquired = errors.New("lock: not acquired")

// ErrNotHeld is wrapped by Release when a key had expired or was taken by
// another caller, and returned by every Release after the first.
var ErrNotHeld = errors.New("lock: not held")

// releaseScriptSource is release.lua, which `make bench` also measures with
// redis-benchmark.
//
//go:embed release.lua
var releaseScriptSource string

// releaseScript deletes KEYS[1] only while it still contains the token ARGV[1],
// so a holder whose lock expired never deletes the next holder's lock. It
// returns 1 when it deleted the key and 0 otherwise.
var releaseScript = redis.NewScript(releaseScriptSource)

// Options configures a Locker. Zero fields take the documented defaults.
type Options struct {
	// Prefix is prepended to every key, "lock:" when empty.
	Prefix string

	// TTL is how long a key stays locked without Release, 5s when zero or
	// negative. Redis stores it with millisecond precision.
	TTL time.Duration

	// MaxAttempts is the number of SET NX attempts per key, 50 when zero
	// or negative.
	MaxAttempts int

	// BaseDelay is the upper bound of the first retry delay, 2ms when zero
	// or negative. The bound doubles after each failed attempt.
	BaseDelay time.Duration

	// MaxDelay caps the upper bound of every retry delay, 50ms when zero or
	// negative.
	MaxDelay time.Duration
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}

	if o.TTL <= 0 {
		o.TTL = defaultTTL
	}

	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultMaxAttempts
	}

	if o.BaseDelay <= 0 {
		o.BaseDelay = defaultBaseDelay
	}

	if o.MaxDelay <= 0 {
		o.MaxDelay = defaultMaxDelay
	}

	return o
}

// Locker acquires locks on one Redis deployment. It is safe for concurrent
// use.
type Locker struct {
	client redis.UniversalClient
	opts   Options
}

// New returns a Locker that stores locks through client with opts, applying
// the defaults documented on Options.
func New(client redis.UniversalClient, opts Options) *Locker {
	return &Locker{client: client, opts: opts.withDefaults()}
}

// Lock is a set of keys held with one random token. Its methods are safe for
// concurrent use.
type Lock struct {
	client redis.UniversalClient
	prefix string
	keys   []string
	token  string

	mu       sync.Mutex
	released bool
}

// Acquire locks every key, removing duplicates and locking in sorted order so
// that two callers never wait on each other in opposite order. Each key is
// tried up to MaxAttempts times with SET NX PX and a random delay between
// attempts. On failure Acquire releases the keys it already took and returns
// an error wrapping ErrNotAcquired, ctx.Err() when ctx ended, or the Redis
// error. Acquire with no keys returns an error.
func (l *Locker) Acquire(ctx context.Context, keys ...string) (*Lock, error) {
	if len(keys) == 0 {
		return nil, errors.New("lock: acquire needs at least one key")
	}

	token, err := newToken()
	if err != nil {
		return nil, err
	}

	lk := &Lock{
		client: l.client,
		prefix: l.opts.Prefix,
		keys:   slices.Compact(slices.Sorted(slices.Values(keys))),
		token:  token,
	}

	start := time.Now()

	lockedKeys, err := l.acquireAll(ctx, lk)

	recordWait(ctx, time.Since(start), outcome(err))

	if err != nil {
		lk.keys = lockedKeys
		_ = lk.Release(ctx)

		return nil, err
	}

	return lk, nil
}

// acquireAll locks lk.keys in order. On failure it returns the keys that may
// hold the token: those it locked and the failed key, because a SET whose
// reply was lost to cancellation may still have been applied.
func (l *Locker) acquireAll(ctx context.Context, lk *Lock) ([]string, error) {
	for i, key := range lk.keys {
		if err := l.acquireOne(ctx, lk.prefix+key, lk.token); err != nil {
			return lk.keys[:i+1], fmt.Errorf("lock: acquire %q: %w", key, err)
		}
	}

	return lk.keys, nil
}

func (l *Locker) acquireOne(ctx context.Context, key, token string) error {
	for attempt := 1; ; attempt++ {
		ok, err := l.client.SetNX(ctx, key, token, l.opts.TTL).Result()
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}

			return fmt.Errorf("set %s: %w", key, err)
		}

		if ok {
			return nil
		}

		if attempt >= l.opts.MaxAttempts {
			return fmt.Errorf("%w after %d attempts", ErrNotAcquired, attempt)
		}

		if err := backoff.Sleep(ctx, backoff.Jittered(attempt, l.opts.BaseDelay, l.opts.MaxDelay)); err != nil {
			return err
		}
	}
}

// Release deletes each key that still contains this lock's token and leaves
// keys that expired or were taken by another caller. It returns an error
// wrapping ErrNotHeld if any key was no longer held, after releasing the
// others. It keeps working after ctx is canceled, bounded by a 2s timeout.
// Every call after the first returns ErrNotHeld.
func (lk *Lock) Release(ctx context.Context) error {
	lk.mu.Lock()
	defer lk.mu.Unlock()

	if lk.released {
		return fmt.Errorf("%w: already released", ErrNotHeld)
	}

	lk.released = true

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()

	var errs []error

	for _, key := range lk.keys {
		if err := lk.releaseOne(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}

	return errors.Join(errs...)
}

func (lk *Lock) releaseOne(ctx context.Context, key string) error {
	deleted, err := releaseScript.Run(ctx, lk.client, []string{lk.prefix + key}, lk.token).Int()
	if err != nil {
		return fmt.Errorf("lock: release %q: %w", key, err)
	}

	if deleted == 0 {
		return fmt.Errorf("%w: %q expired or was taken by another caller", ErrNotHeld, key)
	}

	return nil
}

// Keys returns a copy of the locked keys, sorted and without duplicates and
// without the Locker's prefix.
func (lk *Lock) Keys() []string {
	return slices.Clone(lk.keys)
}

// newToken returns 128 random bits as 32 hex characters.
func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("lock: generate token: %w", err)
	}

	return hex.EncodeToString(b[:]), nil
}
