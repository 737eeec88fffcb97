package rest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/advancia-pay/ledger/gateway/internal/peer"
	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
)

// Route classes that the rate limit policy refers to.
const (
	classAPI         = "api"
	classPayments    = "payments"
	classAuthFailure = "auth_failure"
)

// paymentRoute matches the POST routes that move money or reserve it.
var paymentRoute = regexp.MustCompile(`^/v1/(wallets/[^/]+/(credit|debit|holds)|transfers|holds/[^/]+/capture|transactions/[^/]+/reverse|payments|payments/[^/]+/refunds)$`)

// throttle gets a rate limit decision for each request: one call per
// request, and a second only after a failed authentication.
type throttle struct {
	client  ratelimitv1.RateLimitServiceClient
	domain  string
	timeout time.Duration
	logger  *slog.Logger
	// lastLog rate-limits the "service unreachable" log (unix nanoseconds).
	lastLog atomic.Int64
}

// decide returns whether a request with these descriptors may proceed. When
// the rate limit service cannot be reached, payments are refused (fail
// closed) and everything else proceeds.
func (th *throttle) decide(ctx context.Context, failClosed bool, descriptors ...map[string]string) (*ratelimitv1.ShouldRateLimitResponse, error) {
	return th.call(ctx, failClosed, false, descriptors)
}

// peek returns the decision for one more request without counting it;
// when the service cannot be reached it fails closed.
func (th *throttle) peek(ctx context.Context, descriptors ...map[string]string) (*ratelimitv1.ShouldRateLimitResponse, error) {
	return th.call(ctx, true, true, descriptors)
}

func (th *throttle) call(ctx context.Context, failClosed, dryRun bool, descriptors []map[string]string) (*ratelimitv1.ShouldRateLimitResponse, error) {
	req := &ratelimitv1.ShouldRateLimitRequest{Domain: th.domain, Hits: 1, DryRun: dryRun}
	for _, d := range descriptors {
		var entries []*ratelimitv1.Descriptor_Entry
		for k, v := range d {
			entries = append(entries, &ratelimitv1.Descriptor_Entry{Key: k, Value: v})
		}
		req.Descriptors = append(req.Descriptors, &ratelimitv1.Descriptor{Entries: entries})
	}

	ctx, cancel := context.WithTimeout(ctx, th.timeout)
	defer cancel()
	resp, err := th.client.ShouldRateLimit(ctx, req)
	if err == nil {
		return resp, nil
	}
	th.logUnreachable(ctx, err)
	if failClosed {
		return nil, apperr.Wrap(err, apperr.Unavailable, "rate limiting is unavailable, retry shortly").WithRetryAfter(time.Second)
	}
	return &ratelimitv1.ShouldRateLimitResponse{OverallCode: ratelimitv1.ShouldRateLimitResponse_CODE_OK}, nil
}

func (th *throttle) logUnreachable(ctx context.Context, err error) {
	now := time.Now().UnixNano()
	last := th.lastLog.Load()
	if now-last >= int64(10*time.Second) && th.lastLog.CompareAndSwap(last, now) {
		th.logger.WarnContext(ctx, "rate limit service unreachable; payments rejected, other requests allowed", "error", err)
	}
}

// limit throttles an authenticated request.
func (th *throttle) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := auth.FromContext(r.Context())
		base := map[string]string{"client": id.Subject, "ip": peer.IP(r)}
		if id.IsService() {
			base["role"] = auth.RoleService
		}
		descriptors := []map[string]string{with(base, classAPI)}
		isPayment := r.Method == http.MethodPost && paymentRoute.MatchString(r.URL.Path)
		if isPayment {
			descriptors = append(descriptors, with(base, classPayments))
		}

		resp, err := th.decide(r.Context(), isPayment, descriptors...)
		if err != nil {
			code, detail, retry := apperr.FromStatus(apperr.ToStatus(err))
			writeProblem(w, r, code, detail, retry)
			return
		}
		setRateLimitHeaders(w, resp)
		if failedClosed(resp) {
			writeProblem(w, r, apperr.Unavailable, "rate limiting is unavailable, retry shortly", time.Second)
			return
		}
		if resp.GetOverallCode() == ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT {
			writeProblem(w, r, apperr.RateLimited, "too many requests; retry after the Retry-After delay", retryAfter(resp))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// failedAuthentication counts a failed authentication and reports whether
// the caller is now over the limit.
func (th *throttle) failedAuthentication(r *http.Request) (bool, time.Duration) {
	// Counting is best effort here: when the limiter cannot decide, the
	// caller still gets its 401, not a lockout it did not earn.
	resp, err := th.decide(r.Context(), false, map[string]string{"route_class": classAuthFailure, "ip": peer.IP(r)})
	if err != nil || failedClosed(resp) {
		return false, 0
	}
	return resp.GetOverallCode() == ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT, retryAfter(resp)
}

func with(base map[string]string, class string) map[string]string {
	d := map[string]string{"route_class": class}
	for k, v := range base {
		if v != "" {
			d[k] = v
		}
	}
	return d
}

// failedClosed reports whether a tier rejected the request only because
// the rate limit store could not be reached. The caller is not over any
// limit, so the response is 503, not 429.
func failedClosed(resp *ratelimitv1.ShouldRateLimitResponse) bool {
	for _, s := range resp.GetStatuses() {
		if s.GetFailureMode() == "closed" {
			return true
		}
	}
	return false
}

// retryAfter is the longest wait among the tiers that denied.
func retryAfter(resp *ratelimitv1.ShouldRateLimitResponse) time.Duration {
	var wait time.Duration
	for _, s := range resp.GetStatuses() {
		if s.GetCode() == ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT {
			wait = max(wait, s.GetRetryAfter().AsDuration())
		}
	}
	return wait
}

// setRateLimitHeaders writes RateLimit-Policy and RateLimit in the syntax
// of the IETF draft draft-ietf-httpapi-ratelimit-headers-09, with one list
// member per tier. The policy gives quota q and window w in seconds; the
// state gives remaining r and seconds to reset t.
func setRateLimitHeaders(w http.ResponseWriter, resp *ratelimitv1.ShouldRateLimitResponse) {
	var policies, states []string
	for _, s := range resp.GetStatuses() {
		name := fmt.Sprintf("%q", s.GetTier())
		policies = append(policies, fmt.Sprintf("%s;q=%d;w=%d", name, s.GetLimit(), ceilSeconds(s.GetWindow().AsDuration())))
		states = append(states, fmt.Sprintf("%s;r=%d;t=%d", name, s.GetRemaining(), ceilSeconds(s.GetResetAfter().AsDuration())))
	}
	if len(policies) == 0 {
		return
	}
	w.Header().Set("RateLimit-Policy", strings.Join(policies, ", "))
	w.Header().Set("RateLimit", strings.Join(states, ", "))
}

// ceilSeconds returns d in whole seconds, rounded up. It works on integers,
// because adding almost a second before dividing overflows near the
// largest time.Duration, and float64 seconds lose nanoseconds.
func ceilSeconds(d time.Duration) int64 {
	seconds := int64(d / time.Second)
	if d%time.Second > 0 {
		seconds++
	}
	return seconds
}
