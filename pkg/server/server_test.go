package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/telemetry"
)

// waitLimit bounds every wait in these tests so a broken shutdown fails the
// test instead of hanging it.
const waitLimit = 10 * time.Second

// slowServer is the handler type of the hand-written ledger.test.Slow
// service.
type slowServer interface {
	wait(ctx context.Context) (*emptypb.Empty, error)
}

// slowService implements ledger.test.Slow: Wait blocks until release is
// closed or the call is canceled, and Fail returns a domain error.
type slowService struct {
	started chan struct{}
	release chan struct{}
}

func (s *slowService) wait(ctx context.Context) (*emptypb.Empty, error) {
	s.started <- struct{}{}

	select {
	case <-s.release:
		return &emptypb.Empty{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func unaryHandler(method string, call func(ctx context.Context) (any, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: method,
		Handler: func(srv any, ctx context.Context, decode func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			request := new(emptypb.Empty)
			if err := decode(request); err != nil {
				return nil, err
			}

			handler := func(ctx context.Context, _ any) (any, error) { return call(ctx) }
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/ledger.test.Slow/" + method}

			return interceptor(ctx, request, info, handler)
		},
	}
}

func (s *slowService) register(server *grpc.Server) {
	server.RegisterService(&grpc.ServiceDesc{
		ServiceName: "ledger.test.Slow",
		HandlerType: (*slowServer)(nil),
		Methods: []grpc.MethodDesc{
			unaryHandler("Wait", func(ctx context.Context) (any, error) { return s.wait(ctx) }),
			unaryHandler("Fail", func(context.Context) (any, error) {
				return nil, apperr.New(apperr.WalletBusy, "wallet w-1 is busy").WithRetryAfter(time.Second)
			}),
		},
	}, s)
}

// syncBuffer collects logs written by the server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is one Run call started by startServer.
type running struct {
	cancel    context.CancelFunc
	done      chan error
	adminURL  string
	conn      *grpc.ClientConn
	service   *slowService
	logs      *syncBuffer
	grpcAddr  net.Addr
	adminAddr net.Addr
}

func startServer(t *testing.T, configure func(*Options)) *running {
	t.Helper()

	logs := &syncBuffer{}
	logger, err := telemetry.NewLogger(logs, "server_test", "debug")
	if err != nil {
		t.Fatalf("NewLogger: %v", err)
	}

	service := &slowService{started: make(chan struct{}, 1), release: make(chan struct{})}
	addresses := make(chan [2]net.Addr, 1)

	opts := Options{
		Name:            "server_test",
		GRPCAddr:        "127.0.0.1:0",
		AdminAddr:       "127.0.0.1:0",
		ShutdownTimeout: waitLimit,
		Logger:          logger,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "ledger_test_metric 1\n")
		}),
		Register:  service.register,
		Listening: func(grpcAddr, adminAddr net.Addr) { addresses <- [2]net.Addr{grpcAddr, adminAddr} },
	}
	if configure != nil {
		configure(&opts)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts) }()

	r := &running{cancel: cancel, done: done, service: service, logs: logs}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Errorf("Run did not return within %s after cancel", waitLimit)
		}
	})

	select {
	case bound := <-addresses:
		r.grpcAddr, r.adminAddr = bound[0], bound[1]
	case err := <-done:
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(waitLimit):
		t.Fatalf("Run did not listen within %s", waitLimit)
	}

	r.adminURL = "http://" + r.adminAddr.String()
	r.conn, err = grpc.NewClient(r.grpcAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = r.conn.Close() })

	return r
}

// get returns the status code and body of an admin request.
func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()

	client := &http.Client{Timeout: waitLimit}
	resp, err := client.Get(r.adminURL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}

	return resp.StatusCode, string(body)
}

