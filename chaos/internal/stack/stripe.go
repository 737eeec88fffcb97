package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// StripeStats are the fake Stripe's counters.
type StripeStats struct {
	Held           int `json:"held"`
	PaymentIntents int `json:"payment_intents"`
	Refunds        int `json:"refunds"`
}

// StripeStats reads the fake Stripe's counters.
func (s *Stack) StripeStats(ctx context.Context) (StripeStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.StripeURL+"/_fake/stats", nil)
	if err != nil {
		return StripeStats{}, err
	}
	resp, err := readyClient.Do(req)
	if err != nil {
		return StripeStats{}, fmt.Errorf("read the fake Stripe's stats: %w", err)
	}
	defer resp.Body.Close()
	var stats StripeStats
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		return StripeStats{}, fmt.Errorf("decode the fake Stripe's stats: %w", err)
	}
	return stats, nil
}
