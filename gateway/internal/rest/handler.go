// Package rest is the REST edge: grpc-gateway routes generated from the
// protos, bearer authentication, request ids, and problem+json errors.
package rest

import (
	"context"
	"log/slog"
	"net/http"
	"net/textproto"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/advancia-pay/ledger/gateway/clients"
	"github.com/advancia-pay/ledger/gateway/internal/graphql"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/telemetry"
	"github.com/advancia-pay/ledger/proto"
	paymentv1 "github.com/advancia-pay/ledger/proto/gen/ledger/payment/v1"
	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// Options configure the REST handler.
type Options struct {
	Verifier *auth.Verifier
	// WalletConn is the client connection to the wallet service.
	WalletConn grpc.ClientConnInterface
	// PaymentConn is the client connection to the payment service, for the
	// REST routes; WebhookConn is one that authenticates as the gateway,
	// for Stripe webhooks. Either may be nil to leave the routes out.
	PaymentConn grpc.ClientConnInterface
	WebhookConn grpc.ClientConnInterface
	Logger      *slog.Logger
	// MaxBodyBytes bounds request bodies; larger ones get 400.
	MaxBodyBytes int64
	// RequestTimeout bounds each call to a service.
	RequestTimeout time.Duration
	// RateLimit, when set, throttles every /v1 request through the rate
	// limit service, in RateLimitDomain, waiting at most RateLimitTimeout.
	RateLimit        ratelimitv1.RateLimitServiceClient
	RateLimitDomain  string
	RateLimitTimeout time.Duration
	// Clients and Signer, when both set, serve POST /v1/auth/token with
	// tokens valid for TokenTTL. JWKS, when set, is served at
	// /.well-known/jwks.json.
	Clients  *clients.Store
	Signer   *auth.Signer
	TokenTTL time.Duration
	JWKS     []byte
	// GraphQLProduction turns GraphQL introspection (__schema, __type) off.
	GraphQLProduction bool
}

// NewHandler returns the gateway's public HTTP handler: the REST routes
// under /v1/ and the GraphQL API at /graphql (bearer token required), and
// the OpenAPI document at /openapi.json.
func NewHandler(ctx context.Context, opts Options) (http.Handler, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			// snake_case field names and every field present; int64 values
			// are JSON strings under the proto3 JSON mapping.
			MarshalOptions: protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		}),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithMetadata(func(ctx context.Context, _ *http.Request) metadata.MD {
			return metadata.Pairs("x-request-id", telemetry.RequestID(ctx))
		}),
		runtime.WithErrorHandler(errorHandler(opts.Logger)),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
	)
	client := walletv1.NewWalletServiceClient(opts.WalletConn)
	if err := walletv1.RegisterWalletServiceHandlerClient(ctx, mux, client); err != nil {
		return nil, err
	}

	if opts.PaymentConn != nil {
		if err := paymentv1.RegisterPaymentServiceHandlerClient(ctx, mux, paymentv1.NewPaymentServiceClient(opts.PaymentConn)); err != nil {
			return nil, err
		}
	}

	root := http.NewServeMux()
	root.HandleFunc("GET /openapi.json", serveOpenAPI)
	if opts.WebhookConn != nil {
		root.Handle("POST /webhooks/stripe", stripeWebhook(paymentv1.NewPaymentServiceClient(opts.WebhookConn), opts.Logger))
	}
	var api http.Handler = validateIdempotencyKey(validateBody(withTimeout(opts.RequestTimeout, mux)))
	var th *throttle
	if opts.RateLimit != nil {
		th = &throttle{client: opts.RateLimit, domain: opts.RateLimitDomain, timeout: opts.RateLimitTimeout, logger: opts.Logger}
		api = th.limit(api)
	}
	root.Handle("/v1/", authenticate(opts.Verifier, th, api))
	if opts.WalletConn != nil {
		gql := graphql.NewHandler(graphql.Options{
			WalletConn: opts.WalletConn, PaymentConn: opts.PaymentConn,
			RateLimit: opts.RateLimit, RateLimitDomain: opts.RateLimitDomain, RateLimitTimeout: opts.RateLimitTimeout,
			Production: opts.GraphQLProduction, Logger: opts.Logger,
		})
		root.Handle("/graphql", authenticate(opts.Verifier, th, withTimeout(opts.RequestTimeout, gql)))
	}
	if opts.Clients != nil && opts.Signer != nil {
		root.Handle("POST /v1/auth/token", &tokenIssuer{clients: opts.Clients, signer: opts.Signer, ttl: opts.TokenTTL, th: th, logger: opts.Logger})
	}
	if opts.JWKS != nil {
		root.HandleFunc("GET /.well-known/jwks.json", serveJWKS(opts.JWKS))
	}
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		routingErrorHandler(r.Context(), nil, nil, w, r, http.StatusNotFound)
	})
	return withSecurityHeaders(withTracing(withRequestID(accessLog(opts.Logger, limitBody(opts.MaxBodyBytes, root))))), nil
}

// incomingHeader forwards the HTTP headers the services read. The
// Authorization header is always forwarded by grpc-gateway itself, and the
// request id is set from the context by WithMetadata.
func incomingHeader(key string) (string, bool) {
	if textproto.CanonicalMIMEHeaderKey(key) == "Idempotency-Key" {
		return "idempotency-key", true
	}
	return "", false
}

// outgoingHeader exposes the response metadata clients may rely on and
// drops everything else.
func outgoingHeader(key string) (string, bool) {
	if key == "idempotent-replayed" {
		return "Idempotent-Replayed", true
	}
	return "", false
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(proto.OpenAPI)
}
