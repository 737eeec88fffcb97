// Package backoff computes jittered exponential retry delays and sleeps
// them without outliving a context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jittered returns a random delay in [0, min(maxDelay, base*2^(attempt-1))]
// ("full jitter"), so that callers retrying the same conflict spread out.
// attempt counts from 1.
func Jittered(attempt int, base, maxDelay time.Duration) time.Duration {
	limit := maxDelay
	if shift := attempt - 1; shift < 32 && base<<shift > 0 && base<<shift < maxDelay {
		limit = base << shift
	}
	return rand.N(limit + 1) // #nosec G404 -- retry jitter needs no unpredictability
}

// Sleep waits for d or until ctx is done, and then returns ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
