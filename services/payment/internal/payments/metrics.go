package payments

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric instruments, created from the global meter provider that the
// process sets up at start. Errors only occur for invalid names.
var (
	meter = otel.Meter("github.com/advancia-pay/ledger/services/payment/internal/payments")

	paymentsCounter, _ = meter.Int64Counter("ledger.payment.payments",
		metric.WithDescription("Payment requests by method and resulting status (or error code)."))
	processingTime, _ = meter.Float64Histogram("ledger.payment.processing.duration",
		metric.WithDescription("Time to process a payment request, Stripe and ledger calls included."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	refundsCounter, _ = meter.Int64Counter("ledger.payment.refunds",
		metric.WithDescription("Refund requests by resulting status (or error code)."))
	webhookCounter, _ = meter.Int64Counter("ledger.payment.webhooks",
		metric.WithDescription("Stripe webhook events by type and outcome: applied, duplicate, failed, rejected."))
	outboxLag, _ = meter.Float64Histogram("ledger.payment.outbox.lag",
		metric.WithDescription("Time from queueing a ledger call in the outbox to its success."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
)

func recordPayment(ctx context.Context, method string, start time.Time, p Payment, err error) {
	outcome := p.Status
	if err != nil {
		outcome = string(codeOf(err))
	}
	attrs := metric.WithAttributes(attribute.String("method", method), attribute.String("outcome", outcome))
	paymentsCounter.Add(ctx, 1, attrs)
	processingTime.Record(ctx, time.Since(start).Seconds(), attrs)
}

func recordRefund(ctx context.Context, r Refund, err error) {
	outcome := r.Status
	if err != nil {
		outcome = string(codeOf(err))
	}
	refundsCounter.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
}

func recordWebhook(ctx context.Context, eventType, outcome string) {
	webhookCounter.Add(ctx, 1, metric.WithAttributes(attribute.String("type", eventType), attribute.String("outcome", outcome)))
}

// RecordRejectedWebhook counts a delivery rejected before its event could
// be read (bad signature or timestamp), as type "unverified".
func RecordRejectedWebhook(ctx context.Context) {
	recordWebhook(ctx, "unverified", "rejected")
}
