// Package grpcapi serves the idempotency records over gRPC.
package grpcapi

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	idempotencyv1 "github.com/advancia-pay/ledger/proto/gen/ledger/idempotency/v1"
	"github.com/advancia-pay/ledger/services/idempotency/internal/records"
)

// Lease bounds of a claim.
const (
	minLease = time.Second
	maxLease = 5 * time.Minute
)

// Server implements idempotencyv1.IdempotencyServiceServer for callers
// with the service role.
type Server struct {
	idempotencyv1.UnimplementedIdempotencyServiceServer
	store *records.Store
}

// NewServer returns a Server over store.
func NewServer(store *records.Store) *Server {
	return &Server{store: store}
}

var outcomes = map[string]idempotencyv1.ClaimResponse_Outcome{
	records.OutcomeNew:        idempotencyv1.ClaimResponse_OUTCOME_NEW,
	records.OutcomeCompleted:  idempotencyv1.ClaimResponse_OUTCOME_COMPLETED,
	records.OutcomeInProgress: idempotencyv1.ClaimResponse_OUTCOME_IN_PROGRESS,
	records.OutcomeMismatch:   idempotencyv1.ClaimResponse_OUTCOME_MISMATCH,
}

func (s *Server) Claim(ctx context.Context, req *idempotencyv1.ClaimRequest) (*idempotencyv1.ClaimResponse, error) {
	if err := checkRequest(ctx, req.GetScope(), req.GetKey()); err != nil {
		return nil, err
	}
	lease := req.GetLease().AsDuration()
	if lease < minLease || lease > maxLease {
		return nil, apperr.New(apperr.InvalidRequest, "lease must be between %s and %s, got %s", minLease, maxLease, lease)
	}
	if len(req.GetFingerprint()) == 0 {
		return nil, apperr.New(apperr.InvalidRequest, "fingerprint is required")
	}

	c, err := s.store.Claim(ctx, req.GetScope(), req.GetKey(), req.GetFingerprint(), lease)
	if err != nil {
		return nil, err
	}
	resp := &idempotencyv1.ClaimResponse{
		Outcome:    outcomes[c.Outcome],
		LeaseToken: c.LeaseToken,
		ExpiresAt:  timestamppb.New(c.ExpiresAt),
	}
	if c.Outcome == records.OutcomeInProgress {
		resp.RetryAfter = durationpb.New(c.RetryAfter)
	}
	if c.Outcome == records.OutcomeCompleted {
		resp.Response = &idempotencyv1.StoredResponse{}
		if err := proto.Unmarshal(c.Response, resp.Response); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (s *Server) Complete(ctx context.Context, req *idempotencyv1.CompleteRequest) (*idempotencyv1.CompleteResponse, error) {
	if err := checkRequest(ctx, req.GetScope(), req.GetKey()); err != nil {
		return nil, err
	}
	body, err := proto.Marshal(req.GetResponse())
	if err != nil {
		return nil, apperr.Wrap(err, apperr.InvalidRequest, "response cannot be encoded")
	}
	err = s.store.Complete(ctx, req.GetScope(), req.GetKey(), req.GetLeaseToken(), body)
	if errors.Is(err, records.ErrLeaseLost) {
		return nil, apperr.Wrap(err, apperr.IdempotencyKeyInUse, "the lease on key %q ran out and another claim holds it", req.GetKey())
	}
	if err != nil {
		return nil, err
	}
	return &idempotencyv1.CompleteResponse{}, nil
}

func (s *Server) Release(ctx context.Context, req *idempotencyv1.ReleaseRequest) (*idempotencyv1.ReleaseResponse, error) {
	if err := checkRequest(ctx, req.GetScope(), req.GetKey()); err != nil {
		return nil, err
	}
	if err := s.store.Release(ctx, req.GetScope(), req.GetKey(), req.GetLeaseToken()); err != nil {
		return nil, err
	}
	return &idempotencyv1.ReleaseResponse{}, nil
}

// checkRequest admits only services, with a scope and a valid key.
func checkRequest(ctx context.Context, scope, key string) error {
	if id, _ := auth.FromContext(ctx); !id.IsService() {
		return apperr.New(apperr.PermissionDenied, "only services may use the idempotency service")
	}
	if scope == "" || len(scope) > 512 {
		return apperr.New(apperr.InvalidRequest, "scope must be 1 to 512 bytes")
	}
	if err := idempotency.ValidateKey(key); err != nil {
		return apperr.Wrap(err, apperr.InvalidRequest, "%s", err.Error())
	}
	return nil
}
