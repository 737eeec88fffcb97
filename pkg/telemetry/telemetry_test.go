package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// syncBuffer is a bytes.Buffer that a server goroutine writes while the test
// reads it.
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

// records decodes every JSON log line written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()

	b.mu.Lock()
	defer b.mu.Unlock()

	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var record map[string]any
		if err := json.Unmarshal([]byte(line), &record); err != nil {
			t.Fatalf("decode log line %q: %v", line, err)
		}
		records = append(records, record)
	}

	return records
}

func TestNewLoggerRejectsInvalidLevel(t *testing.T) {
	for _, level := range []string{"", "INFO", "trace", "warning"} {
		if _, err := NewLogger(io.Discard, "wallet", level); err == nil {
			t.Errorf("NewLogger(level %q) err = nil, want an error", level)
		}
	}
}

func TestLoggerAddsRequestID(t *testing.T) {
	var out syncBuffer
	logger, err := NewLogger(&out, "wallet", "info")
	if err != nil {
		t.Fatalf("NewLogger: %v", err)
	}

	ctx := WithRequestID(context.Background(), "req-42")
	logger.DebugContext(ctx, "hidden below info")
	logger.InfoContext(ctx, "with id")
	logger.Info("without context")
	logger.InfoContext(ctx, "explicit id", RequestIDKey, "req-explicit")

	records := out.records(t)
	if got := len(records); got != 3 {
		t.Fatalf("len(records) = %d, want 3", got)
	}

	if got := records[0]["request_id"]; got != "req-42" {
		t.Errorf("record 0 request_id = %v, want req-42", got)
	}
	if got := records[0]["service"]; got != "wallet" {
		t.Errorf("record 0 service = %v, want wallet", got)
	}
	if _, ok := records[1]["request_id"]; ok {
		t.Errorf("record 1 has request_id %v, want none", records[1]["request_id"])
	}

	if got := strings.Count(out.String(), `"request_id"`); got != 2 {
		t.Errorf("request_id appears %d times in the output, want 2 (once per record with an id)", got)
	}
	if got := records[2]["request_id"]; got != "req-explicit" {
		t.Errorf("record 2 request_id = %v, want req-explicit", got)
	}
}

func TestLoggerAddsTraceID(t *testing.T) {
	shutdown, err := SetupTracing(context.Background(), "wallet", "")
	if err != nil {
		t.Fatalf("SetupTracing: %v", err)
	}
	t.Cleanup(func() {
		if err := shutdown(context.Background()); err != nil {
			t.Errorf("shutdown tracing: %v", err)
		}
	})

	var out syncBuffer
	logger, err := NewLogger(&out, "wallet", "debug")
	if err != nil {
		t.Fatalf("NewLogger: %v", err)
	}

	ctx, span := otel.Tracer("telemetry_test").Start(context.Background(), "operation")
	logger.DebugContext(ctx, "inside span")
	span.End()

	records := out.records(t)
	if got := len(records); got != 1 {
		t.Fatalf("len(records) = %d, want 1", got)
	}
	if got, want := records[0]["trace_id"], span.SpanContext().TraceID().String(); got != want {
		t.Errorf("trace_id = %v, want %s", got, want)
	}
	if got, want := records[0]["span_id"], span.SpanContext().SpanID().String(); got != want {
		t.Errorf("span_id = %v, want %s", got, want)
	}
}

