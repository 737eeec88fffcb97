package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
)

// stats is the body of GET /_fake/stats.
type stats struct {
	Held           int `json:"held"`
	PaymentIntents int `json:"payment_intents"`
	Refunds        int `json:"refunds"`
}

// newMux routes /_fake/ to the control API and everything else to fake.
func newMux(fake *stripetest.Fake, logger *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", fake)
	mux.HandleFunc("POST /_fake/hold", func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Query().Get("path")
		if !strings.HasPrefix(path, "/v1/") {
			http.Error(w, "query parameter path must be a Stripe path prefix such as /v1/payment_intents", http.StatusBadRequest)
			return
		}
		fake.FailNext(path, stripetest.FaultHold, 1)
		logger.Info("holding the next response", "path", path)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_fake/release", func(w http.ResponseWriter, _ *http.Request) {
		fake.Release()
		logger.Info("released held responses")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_fake/stats", func(w http.ResponseWriter, _ *http.Request) {
		body := stats{Held: fake.Held(), PaymentIntents: fake.PaymentIntentCount(), Refunds: fake.RefundCount()}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(body); err != nil {
			logger.Warn("write stats", "error", err)
		}
	})
	return mux
}
