package workload

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Retry settings of the workload.
const (
	// inlineAttempts is how often a worker sends an operation before it
	// leaves it unknown for the replay phase.
	inlineAttempts = 4
	// firstBackoff doubles after each unknown response, up to maxBackoff.
	firstBackoff = 250 * time.Millisecond
	maxBackoff   = 2 * time.Second
	// replayInterval spaces the replays of one operation when the response
	// names no Retry-After.
	replayInterval = 500 * time.Millisecond
)

// Runner sends the operations of a plan with a fixed number of workers.
type Runner struct {
	client  *Client
	plan    *Plan
	workers int
	// pace is the least time between the scheduled starts of two
	// consecutive operations.
	pace time.Duration

	started atomic.Int64
	// mu guards plan.FollowUps and acks.
	mu   sync.Mutex
	acks []acknowledgement
}

// acknowledgement is when an operation on some wallets was acknowledged.
type acknowledgement struct {
	at      time.Time
	wallets [2]string
}

// NewRunner returns a Runner of plan.
func NewRunner(client *Client, plan *Plan, workers int, pace time.Duration) *Runner {
	return &Runner{client: client, plan: plan, workers: workers, pace: pace}
}

// Started returns how many workload operations have been sent at least
// once.
func (r *Runner) Started() int { return int(r.started.Load()) }

// Fund sends the funding credits and replays them until each one is
// acknowledged or deadline passes.
func (r *Runner) Fund(ctx context.Context, deadline time.Time) error {
	r.forEach(ctx, r.plan.Funding, func(op *Op) { r.resolve(ctx, op, deadline) })
	for _, op := range r.plan.Funding {
		if op.Outcome != Acknowledged {
			return fmt.Errorf("funding credit %s ended %s: HTTP %d %s %s", op.Key, op.Outcome, op.Status, op.Code, op.Detail)
		}
	}
	return nil
}

// Run sends the workload. Operation i starts no earlier than i × pace
// after the call. A worker that places a hold ends it with its capture or
// void at once. An operation still unknown after the inline attempts is
// left for Resolve.
func (r *Runner) Run(ctx context.Context) {
	start := time.Now()
	r.forEach(ctx, r.plan.Ops, func(op *Op) {
		if !sleepUntil(ctx, start.Add(time.Duration(op.Index)*r.pace)) {
			return
		}
		r.started.Add(1)
		r.sendInline(ctx, op)
		if op.Outcome == Acknowledged && op.FollowUp != "" {
			r.sendInline(ctx, r.addFollowUp(op))
		}
	})
}

// Resolve replays every operation that is not yet acknowledged or
// rejected, reusing its key, until it is or deadline passes. Holds that
// were placed without their follow-up get it, and it is resolved too.
func (r *Runner) Resolve(ctx context.Context, deadline time.Time) {
	r.forEach(ctx, r.open(r.plan.All()), func(op *Op) { r.resolve(ctx, op, deadline) })

	var followUps []*Op
	for _, op := range r.plan.Ops {
		if op.Outcome == Acknowledged && op.FollowUp != "" && !r.hasFollowUp(op) {
			followUps = append(followUps, r.addFollowUp(op))
		}
	}
	r.forEach(ctx, followUps, func(op *Op) { r.resolve(ctx, op, deadline) })
}

// Confirm sends every acknowledged operation once more with its key and
// records a violation when the response is not the same resource.
func (r *Runner) Confirm(ctx context.Context, deadline time.Time) {
	var acknowledged []*Op
	for _, op := range r.plan.All() {
		if op.Outcome == Acknowledged {
			acknowledged = append(acknowledged, op)
		}
	}
	r.forEach(ctx, acknowledged, func(op *Op) { r.replayAcknowledged(ctx, op, deadline) })
}

// AcknowledgedOn counts the operations touching wallet that were
// acknowledged between from and to. It is safe to call while Run runs.
func (r *Runner) AcknowledgedOn(wallet string, from, to time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.acks {
		if (a.wallets[0] == wallet || a.wallets[1] == wallet) && a.at.After(from) && a.at.Before(to) {
			n++
		}
	}
	return n
}

// Unresolved returns the operations that are neither acknowledged nor
// rejected.
func (r *Runner) Unresolved() []*Op { return r.open(r.plan.All()) }

func (r *Runner) open(ops []*Op) []*Op {
	var out []*Op
	for _, op := range ops {
		if op.Outcome == Pending || op.Outcome == Unknown {
			out = append(out, op)
		}
	}
	return out
}

func (r *Runner) addFollowUp(hold *Op) *Op {
	op := r.plan.followUp(hold)
	r.mu.Lock()
	r.plan.FollowUps = append(r.plan.FollowUps, op)
	r.mu.Unlock()
	return op
}

