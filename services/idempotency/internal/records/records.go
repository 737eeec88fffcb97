// Package records stores idempotency records: PostgreSQL holds the durable
// copy and decides every claim, and Redis caches completed records so that
// most replays never reach PostgreSQL. Losing Redis, or its data, loses
// nothing but speed.
package records

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// Outcomes of a claim.
const (
	OutcomeNew        = "new"
	OutcomeCompleted  = "completed"
	OutcomeInProgress = "in_progress"
	OutcomeMismatch   = "mismatch"
)

// ErrLeaseLost is returned by Complete when the token no longer holds the
// record: its lease ran out and another claim took it over.
var ErrLeaseLost = errors.New("records: lease lost")

// Claim is the outcome of a claim request.
type Claim struct {
	Outcome string
	// LeaseToken is set for OutcomeNew.
	LeaseToken string
	// Response is the stored response for OutcomeCompleted.
	Response []byte
	// RetryAfter is set for OutcomeInProgress: the rest of the current lease.
	RetryAfter time.Duration
	ExpiresAt  time.Time
}

// Options tune a Store.
type Options struct {
	// TTL is how long a record lives; 24 hours by default.
	TTL time.Duration
	// RedisPrefix starts every Redis key; "idempotency:" by default.
	RedisPrefix string
	Logger      *slog.Logger
}

// Store is safe for concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	redis redis.UniversalClient
	opts  Options
}

// New returns a Store. pool must use the idempotency schema.
func New(pool *pgxpool.Pool, rdb redis.UniversalClient, opts Options) *Store {
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.RedisPrefix == "" {
		opts.RedisPrefix = "idempotency:"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Store{pool: pool, redis: rdb, opts: opts}
}

// Claim starts a request under (scope, key) with a lease, or reports that
// it completed, is running, or came with another fingerprint.
func (s *Store) Claim(ctx context.Context, scope, key string, fingerprint []byte, lease time.Duration) (Claim, error) {
	if c, ok := s.cached(ctx, scope, key, fingerprint); ok {
		return c, nil
	}

	var claim Claim
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		claim, err = s.claim(ctx, tx, scope, key, fingerprint, lease)
		return err
	})
	if err != nil {
		return Claim{}, fmt.Errorf("claim key: %w", err)
	}
	if claim.Outcome == OutcomeCompleted {
		s.cache(ctx, scope, key, fingerprint, claim.Response, claim.ExpiresAt)
	}
	return claim, nil
}

// claim inserts a new record, or locks the existing one and decides.
func (s *Store) claim(ctx context.Context, tx pgx.Tx, scope, key string, fingerprint []byte, lease time.Duration) (Claim, error) {
	token, err := newToken()
	if err != nil {
		return Claim{}, err
	}
	var expiresAt time.Time
	err = tx.QueryRow(ctx, `
		INSERT INTO records (scope, key, fingerprint, state, lease_token, lease_expires_at, created_at, expires_at)
		VALUES ($1, $2, $3, 'in_progress', $4, now() + $5::interval, now(), now() + $6::interval)
		ON CONFLICT (scope, key) DO NOTHING
		RETURNING expires_at`, scope, key, fingerprint, token, lease, s.opts.TTL).Scan(&expiresAt)
	if err == nil {
		return Claim{Outcome: OutcomeNew, LeaseToken: token, ExpiresAt: expiresAt}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Claim{}, fmt.Errorf("insert record: %w", err)
	}

	var r existing
	err = tx.QueryRow(ctx, `SELECT fingerprint, state, response, expires_at, expires_at <= now(),
			coalesce(lease_expires_at - now(), interval '0')
		FROM records WHERE scope = $1 AND key = $2 FOR UPDATE`, scope, key).
		Scan(&r.fingerprint, &r.state, &r.response, &r.expiresAt, &r.expired, &r.leaseLeft)
	if err != nil {
		return Claim{}, fmt.Errorf("lock record: %w", err)
	}
	return s.decide(ctx, tx, scope, key, fingerprint, lease, token, r)
}

