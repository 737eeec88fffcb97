package rest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/telemetry"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// walletStub implements only ListWallets, because the test is about the
// trace, not the wallet.
type walletStub struct {
	walletv1.UnimplementedWalletServiceServer
}

func (walletStub) ListWallets(context.Context, *walletv1.ListWalletsRequest) (*walletv1.ListWalletsResponse, error) {
	return &walletv1.ListWalletsResponse{}, nil
}

// TestOneRequestIsOneTrace checks that a REST call produces one trace
// spanning the gateway's server span, its gRPC client span and the gRPC
// server span of the service it calls, over a real loopback connection.
func TestOneRequestIsOneTrace(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler()))
	walletv1.RegisterWalletServiceServer(server, walletStub{})
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)

	conn, err := grpc.NewClient(listener.Addr().String(), append(telemetry.ClientOptions(),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	settings := auth.Settings{Secret: []byte("test-secret-of-at-least-thirty-two-bytes"), Issuer: "i", Audience: "a"}
	signer, err := auth.NewSigner(settings, key)
	if err != nil {
		t.Fatal(err)
	}
	settings.PublicKeys, settings.Algorithms = signer.PublicKeys(), []string{"ES256"}
	verifier, err := auth.NewVerifier(settings)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := NewHandler(context.Background(), Options{
		Verifier: verifier, WalletConn: conn, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxBodyBytes: 1 << 20, RequestTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	token, err := signer.Issue("user-1", nil, time.Hour, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}

	req := httptest.NewRequest(http.MethodGet, "/v1/wallets", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}

	spans := exporter.GetSpans()
	kinds := map[trace.SpanKind]int{}
	traces := map[trace.TraceID]bool{}
	for _, s := range spans {
		kinds[s.SpanKind]++
		traces[s.SpanContext.TraceID()] = true
	}
	if len(traces) != 1 {
		t.Errorf("spans belong to %d traces, want 1: %v", len(traces), spans)
	}
	if kinds[trace.SpanKindServer] != 2 || kinds[trace.SpanKindClient] != 1 {
		t.Errorf("span kinds %v, want 2 server spans (gateway, wallet) and 1 client span", kinds)
	}
}
