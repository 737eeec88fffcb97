package records

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// cachedRecord is the Redis copy of a completed record.
type cachedRecord struct {
	Fingerprint []byte    `json:"f"`
	Response    []byte    `json:"r"`
	ExpiresAt   time.Time `json:"e"`
}

// cached returns the claim decided from Redis, if Redis has the completed
// record. Any Redis failure falls through to PostgreSQL.
func (s *Store) cached(ctx context.Context, scope, key string, fingerprint []byte) (Claim, bool) {
	raw, err := s.redis.Get(ctx, s.redisKey(scope, key)).Bytes()
	if err != nil {
		if !isMiss(err) {
			s.opts.Logger.WarnContext(ctx, "idempotency cache read failed, using PostgreSQL", "error", err)
		}
		return Claim{}, false
	}
	var r cachedRecord
	if json.Unmarshal(raw, &r) != nil || !r.ExpiresAt.After(time.Now()) {
		return Claim{}, false
	}
	if string(r.Fingerprint) != string(fingerprint) {
		return Claim{Outcome: OutcomeMismatch, ExpiresAt: r.ExpiresAt}, true
	}
	return Claim{Outcome: OutcomeCompleted, Response: r.Response, ExpiresAt: r.ExpiresAt}, true
}

// cache stores a completed record in Redis until it expires. A failure is
// logged; PostgreSQL still has the record.
func (s *Store) cache(ctx context.Context, scope, key string, fingerprint, response []byte, expiresAt time.Time) {
	ttl := time.Until(expiresAt)
	if ttl <= 0 {
		return
	}
	raw, err := json.Marshal(cachedRecord{Fingerprint: fingerprint, Response: response, ExpiresAt: expiresAt})
	if err == nil {
		err = s.redis.Set(ctx, s.redisKey(scope, key), raw, ttl).Err()
	}
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "idempotency cache write failed", "error", err)
	}
}

// uncache drops a Redis copy that no longer holds.
func (s *Store) uncache(ctx context.Context, scope, key string) {
	if err := s.redis.Del(ctx, s.redisKey(scope, key)).Err(); err != nil {
		s.opts.Logger.WarnContext(ctx, "idempotency cache delete failed", "error", err)
	}
}

func isMiss(err error) bool {
	return errors.Is(err, redis.Nil)
}
