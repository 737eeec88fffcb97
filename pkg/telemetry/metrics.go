package telemetry

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// SetupMetrics installs an OpenTelemetry meter provider as the otel global
// one. Its Prometheus exporter, a Go runtime collector and a process
// collector are registered in a new prometheus.Registry, so each call is
// independent of the others and of prometheus.DefaultRegisterer. Metric
// names use Prometheus conventions: dots become underscores and counters
// get the _total suffix.
//
// It returns an http.Handler that serves the registry in the Prometheus text
// format and a shutdown func that flushes and stops the meter provider.
// Instruments created from the global provider after shutdown record
// nothing.
func SetupMetrics(service string) (http.Handler, func(context.Context) error, error) {
	registry := prometheus.NewRegistry()

	err := registerRuntimeCollectors(registry)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: setup metrics: %w", err)
	}

	exporter, err := otelprometheus.New(
		otelprometheus.WithRegisterer(registry),
		otelprometheus.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: setup metrics: create prometheus exporter: %w", err)
	}

	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exporter),
		sdkmetric.WithResource(serviceResource(service)))
	otel.SetMeterProvider(provider)

	handler := promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry})

	return handler, provider.Shutdown, nil
}

func registerRuntimeCollectors(registry *prometheus.Registry) error {
	err := registry.Register(collectors.NewGoCollector())
	if err != nil {
		return fmt.Errorf("register go collector: %w", err)
	}

	err = registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err != nil {
		return fmt.Errorf("register process collector: %w", err)
	}

	return nil
}

// serviceResource returns the default SDK resource (SDK name and version,
// OTEL_RESOURCE_ATTRIBUTES) with service.name set to service.
func serviceResource(service string) *resource.Resource {
	named := resource.NewSchemaless(serviceNameAttribute(service))

	merged, err := resource.Merge(resource.Default(), named)
	if err != nil {
		// Merge fails only when both resources have different schema URLs
		// (sdk/resource v1.47.0), and named has none.
		return named
	}

	return merged
}