// existing is a locked record.
type existing struct {
	fingerprint []byte
	state       string
	response    []byte
	expiresAt   time.Time
	expired     bool
	leaseLeft   time.Duration
}

func (s *Store) decide(ctx context.Context, tx pgx.Tx, scope, key string, fingerprint []byte, lease time.Duration, token string, r existing) (Claim, error) {
	switch {
	case r.expired:
		return s.takeOver(ctx, tx, scope, key, fingerprint, lease, token, true)
	case string(r.fingerprint) != string(fingerprint):
		return Claim{Outcome: OutcomeMismatch, ExpiresAt: r.expiresAt}, nil
	case r.state == "completed":
		return Claim{Outcome: OutcomeCompleted, Response: r.response, ExpiresAt: r.expiresAt}, nil
	case r.leaseLeft > 0:
		return Claim{Outcome: OutcomeInProgress, RetryAfter: r.leaseLeft, ExpiresAt: r.expiresAt}, nil
	}
	// The holder's lease ran out: it crashed or stalled, and this claim
	// takes over. The ledger itself applies each key once, so running the
	// request again cannot apply it twice.
	return s.takeOver(ctx, tx, scope, key, fingerprint, lease, token, false)
}

// takeOver gives the record to a new claimant; fresh also restarts its
// lifetime, for a record that had expired.
func (s *Store) takeOver(ctx context.Context, tx pgx.Tx, scope, key string, fingerprint []byte, lease time.Duration, token string, fresh bool) (Claim, error) {
	var expiresAt time.Time
	err := tx.QueryRow(ctx, `
		UPDATE records SET state = 'in_progress', lease_token = $3, lease_expires_at = now() + $4::interval,
			response = NULL, fingerprint = $5,
			created_at = CASE WHEN $6 THEN now() ELSE created_at END,
			expires_at = CASE WHEN $6 THEN now() + $7::interval ELSE expires_at END
		WHERE scope = $1 AND key = $2
		RETURNING expires_at`, scope, key, token, lease, fingerprint, fresh, s.opts.TTL).Scan(&expiresAt)
	if err != nil {
		return Claim{}, fmt.Errorf("take over record: %w", err)
	}
	if fresh {
		s.uncache(ctx, scope, key)
	}
	return Claim{Outcome: OutcomeNew, LeaseToken: token, ExpiresAt: expiresAt}, nil
}

// Complete stores the final response of the claim that token proves.
func (s *Store) Complete(ctx context.Context, scope, key, token string, response []byte) error {
	var fingerprint []byte
	var expiresAt time.Time
	err := s.pool.QueryRow(ctx, `
		UPDATE records SET state = 'completed', response = $4, lease_token = NULL, lease_expires_at = NULL
		WHERE scope = $1 AND key = $2 AND lease_token = $3 AND state = 'in_progress'
		RETURNING fingerprint, expires_at`, scope, key, token, response).Scan(&fingerprint, &expiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("complete record: %w", err)
	}
	s.cache(ctx, scope, key, fingerprint, response, expiresAt)
	return nil
}

// Release drops the claim that token proves, so that a retry runs again.
func (s *Store) Release(ctx context.Context, scope, key, token string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM records
		WHERE scope = $1 AND key = $2 AND lease_token = $3 AND state = 'in_progress'`, scope, key, token)
	if err != nil {
		return fmt.Errorf("release record: %w", err)
	}
	return nil
}

// DeleteExpired deletes up to limit records past their expiry and returns
// how many it deleted. Their Redis copies expire on their own.
func (s *Store) DeleteExpired(ctx context.Context, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM records WHERE ctid IN (
		SELECT ctid FROM records WHERE expires_at <= now() LIMIT $1)`, limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired records: %w", err)
	}
	return tag.RowsAffected(), nil
}

func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate lease token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// redisKey hashes scope and key, so that any key text makes a short,
// safe Redis key.
func (s *Store) redisKey(scope, key string) string {
	sum := sha256.Sum256([]byte(scope + "\x00" + key))
	return s.opts.RedisPrefix + hex.EncodeToString(sum[:])
}
