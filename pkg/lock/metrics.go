package lock

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

const meterName = "github.com/advancia-pay/ledger/pkg/lock"

// Values of the outcome attribute of ledger.lock.wait.
const (
	outcomeAcquired    = "acquired"
	outcomeNotAcquired = "not_acquired"
	outcomeCanceled    = "canceled"
)

// waitHistogram records how long Acquire took, in seconds. It is created from
// the global meter at package initialization, which forwards to the provider
// installed later with otel.SetMeterProvider.
var waitHistogram = newWaitHistogram()

func newWaitHistogram() metric.Float64Histogram {
	histogram, err := otel.Meter(meterName).Float64Histogram(
		"ledger.lock.wait",
		metric.WithDescription("Time spent acquiring Redis locks."),
		metric.WithUnit("s"),
		// Waits range from an uncontended SET (well under 1 ms on a local
		// network) to the whole retry budget (about 2 s with the defaults).
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
	)
	if err != nil {
		otel.Handle(err)

		return noop.Float64Histogram{}
	}

	return histogram
}

func recordWait(ctx context.Context, wait time.Duration, outcome string) {
	// The caller's context may already be canceled, which must not drop the
	// measurement.
	waitHistogram.Record(context.WithoutCancel(ctx), wait.Seconds(),
		metric.WithAttributes(attribute.String("outcome", outcome)))
}

// outcome maps an Acquire error to the outcome attribute. Redis errors other
// than lock contention count as not_acquired.
func outcome(err error) string {
	switch {
	case err == nil:
		return outcomeAcquired
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return outcomeCanceled
	default:
		return outcomeNotAcquired
	}
}
