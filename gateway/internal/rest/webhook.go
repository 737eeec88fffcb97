package rest

import (
	"io"
	"log/slog"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	paymentv1 "github.com/advancia-pay/ledger/proto/gen/ledger/payment/v1"
)

// stripeWebhook passes Stripe's deliveries to the payment service with the
// raw body unchanged, since the signature covers its exact bytes. It
// returns 200 once the event is applied (or was already), 400 for a
// delivery that fails verification, and 500 otherwise so that Stripe
// retries.
func stripeWebhook(client paymentv1.PaymentServiceClient, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "request body is unreadable or too large", http.StatusBadRequest)
			return
		}
		_, err = client.HandleStripeWebhook(r.Context(), &paymentv1.HandleStripeWebhookRequest{
			Payload: payload, Signature: r.Header.Get("Stripe-Signature"),
		})
		switch status.Code(err) {
		case codes.OK:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"received":true}` + "\n"))
		case codes.InvalidArgument:
			logger.WarnContext(r.Context(), "stripe webhook rejected", "error", status.Convert(err).Message())
			http.Error(w, "invalid webhook delivery", http.StatusBadRequest)
		default:
			logger.ErrorContext(r.Context(), "stripe webhook failed, Stripe will retry", "error", err)
			http.Error(w, "webhook processing failed", http.StatusInternalServerError)
		}
	})
}
