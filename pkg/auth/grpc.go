package auth

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/advancia-pay/ledger/pkg/apperr"
)

// BearerToken returns the token of an "authorization: Bearer <token>" value,
// or "" when the value has another scheme.
func BearerToken(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// UnaryServerInterceptor verifies the bearer token in the "authorization"
// metadata entry of every call except those whose full method name starts
// with one of the public prefixes (health checks, reflection), and stores
// the identity in the context. A missing or invalid token is rejected with
// the unauthenticated code before the handler runs.
func UnaryServerInterceptor(v *Verifier, publicPrefixes ...string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		for _, p := range publicPrefixes {
			if strings.HasPrefix(info.FullMethod, p) {
				return handler(ctx, req)
			}
		}
		id, err := identityFromMetadata(ctx, v)
		if err != nil {
			return nil, err
		}
		return handler(WithIdentity(ctx, id), req)
	}
}

func identityFromMetadata(ctx context.Context, v *Verifier) (Identity, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	if len(values) != 1 {
		return Identity{}, apperr.New(apperr.Unauthenticated, "a bearer token is required in the authorization header")
	}
	token := BearerToken(values[0])
	if token == "" {
		return Identity{}, apperr.New(apperr.Unauthenticated, "the authorization header must use the Bearer scheme")
	}
	id, err := v.Verify(token)
	if err != nil {
		return Identity{}, apperr.Wrap(err, apperr.Unauthenticated, "the bearer token is invalid or expired")
	}
	return id, nil
}
