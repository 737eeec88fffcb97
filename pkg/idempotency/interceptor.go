package idempotency

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	idempotencyv1 "github.com/advancia-pay/ledger/proto/gen/ledger/idempotency/v1"
)

// Metadata keys of the retry contract.
const (
	// KeyHeader carries the client's idempotency key.
	KeyHeader = "idempotency-key"
	// ReplayedHeader is set to "true" in the response header metadata of a
	// call whose result came from a stored outcome.
	ReplayedHeader = "idempotent-replayed"
)

// Options configure UnaryServerInterceptor.
type Options struct {
	Client idempotencyv1.IdempotencyServiceClient
	// Methods are the full method names to guard, such as
	// "/ledger.wallet.v1.WalletService/Debit".
	Methods []string
	// Lease is how long a request may run before a retry can take it
	// over; 30 s by default. It should exceed the longest request.
	Lease time.Duration
	// Timeout bounds each call to the idempotency service; 1 s by default.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Fingerprint hashes a call: SHA-256 over the full method name and the
// deterministic protobuf encoding of the request.
func Fingerprint(method string, req proto.Message) ([]byte, error) {
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil), nil
}

// UnaryServerInterceptor gives the guarded methods the retry contract. A
// call needs a valid key (else idempotency_key_missing or
// invalid_request, storing nothing). The first call under a key runs and
// its outcome is stored: a response or a business error
// (FAILED_PRECONDITION). Other errors (invalid input, permission,
// unavailable, busy, deadline) release the key so that a retry runs again.
// A retry gets the stored outcome with ReplayedHeader set. A retry while
// the first call runs gets idempotency_key_in_use with a retry delay. The
// same key with another request gets idempotency_key_reused.
//
// It must run after authentication, because keys are scoped to the caller
// and the method. When the idempotency service fails, calls run without
// it: the ledger applies each key once on its own, but errors are then not
// replayed.
func UnaryServerInterceptor(opts Options) grpc.UnaryServerInterceptor {
	g := newGuard(opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		msg, ok := req.(proto.Message)
		if !g.methods[info.FullMethod] || !ok {
			return handler(ctx, req)
		}
		return g.intercept(ctx, msg, info.FullMethod, handler)
	}
}

// guard is the state of one interceptor.
type guard struct {
	opts     Options
	methods  map[string]bool
	outcomes metric.Int64Counter
}

func newGuard(opts Options) *guard {
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	methods := make(map[string]bool, len(opts.Methods))
	for _, m := range opts.Methods {
		methods[m] = true
	}
	counter, _ := otel.Meter("github.com/advancia-pay/ledger/pkg/idempotency").Int64Counter("ledger.idempotency.requests",
		metric.WithDescription("Guarded calls by method and outcome: new, replayed, in_progress, mismatch, unavailable."))
	return &guard{opts: opts, methods: methods, outcomes: counter}
}

// call is one guarded request.
type call struct {
	scope, key  string
	method      string
	fingerprint []byte
}

func (g *guard) intercept(ctx context.Context, req proto.Message, method string, handler grpc.UnaryHandler) (any, error) {
	c, err := newCall(ctx, req, method)
	if err != nil {
		return nil, err
	}

	claim, err := g.claim(ctx, c)
	if err != nil {
		g.count(ctx, c, "unavailable")
		g.opts.Logger.WarnContext(ctx, "idempotency service unavailable, running without it", "method", method, "error", err)
		return handler(ctx, req)
	}

	switch claim.GetOutcome() {
	case idempotencyv1.ClaimResponse_OUTCOME_COMPLETED:
		g.count(ctx, c, "replayed")
		return replay(ctx, method, claim.GetResponse())
	case idempotencyv1.ClaimResponse_OUTCOME_IN_PROGRESS:
		g.count(ctx, c, "in_progress")
		// Most requests finish within milliseconds, so the client should
		// retry in a second rather than after the whole lease.
		return nil, apperr.New(apperr.IdempotencyKeyInUse, "a request with idempotency key %q is still running", c.key).WithRetryAfter(time.Second)
	case idempotencyv1.ClaimResponse_OUTCOME_MISMATCH:
		g.count(ctx, c, "mismatch")
		return nil, apperr.New(apperr.IdempotencyKeyReused, "idempotency key %q was already used with a different request", c.key)
	}

	g.count(ctx, c, "new")
	resp, herr := handler(ctx, req)
	g.settle(context.WithoutCancel(ctx), c, claim.GetLeaseToken(), resp, herr)
	return resp, herr
}