func TestSetupTracingWithEndpoint(t *testing.T) {
	// The collector address is a local listener so nothing leaves the
	// host. No span is recorded, so the exporter never connects to it.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = listener.Close() })

	for _, endpoint := range []string{"http://" + listener.Addr().String(), listener.Addr().String()} {
		shutdown, err := SetupTracing(context.Background(), "wallet", endpoint)
		if err != nil {
			t.Fatalf("SetupTracing(%q): %v", endpoint, err)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = shutdown(ctx)
		cancel()
		if err != nil {
			t.Errorf("shutdown tracing for %q: %v", endpoint, err)
		}
	}
}

func TestNewRequestID(t *testing.T) {
	first, second := NewRequestID(), NewRequestID()

	if len(first) != 32 {
		t.Errorf("len(NewRequestID()) = %d, want 32", len(first))
	}
	if strings.Trim(first, "0123456789abcdef") != "" {
		t.Errorf("NewRequestID() = %q, want lowercase hex", first)
	}
	if first == second {
		t.Errorf("two calls returned the same id %q", first)
	}
}

func TestValidRequestID(t *testing.T) {
	tests := map[string]bool{
		"":                       false,
		"a":                      true,
		"req 42/ok~":             true,
		strings.Repeat("x", 128): true,
		strings.Repeat("x", 129): false,
		"tab\there":              false,
		"naïve":                  false,
		"del\x7f":                false,
	}

	for id, want := range tests {
		if got := ValidRequestID(id); got != want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestLevelForCode(t *testing.T) {
	tests := map[codes.Code]slog.Level{
		codes.OK:                 slog.LevelInfo,
		codes.InvalidArgument:    slog.LevelWarn,
		codes.NotFound:           slog.LevelWarn,
		codes.FailedPrecondition: slog.LevelWarn,
		codes.Aborted:            slog.LevelWarn,
		codes.Unavailable:        slog.LevelWarn,
		codes.Internal:           slog.LevelError,
		codes.Unknown:            slog.LevelError,
		codes.DataLoss:           slog.LevelError,
	}

	for code, want := range tests {
		if got := levelForCode(code); got != want {
			t.Errorf("levelForCode(%v) = %v, want %v", code, got, want)
		}
	}
}

// testServer is a gRPC server on 127.0.0.1 with the health service behind
// UnaryRequestID, UnaryLogging and an interceptor that records the request
// id each handler receives.
type testServer struct {
	client healthpb.HealthClient
	logs   *syncBuffer
	seen   chan string
}

func startTestServer(t *testing.T, healthStatus healthpb.HealthCheckResponse_ServingStatus) *testServer {
	t.Helper()

	logs := &syncBuffer{}
	logger, err := NewLogger(logs, "wallet", "info")
	if err != nil {
		t.Fatalf("NewLogger: %v", err)
	}

	seen := make(chan string, 10)
	record := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		seen <- RequestID(ctx)
		return handler(ctx, req)
	}

	server := grpc.NewServer(grpc.ChainUnaryInterceptor(UnaryRequestID(), UnaryLogging(logger), record))
	healthServer := health.NewServer()
	healthServer.SetServingStatus("", healthStatus)
	healthpb.RegisterHealthServer(server, healthServer)

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}

	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)

	conn, err := grpc.NewClient(listener.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	return &testServer{client: healthpb.NewHealthClient(conn), logs: logs, seen: seen}
}

// check calls Health.Check with the given outgoing request id ("" sends
// none) and returns the response header id and the id the handler saw.
func (s *testServer) check(t *testing.T, requestID string) (header, handler string) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if requestID != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, RequestIDHeader, requestID)
	}

	var md metadata.MD
	_, err := s.client.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&md))
	if err != nil && status.Code(err) != codes.NotFound {
		t.Fatalf("Check: %v", err)
	}

	values := md.Get(RequestIDHeader)
	if len(values) != 1 {
		t.Fatalf("response header %s = %v, want one value", RequestIDHeader, values)
	}

	return values[0], <-s.seen
}

func TestUnaryRequestIDPropagation(t *testing.T) {
	server := startTestServer(t, healthpb.HealthCheckResponse_SERVING)

	header, handler := server.check(t, "client-id-1")
	if header != "client-id-1" || handler != "client-id-1" {
		t.Errorf("valid id: header %q, handler %q, want client-id-1 for both", header, handler)
	}

	header, handler = server.check(t, "")
	if len(header) != 32 || handler != header {
		t.Errorf("missing id: header %q, handler %q, want the same new 32-character id", header, handler)
	}

	tooLong := strings.Repeat("a", 129)
	header, handler = server.check(t, tooLong)
	if len(header) != 32 || handler != header {
		t.Errorf("too long id: header %q, handler %q, want the same new 32-character id", header, handler)
	}
}

