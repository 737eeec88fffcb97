package payments

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Relay makes the ledger calls queued in the outbox, with keys derived
// from payment and refund ids, so a call repeated after a crash moves no
// money twice. Several replicas may run it at once for the same reason.
type Relay struct {
	store    Store
	ledger   Ledger
	logger   *slog.Logger
	interval time.Duration
	wake     chan struct{}
}

// NewRelay returns a Relay that runs every interval and whenever woken.
func NewRelay(store Store, ledger Ledger, interval time.Duration, logger *slog.Logger) *Relay {
	return &Relay{store: store, ledger: ledger, logger: logger, interval: interval, wake: make(chan struct{}, 1)}
}

// Wake schedules a run soon; it never blocks. A nil Relay ignores
// it.
func (r *Relay) Wake() {
	if r == nil {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run processes the outbox until ctx is done.
func (r *Relay) Run(ctx context.Context) {
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.logger.ErrorContext(ctx, "outbox relay failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-r.wake:
		}
	}
}

// RunOnce processes up to 100 pending entries and returns how many
// succeeded. A failed entry stays for the next run.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	entries, err := r.store.PendingOutbox(ctx, 100)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, e := range entries {
		txID, err := r.process(ctx, e)
		if err != nil {
			r.logger.WarnContext(ctx, "outbox entry failed, will retry", "entry", e.ID, "kind", e.Kind,
				"payment_id", e.PaymentID, "attempts", e.Attempts+1, "error", err)
			if ferr := r.store.FailOutbox(ctx, e, err); ferr != nil {
				return done, ferr
			}
			continue
		}
		if err := r.store.FinishOutbox(ctx, e, txID); err != nil {
			return done, err
		}
		outboxLag.Record(ctx, time.Since(e.CreatedAt).Seconds())
		done++
	}
	return done, nil
}

func (r *Relay) process(ctx context.Context, e OutboxEntry) (string, error) {
	p, err := r.store.GetPayment(ctx, e.PaymentID)
	if err != nil {
		return "", err
	}
	switch e.Kind {
	case OutboxCreditPayee:
		return r.ledger.Credit(ctx, p.PayeeWalletID, p.Amount, "card payment "+p.ID, "payment:"+p.ID+":credit")
	case OutboxReverseForRefund:
		refund, err := r.store.GetRefund(ctx, e.RefundID)
		if err != nil {
			return "", err
		}
		if p.LedgerTransactionID == "" {
			return "", fmt.Errorf("payment %s has no ledger transaction yet", p.ID)
		}
		return r.ledger.Reverse(ctx, p.LedgerTransactionID, refund.Amount, "refund "+refund.ID, "refund:"+refund.ID)
	}
	return "", fmt.Errorf("unknown outbox kind %q", e.Kind)
}
