package graphql

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/advancia-pay/ledger/gateway/internal/peer"
	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
)

// routeClassMutation is the route class of GraphQL requests with a
// mutation in the rate limit policy.
const routeClassMutation = "graphql_mutation"

// routeClassPayments is the route class of requests that move money.
const routeClassPayments = "payments"

// Roles in the descriptors; the policy's "user" tiers match every role but
// "service".
const (
	roleUser    = "user"
	roleService = auth.RoleService
)

// unreachableLogInterval spaces out the logs about an unreachable rate
// limit service.
const unreachableLogInterval = 10 * time.Second

// mutationLimiter charges each request that contains a mutation to the rate
// limit service, one hit per request.
type mutationLimiter struct {
	client  ratelimitv1.RateLimitServiceClient
	domain  string
	timeout time.Duration
	logger  *slog.Logger
	// lastLog is when the service was last logged as unreachable, in Unix
	// nanoseconds.
	lastLog atomic.Int64
}

// newMutationLimiter returns nil when opts has no rate limit client.
func newMutationLimiter(opts Options) *mutationLimiter {
	if opts.RateLimit == nil {
		return nil
	}
	return &mutationLimiter{client: opts.RateLimit, domain: opts.RateLimitDomain, timeout: opts.RateLimitTimeout, logger: opts.Logger}
}

// charge counts the request in the GraphQL mutation tier and, since every
// mutation moves or reserves money, in the payments tier as REST does. It
// returns a 429 rejection when the caller is over the limit, and a
// 503 one when the rate limit service cannot be reached: mutations move
// money, so they are refused rather than let through unlimited.
func (l *mutationLimiter) charge(r *http.Request, id auth.Identity) *rejection {
	role := roleUser
	if id.IsService() {
		role = roleService
	}
	entries := map[string]string{"route_class": routeClassMutation, "client": id.Subject, "ip": peer.IP(r), "role": role}
	payments := map[string]string{"route_class": routeClassPayments, "client": id.Subject, "ip": peer.IP(r), "role": role}
	req := &ratelimitv1.ShouldRateLimitRequest{Domain: l.domain, Hits: 1,
		Descriptors: []*ratelimitv1.Descriptor{descriptor(entries), descriptor(payments)}}

	ctx, cancel := context.WithTimeout(r.Context(), l.timeout)
	defer cancel()
	resp, err := l.client.ShouldRateLimit(ctx, req)
	if err != nil {
		l.logUnreachable(r.Context(), err)
		rej := reject(http.StatusServiceUnavailable, string(apperr.Unavailable), "rate limiting is unavailable, retry shortly")
		rej.retryAfter = time.Second
		return rej
	}

	if resp.GetOverallCode() != ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT {
		return nil
	}
	for _, st := range resp.GetStatuses() {
		// Refused only because Redis could not be reached: not over a limit.
		if st.GetFailureMode() == "closed" {
			rej := reject(http.StatusServiceUnavailable, string(apperr.Unavailable), "rate limiting is unavailable, retry shortly")
			rej.retryAfter = time.Second
			return rej
		}
	}
	rej := reject(http.StatusTooManyRequests, string(apperr.RateLimited), "too many mutations; retry after the Retry-After delay")
	rej.retryAfter = max(longestRetryAfter(resp), time.Second)
	return rej
}

func descriptor(entries map[string]string) *ratelimitv1.Descriptor {
	d := &ratelimitv1.Descriptor{}
	for key, value := range entries {
		if value != "" {
			d.Entries = append(d.Entries, &ratelimitv1.Descriptor_Entry{Key: key, Value: value})
		}
	}
	return d
}

func (l *mutationLimiter) logUnreachable(ctx context.Context, err error) {
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last >= int64(unreachableLogInterval) && l.lastLog.CompareAndSwap(last, now) {
		l.logger.WarnContext(ctx, "rate limit service unreachable; GraphQL mutations refused", "error", err)
	}
}

// longestRetryAfter is the longest wait among the tiers that denied.
func longestRetryAfter(resp *ratelimitv1.ShouldRateLimitResponse) time.Duration {
	var wait time.Duration
	for _, s := range resp.GetStatuses() {
		if s.GetCode() == ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT {
			wait = max(wait, s.GetRetryAfter().AsDuration())
		}
	}
	return wait
}
