package rest

import (
	"io"
	"log/slog"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/telemetry"
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
			writeProblem(w, r, apperr.InvalidRequest, "request body is unreadable or too large", 0)
			return
		}
		ctx := metadata.AppendToOutgoingContext(r.Context(), "x-request-id", telemetry.RequestID(r.Context()))
		_, err = client.HandleStripeWebhook(ctx, &paymentv1.HandleStripeWebhookRequest{
			Payload: payload, Signature: r.Header.Get("Stripe-Signature"),
		})
		switch status.Code(err) {
		case codes.OK:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"received":true}` + "\n"))
		case codes.InvalidArgument:
			logger.WarnContext(r.Context(), "stripe webhook rejected", "error", status.Convert(err).Message())
			writeProblem(w, r, apperr.InvalidRequest, "invalid webhook delivery: check the signing secret and the clock", 0)
		default:
			logger.ErrorContext(r.Context(), "stripe webhook failed, Stripe will retry", "error", err)
			writeProblem(w, r, apperr.Internal, "webhook processing failed", 0)
		}
	})
}
