package limiter

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

type metrics struct {
	decisions metric.Int64Counter
	latency   metric.Float64Histogram
}

func newMetrics() *metrics {
	meter := otel.Meter("github.com/advancia-pay/ledger/services/ratelimit/internal/limiter")
	decisions, _ := meter.Int64Counter("ledger.ratelimit.decisions",
		metric.WithDescription("Tier decisions by tier and outcome: allowed, denied, failed_open, failed_closed."))
	latency, _ := meter.Float64Histogram("ledger.ratelimit.redis.duration",
		metric.WithDescription("Time of the Redis round trip that checks a request's tiers."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1))
	return &metrics{decisions: decisions, latency: latency}
}

func (m *metrics) record(ctx context.Context, d Decision) {
	for _, t := range d.Tiers {
		outcome := "allowed"
		switch {
		case t.FailureMode != "" && t.Allowed:
			outcome = "failed_open"
		case t.FailureMode != "":
			outcome = "failed_closed"
		case !d.Allowed && !t.Allowed:
			outcome = "denied"
		case !d.Allowed:
			outcome = "not_consumed"
		}
		m.decisions.Add(ctx, 1, metric.WithAttributes(attribute.String("tier", t.Tier.Name), attribute.String("outcome", outcome)))
	}
}
