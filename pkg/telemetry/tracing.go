package telemetry

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func serviceNameAttribute(service string) attribute.KeyValue {
	return attribute.String("service.name", service)
}

// SetupTracing installs a tracer provider and the W3C trace context and
// baggage propagators as the otel globals. When otlpEndpoint is empty the
// provider has no exporter: spans still get ids, which the logger adds to
// records, but nothing is sent. Otherwise spans are batched to an OTLP/gRPC
// collector at otlpEndpoint, given as host:port or as a URL. The connection
// uses TLS unless otlpEndpoint starts with "http://".
//
// The returned shutdown func flushes pending spans and stops the provider.
// Creating the exporter does not connect, so an unreachable collector shows
// up as export errors reported through otel.Handle, not as an error here.
func SetupTracing(ctx context.Context, service, otlpEndpoint string) (func(context.Context) error, error) {
	options := []sdktrace.TracerProviderOption{sdktrace.WithResource(serviceResource(service))}

	if otlpEndpoint != "" {
		exporter, err := otlptracegrpc.New(ctx, otlpOptions(otlpEndpoint)...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: setup tracing: create otlp exporter for %s: %w", otlpEndpoint, err)
		}

		options = append(options, sdktrace.WithBatcher(exporter))
	}

	provider := sdktrace.NewTracerProvider(options...)
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{}, propagation.Baggage{}))

	return provider.Shutdown, nil
}

func otlpOptions(endpoint string) []otlptracegrpc.Option {
	if !strings.Contains(endpoint, "://") {
		return []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(endpoint)}
	}

	options := []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(endpoint)}
	if strings.HasPrefix(endpoint, "http://") {
		options = append(options, otlptracegrpc.WithInsecure())
	}

	return options
}