// awaitRun returns Run's result, failing the test after waitLimit.
func (r *running) awaitRun(t *testing.T) error {
	t.Helper()

	select {
	case err := <-r.done:
		r.done <- err // lets the cleanup see that Run returned
		return err
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %s", waitLimit)
		return nil
	}
}

func TestAdminEndpoints(t *testing.T) {
	r := startServer(t, nil)

	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/healthz", http.StatusOK, "ok\n"},
		{"/readyz", http.StatusOK, "ready\n"},
		{"/metrics", http.StatusOK, "ledger_test_metric 1\n"},
		{"/nothing", http.StatusNotFound, "404 page not found\n"},
	}

	for _, test := range tests {
		status, body := r.get(t, test.path)
		if status != test.wantStatus {
			t.Errorf("GET %s status = %d, want %d", test.path, status, test.wantStatus)
		}
		if body != test.wantBody {
			t.Errorf("GET %s body = %q, want %q", test.path, body, test.wantBody)
		}
	}
}

func TestReadyzHidesErrorDetail(t *testing.T) {
	var ready sync.Mutex
	var readyErr error
	setReady := func(err error) {
		ready.Lock()
		defer ready.Unlock()
		readyErr = err
	}

	r := startServer(t, func(opts *Options) {
		opts.Ready = func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("ready called without a deadline")
			}
			ready.Lock()
			defer ready.Unlock()
			return readyErr
		}
	})

	setReady(NotReady("postgres", errors.New("dial postgres://ledger:s3cret@10.0.0.5:5432 failed")))
	status, body := r.get(t, "/readyz")
	if status != http.StatusServiceUnavailable || body != "not ready: postgres\n" {
		t.Errorf("named dependency: /readyz = %d %q, want 503 %q", status, body, "not ready: postgres\n")
	}
	if !strings.Contains(r.logs.String(), "s3cret") {
		t.Errorf("logs do not contain the readiness error detail")
	}

	setReady(errors.New("redis: password s3cret rejected"))
	status, body = r.get(t, "/readyz")
	if status != http.StatusServiceUnavailable || body != "not ready\n" {
		t.Errorf("plain error: /readyz = %d %q, want 503 %q", status, body, "not ready\n")
	}

	setReady(nil)
	status, body = r.get(t, "/readyz")
	if status != http.StatusOK || body != "ready\n" {
		t.Errorf("ready: /readyz = %d %q, want 200 %q", status, body, "ready\n")
	}
}

func TestHealthCheckServing(t *testing.T) {
	r := startServer(t, nil)
	client := healthpb.NewHealthClient(r.conn)

	for _, service := range []string{"", "ledger.test.Slow"} {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		cancel()

		if err != nil {
			t.Fatalf("Check(%q): %v", service, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, want SERVING", service, resp.GetStatus())
		}
	}
}

func TestDomainErrorReachesClient(t *testing.T) {
	r := startServer(t, nil)

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	err := r.conn.Invoke(ctx, "/ledger.test.Slow/Fail", &emptypb.Empty{}, &emptypb.Empty{})

	code, detail, retryAfter := apperr.FromStatus(status.Convert(err))
	if code != apperr.WalletBusy || detail != "wallet w-1 is busy" || retryAfter != time.Second {
		t.Errorf("FromStatus = (%q, %q, %v), want (wallet_busy, wallet w-1 is busy, 1s)", code, detail, retryAfter)
	}
	if !strings.Contains(r.logs.String(), `"grpc_code":"Aborted"`) {
		t.Errorf("call log does not contain grpc_code Aborted: %s", r.logs.String())
	}
}

func TestGracefulShutdownFinishesInFlightCall(t *testing.T) {
	r := startServer(t, nil)

	callErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		callErr <- r.conn.Invoke(ctx, "/ledger.test.Slow/Wait", &emptypb.Empty{}, &emptypb.Empty{})
	}()

	select {
	case <-r.service.started:
	case <-time.After(waitLimit):
		t.Fatalf("Wait was not called within %s", waitLimit)
	}

	r.cancel()
	awaitReadyz(t, r, http.StatusServiceUnavailable, "not ready: shutting down\n")

	status, body := r.get(t, "/healthz")
	if status != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz during drain = %d %q, want 200 ok", status, body)
	}

	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v while a call was in flight", err)
	default:
	}

	close(r.service.release)

	if err := <-callErr; err != nil {
		t.Errorf("in-flight call: %v, want success", err)
	}
	if err := r.awaitRun(t); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if !strings.Contains(r.logs.String(), `"msg":"server stopped"`) {
		t.Errorf("logs do not contain the stop record")
	}
}

