package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/advancia-pay/ledger/pkg/apperr"
)

func TestInterceptorChecksToken(t *testing.T) {
	v, err := NewVerifier(testSettings)
	if err != nil {
		t.Fatal(err)
	}
	token, err := Issue(testSettings, "user-1", nil, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	intercept := UnaryServerInterceptor(v, "/grpc.health.v1.Health/")
	handler := func(ctx context.Context, _ any) (any, error) {
		id, _ := FromContext(ctx)
		return id.Subject, nil
	}
	call := func(method string, md metadata.MD) (any, error) {
		ctx := metadata.NewIncomingContext(context.Background(), md)
		return intercept(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method}, handler)
	}

	got, err := call("/ledger.wallet.v1.WalletService/Debit", metadata.Pairs("authorization", "Bearer "+token))
	if err != nil || got != "user-1" {
		t.Errorf("valid token: got %v, %v; want user-1", got, err)
	}
	got, err = call("/grpc.health.v1.Health/Check", nil)
	if err != nil || got != "" {
		t.Errorf("public method without token: got %v, %v; want the handler to run", got, err)
	}

	rejected := map[string]metadata.MD{
		"no token":     nil,
		"basic scheme": metadata.Pairs("authorization", "Basic "+token),
		"two tokens":   metadata.Pairs("authorization", "Bearer "+token, "authorization", "Bearer "+token),
		"bad token":    metadata.Pairs("authorization", "Bearer nope"),
	}
	for name, md := range rejected {
		_, err := call("/ledger.wallet.v1.WalletService/Debit", md)
		var appErr *apperr.Error
		if !errors.As(err, &appErr) || appErr.Code != apperr.Unauthenticated {
			t.Errorf("%s: err = %v, want unauthenticated", name, err)
		}
	}
}
