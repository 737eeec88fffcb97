// Package telemetry sets up logging, metrics and tracing for the ledger
// services: a JSON slog logger that adds request and trace ids from the
// context, gRPC interceptors for request ids and call logs, an OpenTelemetry
// meter provider exported in the Prometheus format, and a tracer provider.
package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Attribute keys added by the logger and the interceptors.
const (
	RequestIDKey = "request_id"
	TraceIDKey   = "trace_id"
	SpanIDKey    = "span_id"
)

// ParseLevel returns the slog level for "debug", "info", "warn" or "error".
// Any other value, including other spellings, returns an error.
func ParseLevel(level string) (slog.Level, error) {
	switch level {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	default:
		return 0, fmt.Errorf("invalid log level %q: must be one of debug, info, warn, error", level)
	}
}

// NewLogger returns a JSON logger that writes records at level or above to w
// with the attribute service=<service>. Records logged with a context that
// carries a request id (WithRequestID) or a valid OpenTelemetry span context
// also get request_id, trace_id and span_id. The returned logger is safe for
// concurrent use when w is, as with slog.JSONHandler.
func NewLogger(w io.Writer, service, level string) (*slog.Logger, error) {
	parsed, err := ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("telemetry: new logger: %w", err)
	}

	handler := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: parsed})

	return slog.New(contextHandler{next: handler}).With(slog.String("service", service)), nil
}

// contextHandler adds request and trace ids from the record's context.
type contextHandler struct {
	next slog.Handler
}

func (h contextHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h contextHandler) Handle(ctx context.Context, record slog.Record) error {
	if ctx == nil {
		return h.next.Handle(ctx, record)
	}

	if id := RequestID(ctx); id != "" && !hasAttr(record, RequestIDKey) {
		record.AddAttrs(slog.String(RequestIDKey, id))
	}

	if span := trace.SpanContextFromContext(ctx); span.IsValid() {
		record.AddAttrs(
			slog.String(TraceIDKey, span.TraceID().String()),
			slog.String(SpanIDKey, span.SpanID().String()))
	}

	return h.next.Handle(ctx, record)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{next: h.next.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{next: h.next.WithGroup(name)}
}

// hasAttr reports whether the record itself (not the logger) has key, so a
// caller that logs request_id explicitly does not get it twice.
func hasAttr(record slog.Record, key string) bool {
	found := false
	record.Attrs(func(attr slog.Attr) bool {
		found = attr.Key == key
		return !found
	})

	return found
}
