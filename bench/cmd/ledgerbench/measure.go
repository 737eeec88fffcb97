package main

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// result is one measured step of a workload.
type result struct {
	Workload    string  `json:"workload"`
	Transport   string  `json:"transport"`
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency,omitempty"`
	OfferedRate float64 `json:"offered_per_second,omitempty"`
	Rate        float64 `json:"achieved_per_second"`
	OK          int64   `json:"ok"`
	Rejected    int64   `json:"business_rejected"`
	// Busy counts ABORTED responses: a wallet busy past its retry budget,
	// or an idempotency key still in use by a concurrent duplicate.
	Busy   int64   `json:"busy_or_in_use"`
	Errors int64   `json:"errors"`
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P99    float64 `json:"p99_ms"`
	Max    float64 `json:"max_ms"`
	// RetriesPerCommit is the wallet's serialization retries per posted
	// operation during the step; nil when nothing was posted.
	RetriesPerCommit *float64 `json:"serialization_retries_per_commit,omitempty"`
	// CPUPerThousand is CPU seconds per 1,000 operations, by process.
	CPUPerThousand map[string]float64 `json:"cpu_seconds_per_1000_ops,omitempty"`
}

// outcome classifies one call.
type outcome int

const (
	outcomeOK outcome = iota
	outcomeRejected
	outcomeBusy
	outcomeError
)

// recorder collects latencies and outcomes from many goroutines.
type recorder struct {
	mu sync.Mutex
	// latencies is guarded by mu.
	latencies                []time.Duration
	ok, rejected, busy, errs atomic.Int64
}

func (r *recorder) add(d time.Duration, o outcome) {
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	r.mu.Unlock()
	switch o {
	case outcomeOK:
		r.ok.Add(1)
	case outcomeRejected:
		r.rejected.Add(1)
	case outcomeBusy:
		r.busy.Add(1)
	default:
		r.errs.Add(1)
	}
}

func (r *recorder) result(name, transport, mode string, elapsed time.Duration) result {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.latencies)
	ms := func(q float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		i := int(math.Ceil(q*float64(len(r.latencies)))) - 1
		return float64(r.latencies[max(i, 0)].Microseconds()) / 1000
	}
	total := r.ok.Load() + r.rejected.Load() + r.busy.Load() + r.errs.Load()
	return result{
		Workload: name, Transport: transport, Mode: mode,
		Rate: float64(total) / elapsed.Seconds(), OK: r.ok.Load(), Rejected: r.rejected.Load(), Busy: r.busy.Load(), Errors: r.errs.Load(),
		P50: ms(0.50), P90: ms(0.90), P99: ms(0.99), Max: ms(1),
	}
}

// op is one call of a workload; worker and n tell calls apart.
type op func(ctx context.Context, worker, n int) outcome

// closed measures call in a closed loop at concurrency for d and records
// the result.
func (b *bench) closed(ctx context.Context, name, transport string, concurrency int, d time.Duration, call op) result {
	return b.measure(ctx, func() result {
		rec, elapsed := closedLoop(ctx, concurrency, d, call)
		r := rec.result(name, transport, "closed", elapsed)
		r.Concurrency = concurrency
		return r
	})
}

// open measures call started at rate per second for d and records the
// result.
func (b *bench) open(ctx context.Context, name, transport string, rate float64, d time.Duration, call op) result {
	return b.measure(ctx, func() result {
		rec, elapsed := openLoop(ctx, rate, d, call)
		r := rec.result(name, transport, "open", elapsed)
		r.OfferedRate = rate
		return r
	})
}

// measure runs step between two snapshots of the stack's processes and
// records its result with the CPU time and retries it cost.
func (b *bench) measure(ctx context.Context, step func() result) result {
	before := b.snapshot(ctx)
	r := step()
	r.cost(before, b.snapshot(ctx))
	b.results = append(b.results, r)
	return r
}

// closedLoop runs call from concurrency goroutines, each issuing the next
// call when the last returns, for d.
func closedLoop(ctx context.Context, concurrency int, d time.Duration, call op) (*recorder, time.Duration) {
	rec := &recorder{}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				t := time.Now()
				o := call(context.WithoutCancel(ctx), w, n)
				rec.add(time.Since(t), o)
			}
		})
	}
	wg.Wait()
	return rec, time.Since(start)
}

// openLoop starts call at a fixed rate for d, whatever the latency. At most
// 1,000 calls are in flight, and calls that could not start count as
// errors.
func openLoop(ctx context.Context, rate float64, d time.Duration, call op) (*recorder, time.Duration) {
	rec := &recorder{}
	ticker := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer ticker.Stop()
	deadline := time.After(d)
	inFlight := make(chan struct{}, 1000)
	var wg sync.WaitGroup
	start := time.Now()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
		case <-deadline:
		case <-ticker.C:
			select {
			case inFlight <- struct{}{}:
				wg.Go(func() {
					defer func() { <-inFlight }()
					t := time.Now()
					o := call(context.WithoutCancel(ctx), n, n)
					rec.add(time.Since(t), o)
				})
			default:
				rec.add(0, outcomeError)
			}
			continue
		}
		break
	}
	wg.Wait()
	return rec, time.Since(start)
}
