// Package limiter checks and consumes rate limit tiers in Redis.
//
// Each tier is a sliding-window log: a sorted set of the admitted
// requests' times. Unlike a fixed window, no window of the tier's length
// ever holds more than its limit, edges included. All tiers of a request
// are checked and then consumed by one Lua script, so a request is
// admitted by every tier or by none, and a denied request consumes
// nothing. Times come from the Redis server's clock.
package limiter

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/advancia-pay/ledger/services/ratelimit/internal/policy"
)

// ErrUnknownDomain is returned for a domain the policy does not define.
var ErrUnknownDomain = errors.New("limiter: unknown domain")

// scriptSource is window.lua, which `make bench` also measures with
// redis-benchmark.
//
//go:embed window.lua
var scriptSource string

// script checks every tier (KEYS[1..n]) and consumes hits in all of them
// only when all allow. KEYS[n+1] is a sequence that makes set members
// unique. ARGV: hits, 1 for a dry run that consumes nothing, then limit
// and window (microseconds) per tier. It
// returns the server time, 1 if denied, then per tier: the count after
// the request, microseconds until the oldest entry leaves, and for a tier
// that denied, microseconds until the request would fit (-1: never).
var script = redis.NewScript(scriptSource)

// Options tune a Limiter.
type Options struct {
	// Prefix starts every Redis key; "ratelimit:" by default.
	Prefix string
	// Timeout bounds the Redis round trip before the tiers' failure modes
	// decide; 50 ms by default.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Limiter is safe for concurrent use. Its policy can be replaced at any
// time; requests in flight finish under the policy they started with.
type Limiter struct {
	rdb     redis.UniversalClient
	policy  atomic.Pointer[policy.Policy]
	opts    Options
	metrics *metrics
	// lastFailureLog rate-limits the failure log line (unix nanoseconds).
	lastFailureLog atomic.Int64
}

// New returns a Limiter enforcing p. rdb must have ContextTimeoutEnabled
// set, or a hung Redis stalls each check for the client's read timeout
// instead of Options.Timeout.
func New(rdb redis.UniversalClient, p *policy.Policy, opts Options) *Limiter {
	if opts.Prefix == "" {
		opts.Prefix = "ratelimit:"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 50 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	l := &Limiter{rdb: rdb, opts: opts, metrics: newMetrics()}
	l.policy.Store(p)
	return l
}

// SetPolicy replaces the policy. Counters are kept, so a changed limit
// applies at once to the requests already counted.
func (l *Limiter) SetPolicy(p *policy.Policy) {
	l.policy.Store(p)
}

// Decision is the outcome of a check.
type Decision struct {
	Allowed bool
	Tiers   []TierResult
}

// TierResult is one tier's part of a decision.
type TierResult struct {
	Tier       policy.Tier
	Allowed    bool
	Remaining  uint32
	ResetAfter time.Duration
	// RetryAfter is set when the tier denied: the wait until the request
	// would fit (the whole window when it never fits).
	RetryAfter time.Duration
	// FailureMode is set when Redis failed and the tier's mode decided.
	FailureMode string
}

// Check matches descriptors against the policy's tiers and consumes hits
// in all of them, or in none when any tier denies. With no matching tier
// the request is allowed.
func (l *Limiter) Check(ctx context.Context, domain string, descriptors []map[string]string, hits uint32) (Decision, error) {
	return l.check(ctx, domain, descriptors, hits, false)
}

// Peek decides like Check but consumes nothing.
func (l *Limiter) Peek(ctx context.Context, domain string, descriptors []map[string]string, hits uint32) (Decision, error) {
	return l.check(ctx, domain, descriptors, hits, true)
}

func (l *Limiter) check(ctx context.Context, domain string, descriptors []map[string]string, hits uint32, dry bool) (Decision, error) {
	p := l.policy.Load()
	if domain != p.Domain {
		return Decision{}, fmt.Errorf("%w %q", ErrUnknownDomain, domain)
	}
	if hits == 0 {
		hits = 1
	}
	var matched []policy.Matched
	for _, d := range descriptors {
		matched = append(matched, p.Match(d)...)
	}
	if len(matched) == 0 {
		return Decision{Allowed: true}, nil
	}

	decision, err := l.evaluate(ctx, domain, matched, hits, dry)
	if err != nil {
		decision = l.failureDecision(ctx, matched, err)
	}
	l.metrics.record(ctx, decision)
	return decision, nil
}

func (l *Limiter) evaluate(ctx context.Context, domain string, matched []policy.Matched, hits uint32, dry bool) (Decision, error) {
	keys := make([]string, 0, len(matched)+1)
	dryFlag := 0
	if dry {
		dryFlag = 1
	}
	args := []any{hits, dryFlag}
	for _, m := range matched {
		keys = append(keys, l.opts.Prefix+domain+":"+m.Tier.Name+":"+m.Key)
		args = append(args, m.Tier.Limit, m.Tier.Window.Microseconds())
	}
	keys = append(keys, l.opts.Prefix+domain+":seq")

	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	start := time.Now()
	raw, err := script.Run(ctx, l.rdb, keys, args...).Int64Slice()
	l.metrics.latency.Record(ctx, time.Since(start).Seconds())
	if err != nil {
		return Decision{}, fmt.Errorf("run rate limit script: %w", err)
	}
	return decode(matched, raw), nil
}

// decode turns the script's reply into a Decision.
func decode(matched []policy.Matched, raw []int64) Decision {
	denied := raw[1] == 1
	d := Decision{Allowed: !denied}
	for i, m := range matched {
		count, reset, retry := raw[2+3*i], raw[3+3*i], raw[4+3*i]
		r := TierResult{Tier: m.Tier, Allowed: retry == 0, ResetAfter: time.Duration(reset) * time.Microsecond}
		if count >= 0 && count < int64(m.Tier.Limit) {
			r.Remaining = m.Tier.Limit - uint32(count) // #nosec G115 -- 0 <= count < Limit, so count fits in uint32
		}
		switch {
		case retry < 0:
			r.RetryAfter = m.Tier.Window
		case retry > 0:
			r.RetryAfter = time.Duration(retry) * time.Microsecond
		}
		d.Tiers = append(d.Tiers, r)
	}
	return d
}

// failureDecision applies the tiers' failure modes when Redis failed: the
// request is denied when any matched tier fails closed.
func (l *Limiter) failureDecision(ctx context.Context, matched []policy.Matched, err error) Decision {
	d := Decision{Allowed: true}
	for _, m := range matched {
		r := TierResult{Tier: m.Tier, Allowed: true, Remaining: m.Tier.Limit, FailureMode: m.Tier.OnRedisFailure}
		if m.Tier.OnRedisFailure == policy.FailClosed {
			r.Allowed, r.Remaining, r.RetryAfter = false, 0, time.Second
			d.Allowed = false
		}
		d.Tiers = append(d.Tiers, r)
	}
	l.logFailure(ctx, err, d.Allowed)
	return d
}

// logFailure logs a Redis failure at most once per 10 seconds; the
// decisions counter records every one as failed_open or failed_closed.
func (l *Limiter) logFailure(ctx context.Context, err error, allowed bool) {
	now := time.Now().UnixNano()
	last := l.lastFailureLog.Load()
	if now-last < int64(10*time.Second) || !l.lastFailureLog.CompareAndSwap(last, now) {
		return
	}
	l.opts.Logger.WarnContext(ctx, "rate limit store unreachable, tiers decided by their failure mode",
		"error", err, "allowed", allowed)
}