func TestUnaryLoggingRecordsCall(t *testing.T) {
	server := startTestServer(t, healthpb.HealthCheckResponse_SERVING)

	server.check(t, "client-id-2")

	records := server.logs.records(t)
	if got := len(records); got != 1 {
		t.Fatalf("len(records) = %d, want 1", got)
	}

	record := records[0]
	expected := map[string]any{
		"level":      "INFO",
		"msg":        "grpc call",
		"service":    "wallet",
		"method":     "/grpc.health.v1.Health/Check",
		"grpc_code":  "OK",
		"request_id": "client-id-2",
	}
	for key, want := range expected {
		if got := record[key]; got != want {
			t.Errorf("record[%q] = %v, want %v", key, got, want)
		}
	}
	if _, ok := record["duration_ms"].(float64); !ok {
		t.Errorf("record duration_ms = %v, want a number", record["duration_ms"])
	}
	if got := strings.Count(server.logs.String(), `"request_id"`); got != 1 {
		t.Errorf("request_id appears %d times, want 1", got)
	}
}

func TestUnaryLoggingWarnsOnClientError(t *testing.T) {
	server := startTestServer(t, healthpb.HealthCheckResponse_SERVING)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err := server.client.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.such.Service"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Check err = %v, want NotFound", err)
	}
	<-server.seen

	records := server.logs.records(t)
	if got := len(records); got != 1 {
		t.Fatalf("len(records) = %d, want 1", got)
	}
	if got := records[0]["level"]; got != "WARN" {
		t.Errorf("level = %v, want WARN", got)
	}
	if got := records[0]["grpc_code"]; got != "NotFound" {
		t.Errorf("grpc_code = %v, want NotFound", got)
	}
	if got := records[0]["error"]; got != "unknown service" {
		t.Errorf("error = %v, want the status message", got)
	}
}

func TestSetupMetricsServesOtelCounter(t *testing.T) {
	handler, shutdown, err := SetupMetrics("wallet")
	if err != nil {
		t.Fatalf("SetupMetrics: %v", err)
	}
	t.Cleanup(func() {
		if err := shutdown(context.Background()); err != nil {
			t.Errorf("shutdown metrics: %v", err)
		}
	})

	counter, err := otel.Meter("telemetry_test").Int64Counter("ledger.test.debits")
	if err != nil {
		t.Fatalf("create counter: %v", err)
	}
	counter.Add(context.Background(), 3)

	recorder := httptest.NewRecorder()
	handler.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/metrics", nil))

	if recorder.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", recorder.Code)
	}

	body := recorder.Body.String()
	for _, want := range []string{"ledger_test_debits_total{", "go_goroutines ", "process_start_time_seconds "} {
		if !strings.Contains(body, want) {
			t.Errorf("body does not contain %q", want)
		}
	}
	if !hasSampleValue(body, "ledger_test_debits_total{", "3") {
		t.Errorf("ledger_test_debits_total sample is not 3:\n%s", grepLines(body, "ledger_test_debits"))
	}
}

func TestSetupMetricsTwice(t *testing.T) {
	for range 2 {
		_, shutdown, err := SetupMetrics("wallet")
		if err != nil {
			t.Fatalf("SetupMetrics: %v", err)
		}
		if err := shutdown(context.Background()); err != nil {
			t.Errorf("shutdown metrics: %v", err)
		}
	}
}

func hasSampleValue(body, prefix, value string) bool {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) && strings.HasSuffix(line, "} "+value) {
			return true
		}
	}
	return false
}

func grepLines(body, substring string) string {
	var lines []string
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, substring) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
