package graphql

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	"github.com/advancia-pay/ledger/pkg/telemetry"
	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// testBalance is the balance of every wallet of fakeWallet, in minor units.
const testBalance = 1000

// createdAt is the creation time of every object of fakeWallet.
var createdAt = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeWallet implements the wallet service calls the resolvers make, with
// wallets of testBalance owned by "user-1", and records every debit.
type fakeWallet struct {
	walletv1.UnimplementedWalletServiceServer

	mu sync.Mutex
	// debits are the debit requests received, with their metadata.
	debits   []*walletv1.DebitRequest
	metadata []metadata.MD
	// calls counts every call by method name.
	calls map[string]int
}

func (f *fakeWallet) count(method string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
}

func (f *fakeWallet) callCount(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeWallet) GetWallet(_ context.Context, req *walletv1.GetWalletRequest) (*walletv1.Wallet, error) {
	f.count("GetWallet")
	if req.GetWalletId() == "missing" {
		return nil, apperr.ToStatus(apperr.New(apperr.NotFound, "wallet missing not found")).Err()
	}
	if req.GetWalletId() == "broken" {
		return nil, status.Error(codes.Internal, "connect to 10.0.0.7:5432: password authentication failed")
	}
	return testWallet(req.GetWalletId()), nil
}

func (f *fakeWallet) ListWallets(context.Context, *walletv1.ListWalletsRequest) (*walletv1.ListWalletsResponse, error) {
	f.count("ListWallets")
	return &walletv1.ListWalletsResponse{Wallets: []*walletv1.Wallet{testWallet("w1"), testWallet("w2")}}, nil
}

// ListTransactions returns one transaction of the wallet per page, and a
// next page token that names the page size it was asked for.
func (f *fakeWallet) ListTransactions(_ context.Context, req *walletv1.ListTransactionsRequest) (*walletv1.ListTransactionsResponse, error) {
	f.count("ListTransactions")
	return &walletv1.ListTransactionsResponse{
		Transactions:  []*walletv1.Transaction{testTransaction(req.GetWalletId(), 25)},
		NextPageToken: "size-" + strconv.Itoa(int(req.GetPageSize())),
	}, nil
}

// Debit refuses amounts over testBalance with insufficient_funds, and marks
// the response replayed for the key "replayed-key".
func (f *fakeWallet) Debit(ctx context.Context, req *walletv1.DebitRequest) (*walletv1.Transaction, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.debits = append(f.debits, req)
	f.metadata = append(f.metadata, md)
	f.mu.Unlock()

	if req.GetAmount() > testBalance {
		return nil, apperr.ToStatus(apperr.New(apperr.InsufficientFunds, "wallet %s has insufficient funds", req.GetWalletId())).Err()
	}
	if keys := md.Get(idempotency.KeyHeader); len(keys) == 1 && keys[0] == "replayed-key" {
		if err := grpc.SetHeader(ctx, metadata.Pairs(idempotency.ReplayedHeader, "true")); err != nil {
			return nil, err
		}
	}
	return testTransaction(req.GetWalletId(), req.GetAmount()), nil
}

func (f *fakeWallet) recorded() ([]*walletv1.DebitRequest, []metadata.MD) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*walletv1.DebitRequest(nil), f.debits...), append([]metadata.MD(nil), f.metadata...)
}

func testWallet(id string) *walletv1.Wallet {
	return &walletv1.Wallet{Id: id, OwnerId: "user-1", Currency: "USD", Balance: testBalance, AvailableBalance: testBalance - 100, CreatedAt: timestamppb.New(createdAt)}
}

func testTransaction(walletID string, amount int64) *walletv1.Transaction {
	return &walletv1.Transaction{
		Id: "tx-" + walletID, Type: "debit", Amount: amount, Currency: "USD", Status: "posted",
		WalletId: walletID, BalanceAfter: testBalance - amount, CreatedAt: timestamppb.New(createdAt), Direction: "out",
	}
}

// fakeRateLimit admits the first `limit` requests and denies the rest with
// a retry delay of 1.5 s. It records every request.
type fakeRateLimit struct {
	ratelimitv1.UnimplementedRateLimitServiceServer

	limit int
	mu    sync.Mutex
	seen  []*ratelimitv1.ShouldRateLimitRequest
}

func (f *fakeRateLimit) ShouldRateLimit(_ context.Context, req *ratelimitv1.ShouldRateLimitRequest) (*ratelimitv1.ShouldRateLimitResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, req)
	if len(f.seen) <= f.limit {
		return &ratelimitv1.ShouldRateLimitResponse{OverallCode: ratelimitv1.ShouldRateLimitResponse_CODE_OK}, nil
	}
	return &ratelimitv1.ShouldRateLimitResponse{
		OverallCode: ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT,
		Statuses: []*ratelimitv1.TierStatus{{
			Tier: "graphql-mutations-per-minute", Code: ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT,
			RetryAfter: durationpb.New(1500 * time.Millisecond),
		}},
	}, nil
}

