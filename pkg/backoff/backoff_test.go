package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestJitteredStaysWithinCap(t *testing.T) {
	base := 5 * time.Millisecond
	maxDelay := 250 * time.Millisecond

	for attempt := 1; attempt <= 70; attempt++ {
		limit := maxDelay
		if attempt <= 6 {
			limit = base << (attempt - 1)
		}

		for range 100 {
			if d := Jittered(attempt, base, maxDelay); d < 0 || d > limit {
				t.Fatalf("Jittered(%d) = %s, want within [0, %s]", attempt, d, limit)
			}
		}
	}
}

func TestSleepStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a canceled context = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v, want nil", err)
	}
}