// newCall checks the key and identifies the call.
func newCall(ctx context.Context, req proto.Message, method string) (call, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var key string
	if values := md.Get(KeyHeader); len(values) > 0 {
		key = values[0]
	}
	switch err := ValidateKey(key); {
	case errors.Is(err, ErrMissing):
		return call{}, apperr.Wrap(err, apperr.IdempotencyKeyMissing, "%s", err.Error())
	case err != nil:
		return call{}, apperr.Wrap(err, apperr.InvalidRequest, "%s", err.Error())
	}

	caller, ok := auth.FromContext(ctx)
	if !ok {
		return call{}, apperr.New(apperr.Unauthenticated, "a bearer token is required")
	}
	fingerprint, err := Fingerprint(method, req)
	if err != nil {
		return call{}, apperr.Wrap(err, apperr.InvalidRequest, "the request cannot be encoded")
	}
	return call{scope: caller.Subject + " " + method, key: key, method: method, fingerprint: fingerprint}, nil
}

func (g *guard) claim(ctx context.Context, c call) (*idempotencyv1.ClaimResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, g.opts.Timeout)
	defer cancel()
	return g.opts.Client.Claim(ctx, &idempotencyv1.ClaimRequest{
		Scope: c.scope, Key: c.key, Fingerprint: c.fingerprint, Lease: durationpb.New(g.opts.Lease),
	})
}

// settle completes the claim with a final outcome or releases it.
func (g *guard) settle(ctx context.Context, c call, token string, resp any, herr error) {
	ctx, cancel := context.WithTimeout(ctx, g.opts.Timeout)
	defer cancel()

	stored, final, err := storedOutcome(resp, herr)
	if err == nil && final {
		_, err = g.opts.Client.Complete(ctx, &idempotencyv1.CompleteRequest{Scope: c.scope, Key: c.key, LeaseToken: token, Response: stored})
	} else if err == nil {
		_, err = g.opts.Client.Release(ctx, &idempotencyv1.ReleaseRequest{Scope: c.scope, Key: c.key, LeaseToken: token})
	}
	if err != nil {
		// The claim stays until its lease runs out; then a retry takes it
		// over and the ledger returns the original transaction.
		g.opts.Logger.WarnContext(ctx, "idempotency record not settled", "method", c.method, "final", final, "error", err)
	}
}

// storedOutcome encodes a handler's result and reports whether it is
// final: a response, or a business rule that a retry would meet again.
func storedOutcome(resp any, herr error) (*idempotencyv1.StoredResponse, bool, error) {
	if herr != nil {
		st := apperr.ToStatus(herr)
		if st.Code() != codes.FailedPrecondition {
			return nil, false, nil
		}
		body, err := proto.Marshal(st.Proto())
		return &idempotencyv1.StoredResponse{Status: body}, true, err
	}
	msg, ok := resp.(proto.Message)
	if !ok {
		return nil, false, fmt.Errorf("response of type %T is not a protobuf message", resp)
	}
	body, err := proto.Marshal(msg)
	return &idempotencyv1.StoredResponse{Message: body}, true, err
}

// replay returns a stored outcome as the response of method.
func replay(ctx context.Context, method string, stored *idempotencyv1.StoredResponse) (any, error) {
	// A failure to set the header must not hide the stored outcome. An
	// error response may go out as trailers only, so the mark is sent in
	// the trailer too.
	mark := metadata.Pairs(ReplayedHeader, "true")
	_ = grpc.SetHeader(ctx, mark)
	_ = grpc.SetTrailer(ctx, mark)

	if len(stored.GetStatus()) > 0 {
		var st spb.Status
		if err := proto.Unmarshal(stored.GetStatus(), &st); err != nil {
			return nil, fmt.Errorf("decode stored status: %w", err)
		}
		return nil, status.ErrorProto(&st)
	}
	resp, err := newResponse(method)
	if err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(stored.GetMessage(), resp); err != nil {
		return nil, fmt.Errorf("decode stored response: %w", err)
	}
	return resp, nil
}

// newResponse returns an empty response message of a full method name,
// looked up in the registry of linked protobuf types.
func newResponse(method string) (proto.Message, error) {
	service, name, ok := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	if !ok {
		return nil, fmt.Errorf("malformed method name %q", method)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, fmt.Errorf("find service of %s: %w", method, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok || sd.Methods().ByName(protoreflect.Name(name)) == nil {
		return nil, fmt.Errorf("method %s is not registered", method)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(sd.Methods().ByName(protoreflect.Name(name)).Output().FullName())
	if err != nil {
		return nil, fmt.Errorf("find response type of %s: %w", method, err)
	}
	return mt.New().Interface(), nil
}

func (g *guard) count(ctx context.Context, c call, outcome string) {
	g.outcomes.Add(ctx, 1, metric.WithAttributes(attribute.String("method", c.method), attribute.String("outcome", outcome)))
}
