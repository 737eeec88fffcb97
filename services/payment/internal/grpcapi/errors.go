package grpcapi

import (
	"context"
	"time"

	"google.golang.org/grpc"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/pgtx"
)

// UnaryDatabaseErrors turns a lost PostgreSQL connection into the
// client-visible unavailable code with a retry delay, instead of internal.
func UnaryDatabaseErrors() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil && pgtx.IsConnectionError(err) {
			return nil, apperr.Wrap(err, apperr.Unavailable, "the payment database is unavailable, retry shortly").WithRetryAfter(2 * time.Second)
		}
		return resp, err
	}
}
