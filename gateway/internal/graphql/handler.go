// Package graphql serves the ledger's GraphQL API (schema.graphqls) by
// calling the wallet and payment services over gRPC, like the REST routes.
//
// Every request is checked against the limits in limits.go before anything
// executes, mutations need an Idempotency-Key header and are charged to the
// rate limit service, and service errors keep their stable codes in
// errors[].extensions.code.
package graphql

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"google.golang.org/grpc"

	"github.com/advancia-pay/ledger/gateway/internal/graphql/generated"
	paymentv1 "github.com/advancia-pay/ledger/proto/gen/ledger/payment/v1"
	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// queryCacheSize is how many parsed and validated documents are kept.
const queryCacheSize = 1000

// Options configure the GraphQL handler.
type Options struct {
	// WalletConn is the client connection to the wallet service. It is
	// required.
	WalletConn grpc.ClientConnInterface
	// PaymentConn is the client connection to the payment service. When nil,
	// the payment fields fail with extensions.code "unavailable".
	PaymentConn grpc.ClientConnInterface
	// RateLimit, when set, is asked once per request that contains a
	// mutation, in RateLimitDomain, waiting at most RateLimitTimeout. When
	// nil, mutations are not rate limited.
	RateLimit        ratelimitv1.RateLimitServiceClient
	RateLimitDomain  string
	RateLimitTimeout time.Duration
	// Production turns introspection (__schema and __type) off.
	Production bool
	// Logger receives internal errors and rate limit service failures. It
	// must not be nil.
	Logger *slog.Logger
}

// NewHandler returns the handler for POST /graphql. It expects the caller's
// identity in the request context (auth.WithIdentity), as the gateway's
// authenticate middleware stores it, and responds 401 without one. The
// incoming Authorization header is forwarded to the services, which verify
// it again. The handler is safe for concurrent use.
func NewHandler(opts Options) http.Handler {
	r := &resolver{
		wallets: walletv1.NewWalletServiceClient(opts.WalletConn),
		logger:  opts.Logger,
	}
	if opts.PaymentConn != nil {
		r.payments = paymentv1.NewPaymentServiceClient(opts.PaymentConn)
	}

	cfg := generated.Config{Resolvers: r}
	setComplexity(&cfg.Complexity)
	schema := generated.NewExecutableSchema(cfg)

	srv := handler.New(schema)
	srv.AddTransport(&transport{
		limiter: newMutationLimiter(opts),
		logger:  opts.Logger,
	})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetDisableSuggestion(true)
	srv.SetErrorPresenter(presentError(opts.Logger))
	srv.SetRecoverFunc(recoverPanic(opts.Logger))
	srv.Use(&limits{schema: schema, production: opts.Production})
	if !opts.Production {
		srv.Use(extension.Introspection{})
	}
	return srv
}
