package ledger

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/advancia-pay/ledger/pkg/apperr"
)

type metrics struct {
	operations      metric.Int64Counter
	lockUnavailable metric.Int64Counter
}

// newMetrics creates the instruments from the global meter provider, which
// the process sets up at start. Instrument errors only occur for invalid
// names, so they are ignored.
func newMetrics() *metrics {
	meter := otel.Meter("github.com/advancia-pay/ledger/services/wallet/internal/ledger")
	ops, _ := meter.Int64Counter("ledger.wallet.operations",
		metric.WithDescription("Money-moving operations by type and outcome (posted, replayed, or the error code)."))
	unavailable, _ := meter.Int64Counter("ledger.wallet.lock_unavailable",
		metric.WithDescription("Mutations that went ahead without the Redis lock because Redis failed."))
	return &metrics{operations: ops, lockUnavailable: unavailable}
}

func (m *metrics) recordOperation(ctx context.Context, opType string, res Result) {
	outcome := "posted"
	switch {
	case res.Err != nil:
		outcome = string(apperr.CodeOf(res.Err))
	case res.Replayed:
		outcome = "replayed"
	}
	m.operations.Add(ctx, 1, metric.WithAttributes(
		attribute.String("type", opType),
		attribute.String("outcome", outcome),
	))
}
