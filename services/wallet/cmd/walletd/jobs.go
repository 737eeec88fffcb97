package main

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/advancia-pay/ledger/services/wallet/internal/postgres"
)

// startJobs runs the background jobs of walletd until ctx is done: the
// hold expiry sweep and the periodic invariant check.
func startJobs(ctx context.Context, cfg Config, store *postgres.Store, logger *slog.Logger) {
	meter := otel.Meter("github.com/advancia-pay/ledger/services/wallet/cmd/walletd")
	expired, _ := meter.Int64Counter("ledger.wallet.holds_expired",
		metric.WithDescription("Holds the sweep marked expired."))
	violations, _ := meter.Int64Gauge("ledger.wallet.invariant_violations",
		metric.WithDescription("Ledger invariant violations found by the last periodic check; anything above 0 needs an operator."))

	// Every replica sweeps: the row locks make concurrent sweeps safe.
	go every(ctx, cfg.HoldSweepInterval, func() {
		n, err := store.ExpireHolds(ctx, sweepBatch)
		if n > 0 {
			expired.Add(ctx, int64(n))
			logger.InfoContext(ctx, "holds expired", "count", n)
		}
		if err != nil && ctx.Err() == nil {
			logger.ErrorContext(ctx, "hold sweep failed", "error", err)
		}
	})

	if cfg.VerifyInterval > 0 {
		go every(ctx, cfg.VerifyInterval, func() { verify(ctx, store, logger, violations) })
	}
}

// sweepBatch bounds the holds one sweep expires; the next tick continues.
const sweepBatch = 100

// every calls fn at once and then every interval until ctx is done.
func every(ctx context.Context, interval time.Duration, fn func()) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// verify checks the ledger invariants, records how many failed, and logs
// each violation at error level.
func verify(ctx context.Context, store *postgres.Store, logger *slog.Logger, gauge metric.Int64Gauge) {
	found, err := store.Verify(ctx)
	if err != nil {
		if ctx.Err() == nil {
			logger.ErrorContext(ctx, "invariant check failed to run", "error", err)
		}
		return
	}
	gauge.Record(ctx, int64(len(found)))
	for _, v := range found {
		logger.ErrorContext(ctx, "ledger invariant violated", "check", v.Check, "detail", v.Detail)
	}
	if len(found) == 0 {
		logger.InfoContext(ctx, "ledger invariants hold")
	}
}
