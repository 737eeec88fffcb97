package pgtx

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

const meterName = "github.com/advancia-pay/ledger/pkg/pgtx"

// retryCounter counts retried transactions by SQLSTATE. It is created from the
// global meter at package initialization, which forwards to the provider
// installed later with otel.SetMeterProvider.
var retryCounter = newRetryCounter()

func newRetryCounter() metric.Int64Counter {
	counter, err := otel.Meter(meterName).Int64Counter(
		"ledger.pgtx.retries",
		metric.WithDescription("Transactions retried after a serialization failure or deadlock."),
		metric.WithUnit("{retry}"),
	)
	if err != nil {
		otel.Handle(err)

		return noop.Int64Counter{}
	}

	return counter
}

func recordRetry(ctx context.Context, err error) {
	retryCounter.Add(ctx, 1, metric.WithAttributes(attribute.String("sqlstate", retryableState(err))))
}
