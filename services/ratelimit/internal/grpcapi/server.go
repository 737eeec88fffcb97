// Package grpcapi serves rate limit decisions over gRPC.
package grpcapi

import (
	"context"
	"errors"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
	"github.com/advancia-pay/ledger/services/ratelimit/internal/limiter"
)

// maxDescriptors bounds one request's descriptors.
const maxDescriptors = 16

// Server implements ratelimitv1.RateLimitServiceServer for callers with
// the service role.
type Server struct {
	ratelimitv1.UnimplementedRateLimitServiceServer
	limiter *limiter.Limiter
}

// NewServer returns a Server over l.
func NewServer(l *limiter.Limiter) *Server {
	return &Server{limiter: l}
}

func (s *Server) ShouldRateLimit(ctx context.Context, req *ratelimitv1.ShouldRateLimitRequest) (*ratelimitv1.ShouldRateLimitResponse, error) {
	if id, _ := auth.FromContext(ctx); !id.IsService() {
		return nil, apperr.New(apperr.PermissionDenied, "only services may ask for rate limit decisions")
	}
	if n := len(req.GetDescriptors()); n == 0 || n > maxDescriptors {
		return nil, apperr.New(apperr.InvalidRequest, "send 1 to %d descriptors, got %d", maxDescriptors, n)
	}
	descriptors := make([]map[string]string, 0, len(req.GetDescriptors()))
	for _, d := range req.GetDescriptors() {
		entries := make(map[string]string, len(d.GetEntries()))
		for _, e := range d.GetEntries() {
			entries[e.GetKey()] = e.GetValue()
		}
		descriptors = append(descriptors, entries)
	}

	check := s.limiter.Check
	if req.GetDryRun() {
		check = s.limiter.Peek
	}
	decision, err := check(ctx, req.GetDomain(), descriptors, req.GetHits())
	if errors.Is(err, limiter.ErrUnknownDomain) {
		return nil, apperr.Wrap(err, apperr.InvalidRequest, "domain %q is not in the rate limit policy", req.GetDomain())
	}
	if err != nil {
		return nil, err
	}
	return toProto(decision), nil
}

func toProto(d limiter.Decision) *ratelimitv1.ShouldRateLimitResponse {
	resp := &ratelimitv1.ShouldRateLimitResponse{OverallCode: code(d.Allowed)}
	for _, t := range d.Tiers {
		resp.Statuses = append(resp.Statuses, &ratelimitv1.TierStatus{
			Tier:        t.Tier.Name,
			Code:        code(t.Allowed),
			Limit:       t.Tier.Limit,
			Window:      durationpb.New(t.Tier.Window),
			Remaining:   t.Remaining,
			ResetAfter:  durationpb.New(t.ResetAfter),
			RetryAfter:  durationpb.New(t.RetryAfter),
			FailureMode: t.FailureMode,
		})
	}
	return resp
}

func code(allowed bool) ratelimitv1.ShouldRateLimitResponse_Code {
	if allowed {
		return ratelimitv1.ShouldRateLimitResponse_CODE_OK
	}
	return ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT
}