// awaitReadyz polls /readyz until it returns the expected status and body, because
// shutdown starts asynchronously after cancel.
func awaitReadyz(t *testing.T, r *running, wantStatus int, wantBody string) {
	t.Helper()

	deadline := time.Now().Add(waitLimit)
	for attempt := 0; attempt < 1000 && time.Now().Before(deadline); attempt++ {
		status, body := r.get(t, "/readyz")
		if status == wantStatus && body == wantBody {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}

	t.Fatalf("/readyz did not return %d %q within %s", wantStatus, wantBody, waitLimit)
}

func TestShutdownTimeoutForcesStop(t *testing.T) {
	r := startServer(t, func(opts *Options) { opts.ShutdownTimeout = 50 * time.Millisecond })

	callErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		callErr <- r.conn.Invoke(ctx, "/ledger.test.Slow/Wait", &emptypb.Empty{}, &emptypb.Empty{})
	}()

	select {
	case <-r.service.started:
	case <-time.After(waitLimit):
		t.Fatalf("Wait was not called within %s", waitLimit)
	}

	r.cancel()

	err := r.awaitRun(t)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v, want an error wrapping context.DeadlineExceeded", err)
	}

	select {
	case err := <-callErr:
		if status.Code(err) == codes.OK {
			t.Errorf("in-flight call succeeded, want it canceled by the forced stop")
		}
	case <-time.After(waitLimit):
		t.Errorf("in-flight call did not end within %s of the forced stop", waitLimit)
	}
}

func TestRunListenError(t *testing.T) {
	occupied, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = occupied.Close() })

	err = Run(context.Background(), Options{
		Name:      "server_test",
		GRPCAddr:  "127.0.0.1:0",
		AdminAddr: occupied.Addr().String(),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})

	if err == nil || !strings.Contains(err.Error(), "listen admin") {
		t.Errorf("Run = %v, want a listen admin error", err)
	}
}

func TestServeHTTP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	addresses := make(chan net.Addr, 1)
	done := make(chan error, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "gateway")
	})

	go func() {
		done <- ServeHTTP(ctx, "gateway_test", "127.0.0.1:0", handler, waitLimit,
			slog.New(slog.NewTextHandler(io.Discard, nil)), func(addr net.Addr) { addresses <- addr })
	}()

	var addr net.Addr
	select {
	case addr = <-addresses:
	case err := <-done:
		t.Fatalf("ServeHTTP returned before listening: %v", err)
	case <-time.After(waitLimit):
		t.Fatalf("ServeHTTP did not listen within %s", waitLimit)
	}

	client := &http.Client{Timeout: waitLimit}
	resp, err := client.Get("http://" + addr.String() + "/")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || string(body) != "gateway" {
		t.Errorf("body = %q, %v, want gateway", body, err)
	}

	cancel()

	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeHTTP = %v, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("ServeHTTP did not return within %s", waitLimit)
	}
}

func TestServeHTTPListenError(t *testing.T) {
	err := ServeHTTP(context.Background(), "gateway_test", "127.0.0.1:not-a-port", http.NotFoundHandler(),
		time.Second, nil, nil)

	if err == nil || !strings.Contains(err.Error(), "listen http") {
		t.Errorf("ServeHTTP = %v, want a listen http error", err)
	}
}
