package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"

	"github.com/advancia-pay/ledger/pkg/config"
)

// Start is the common start of a service process: a JSON logger on stdout
// at level, a log line with cfg (secrets masked), the metrics provider,
// and tracing with the W3C trace context, exported over OTLP/gRPC when
// OTEL_EXPORTER_OTLP_ENDPOINT is set. It returns the logger, the /metrics
// handler and a shutdown function that flushes both.
func Start(ctx context.Context, service, level string, cfg any) (*slog.Logger, http.Handler, func(context.Context) error, error) {
	logger, err := NewLogger(os.Stdout, service, level)
	if err != nil {
		return nil, nil, nil, err
	}
	logger.Info("starting", "config", config.Redacted(cfg))

	handler, shutdownMetrics, err := SetupMetrics(service)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("set up metrics: %w", err)
	}
	shutdownTracing, err := SetupTracing(ctx, service, os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	if err != nil {
		return nil, nil, nil, err
	}
	shutdown := func(ctx context.Context) error {
		return errors.Join(shutdownTracing(ctx), shutdownMetrics(ctx))
	}
	return logger, handler, shutdown, nil
}

// ClientOptions are the dial options every gRPC client of the project
// uses: they send the caller's trace context, so one trace follows a
// request from the gateway through every service.
func ClientOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler())}
}