func (f *fakeRateLimit) requests() []*ratelimitv1.ShouldRateLimitRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*ratelimitv1.ShouldRateLimitRequest(nil), f.seen...)
}

// serveGRPC starts a gRPC server on 127.0.0.1:0 with register's services
// and returns a client connection to it; t.Cleanup stops both.
func serveGRPC(t *testing.T, register func(*grpc.Server)) *grpc.ClientConn {
	t.Helper()

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for the test gRPC server: %v", err)
	}
	server := grpc.NewServer()
	register(server)
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)

	conn, err := grpc.NewClient(listener.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial the test gRPC server: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// testEnv is a GraphQL handler in front of fake services.
type testEnv struct {
	// handler sets the identity and request id; inner is NewHandler's.
	handler   http.Handler
	inner     http.Handler
	wallet    *fakeWallet
	ratelimit *fakeRateLimit
}

type envOption func(*Options, *testEnv)

// production turns introspection off.
func production() envOption {
	return func(o *Options, _ *testEnv) { o.Production = true }
}

// rateLimited admits limit mutation requests through a fake rate limit
// service.
func rateLimited(t *testing.T, limit int) envOption {
	return func(o *Options, env *testEnv) {
		env.ratelimit = &fakeRateLimit{limit: limit}
		conn := serveGRPC(t, func(s *grpc.Server) { ratelimitv1.RegisterRateLimitServiceServer(s, env.ratelimit) })
		o.RateLimit = ratelimitv1.NewRateLimitServiceClient(conn)
		o.RateLimitDomain = "gateway"
		o.RateLimitTimeout = 5 * time.Second
	}
}

// newEnv returns a handler that serves every request as made by "user-1"
// with request id "req-1", as the gateway's middleware would set them.
func newEnv(t *testing.T, options ...envOption) *testEnv {
	t.Helper()

	env := &testEnv{wallet: &fakeWallet{calls: map[string]int{}}}
	conn := serveGRPC(t, func(s *grpc.Server) { walletv1.RegisterWalletServiceServer(s, env.wallet) })
	opts := Options{WalletConn: conn, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range options {
		o(&opts, env)
	}

	inner := NewHandler(opts)
	env.inner = inner
	env.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := auth.WithIdentity(r.Context(), auth.Identity{Subject: "user-1"})
		ctx = telemetry.WithRequestID(ctx, "req-1")
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
	return env
}

// gqlResponse is a GraphQL response body.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// result is a recorded HTTP response.
type result struct {
	status int
	header http.Header
	body   string
}

// post sends body to the handler with the given extra headers.
func (env *testEnv) post(t *testing.T, body string, headers ...string) result {
	t.Helper()

	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer test-token")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	recorder := httptest.NewRecorder()
	env.handler.ServeHTTP(recorder, req)

	data, err := io.ReadAll(recorder.Result().Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return result{status: recorder.Code, header: recorder.Header(), body: string(data)}
}

// query posts one operation with no variables.
func (env *testEnv) query(t *testing.T, query string, headers ...string) result {
	t.Helper()
	return env.post(t, operationJSON(t, query), headers...)
}

func operationJSON(t *testing.T, query string) string {
	t.Helper()

	data, err := json.Marshal(map[string]string{"query": query})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// decode fails t unless res has a JSON GraphQL body.
func (res result) decode(t *testing.T) gqlResponse {
	t.Helper()

	if got := res.header.Get("Content-Type"); got != "application/json" {
		t.Fatalf("Content-Type %q, want application/json; body %s", got, res.body)
	}
	var body gqlResponse
	if err := json.Unmarshal([]byte(res.body), &body); err != nil {
		t.Fatalf("decode response: %v; body %s", err, res.body)
	}
	return body
}

// expectRejected fails t unless res has the HTTP status, no data, and
// exactly one error with the code.
func expectRejected(t *testing.T, res result, httpStatus int, code string) gqlError {
	t.Helper()

	if res.status != httpStatus {
		t.Fatalf("status %d, want %d; body %s", res.status, httpStatus, res.body)
	}
	body := res.decode(t)
	if body.Data != nil {
		t.Errorf("data %s, want none for a rejected request", body.Data)
	}
	if len(body.Errors) != 1 {
		t.Fatalf("%d errors, want 1; body %s", len(body.Errors), res.body)
	}
	if got := body.Errors[0].Extensions["code"]; got != code {
		t.Errorf("extensions.code %v, want %s; body %s", got, code, res.body)
	}
	if body.Errors[0].Message == "" {
		t.Errorf("message is empty; body %s", res.body)
	}
	return body.Errors[0]
}

// expectData fails t unless res is 200 without errors, and returns data.
func expectData(t *testing.T, res result) json.RawMessage {
	t.Helper()

	if res.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", res.status, res.body)
	}
	body := res.decode(t)
	if len(body.Errors) != 0 {
		t.Fatalf("errors %+v, want none; body %s", body.Errors, res.body)
	}
	return body.Data
}