func (r *Runner) hasFollowUp(hold *Op) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, op := range r.plan.FollowUps {
		if op.Parent == hold {
			return true
		}
	}
	return false
}

// forEach runs fn over ops with the runner's workers, in order of ops.
func (r *Runner) forEach(ctx context.Context, ops []*Op, fn func(*Op)) {
	queue := make(chan *Op)
	var wg sync.WaitGroup
	for range r.workers {
		wg.Go(func() {
			for op := range queue {
				fn(op)
			}
		})
	}
	for _, op := range ops {
		if ctx.Err() != nil {
			break
		}
		queue <- op
	}
	close(queue)
	wg.Wait()
}

// sendInline sends op up to inlineAttempts times with growing back-off.
// When op.Resend is set and op was acknowledged, it sends op once more.
func (r *Runner) sendInline(ctx context.Context, op *Op) {
	backoff := firstBackoff
	for attempt := range inlineAttempts {
		a := r.attempt(ctx, op)
		if op.Outcome != Unknown {
			break
		}
		if attempt == inlineAttempts-1 || !Sleep(ctx, retryDelay(a, backoff)) {
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
	if op.Resend && op.Outcome == Acknowledged {
		r.replayAcknowledged(ctx, op, time.Now().Add(inlineAttempts*maxBackoff))
	}
}

// resolve sends op until it is acknowledged or rejected, or deadline
// passes.
func (r *Runner) resolve(ctx context.Context, op *Op, deadline time.Time) {
	for op.Outcome == Pending || op.Outcome == Unknown {
		a := r.attempt(ctx, op)
		if op.Outcome != Unknown || time.Now().After(deadline) || !Sleep(ctx, retryDelay(a, replayInterval)) {
			return
		}
	}
}

// attempt sends op once and records the response in op.
func (r *Runner) attempt(ctx context.Context, op *Op) response {
	req := op.request()
	a := r.client.send(ctx, req.method, req.path, op.token, op.Key, req.body)
	op.Attempts++
	op.Status, op.Code, op.Detail = a.status, a.code, a.detail
	if a.err != nil {
		op.Detail = a.err.Error()
	}

	switch outcome := a.outcome(); outcome {
	case Acknowledged:
		result, err := parseResult(op.Kind, a)
		if err != nil {
			op.Violations = append(op.Violations, err.Error())
			op.Outcome = Rejected
			return a
		}
		op.Outcome, op.Result, op.AcknowledgedAt = Acknowledged, result, time.Now()
		r.mu.Lock()
		r.acks = append(r.acks, acknowledgement{at: op.AcknowledgedAt, wallets: [2]string{op.WalletID, op.ToWalletID}})
		r.mu.Unlock()
		if problem := op.checkAcknowledged(result); problem != "" {
			op.Violations = append(op.Violations, problem)
		}
	case Rejected:
		op.Outcome = Rejected
		if problem := op.checkRejected(a); problem != "" {
			op.Violations = append(op.Violations, problem)
		}
	default:
		op.Outcome, op.WasUnknown = Unknown, true
	}
	return a
}

// replayAcknowledged sends an acknowledged op again until the response is
// definite or deadline passes. The response must return the same resource.
func (r *Runner) replayAcknowledged(ctx context.Context, op *Op, deadline time.Time) {
	req := op.request()
	for {
		a := r.client.send(ctx, req.method, req.path, op.token, op.Key, req.body)
		switch a.outcome() {
		case Acknowledged:
			result, err := parseResult(op.Kind, a)
			switch {
			case err != nil:
				op.Violations = append(op.Violations, "replay of "+op.Key+": "+err.Error())
			case result.ID != op.Result.ID:
				op.Duplicates++
				op.Violations = append(op.Violations, fmt.Sprintf("replay of acknowledged %s %s returned %s, the first response was %s",
					op.Kind, op.Key, result.ID, op.Result.ID))
			}
			return
		case Rejected:
			op.Violations = append(op.Violations, fmt.Sprintf("replay of acknowledged %s %s was rejected: %s", op.Kind, op.Key, a.describe()))
			return
		}
		if time.Now().After(deadline) || !Sleep(ctx, retryDelay(a, replayInterval)) {
			return
		}
	}
}

// retryDelay honours the response's Retry-After, capped at maxBackoff, or
// returns fallback.
func retryDelay(a response, fallback time.Duration) time.Duration {
	if a.retryAfter > 0 {
		return min(a.retryAfter, maxBackoff)
	}
	return fallback
}

// Sleep waits for d and reports false when ctx ended first.
func Sleep(ctx context.Context, d time.Duration) bool {
	return sleepUntil(ctx, time.Now().Add(d))
}

// sleepUntil waits until t and reports false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
