package e2e

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

type paymentJSON struct {
	ID                    string            `json:"id"`
	Status                string            `json:"status"`
	Amount                string            `json:"amount"`
	RefundedAmount        string            `json:"refunded_amount"`
	Currency              string            `json:"currency"`
	Method                string            `json:"method"`
	PayerWalletID         string            `json:"payer_wallet_id"`
	PayeeWalletID         string            `json:"payee_wallet_id"`
	StripePaymentIntentID string            `json:"stripe_payment_intent_id"`
	Description           string            `json:"description"`
	Metadata              map[string]string `json:"metadata"`
	FailureReason         string            `json:"failure_reason"`
	CreatedAt             string            `json:"created_at"`
}

type refundJSON struct {
	ID             string `json:"id"`
	PaymentID      string `json:"payment_id"`
	Amount         string `json:"amount"`
	Status         string `json:"status"`
	Reason         string `json:"reason"`
	StripeRefundID string `json:"stripe_refund_id"`
	CreatedAt      string `json:"created_at"`
}

// TestPaymentsThroughGateway pays a facility from a patient's wallet and
// by card (against stripe-mock), refunds, and delivers a signed webhook.
func TestPaymentsThroughGateway(t *testing.T) {
	t.Parallel()
	s := startStack(t, withPayments(startStripeMock(t)))
	patientWallet, patient := s.fundedWallet(t, "patient-1", 10000)
	facilityToken := s.token(t, "facility-1")
	facility := s.createWallet(t, facilityToken, "USD")
	service := s.serviceToken(t)

	body := fmt.Sprintf(`{"payee_wallet_id":%q,"amount":"5000","currency":"USD","method":"wallet","payer_wallet_id":%q,"metadata":{"patient_id":"p-1","facility_id":"f-1"}}`,
		facility.ID, patientWallet.ID)
	resp := s.send(t, call{method: http.MethodPost, path: "/v1/payments", token: patient, idempotencyKey: "visit-1", body: body})
	paid := decodeOK[paymentJSON](t, resp, "wallet payment")
	if paid.Status != "succeeded" || paid.Amount != "5000" || paid.Metadata["facility_id"] != "f-1" {
		t.Errorf("payment = %+v", paid)
	}
	if got := s.wallet(t, facilityToken, facility.ID).Balance; got != "5000" {
		t.Errorf("facility balance %s, want 5000", got)
	}

	short := fmt.Sprintf(`{"payee_wallet_id":%q,"amount":"999999","currency":"USD","method":"wallet","payer_wallet_id":%q}`, facility.ID, patientWallet.ID)
	resp = s.send(t, call{method: http.MethodPost, path: "/v1/payments", token: patient, idempotencyKey: "visit-2", body: short})
	expectProblem(t, resp, http.StatusUnprocessableEntity, "insufficient_funds")

	refundPath := "/v1/payments/" + paid.ID + "/refunds"
	resp = s.send(t, call{method: http.MethodPost, path: refundPath, token: service, idempotencyKey: "refund-1", body: `{"amount":"2000","reason":"overcharged"}`})
	if r := decodeOK[refundJSON](t, resp, "refund"); r.Status != "succeeded" {
		t.Errorf("refund = %+v", r)
	}
	resp = s.send(t, call{method: http.MethodPost, path: refundPath, token: service, idempotencyKey: "refund-2", body: `{"amount":"3001"}`})
	expectProblem(t, resp, http.StatusUnprocessableEntity, "refund_exceeds_payment")
	waitForBalance(t, s, patient, patientWallet.ID, "7000")

	card := fmt.Sprintf(`{"payee_wallet_id":%q,"amount":"2500","currency":"USD","method":"card","payment_method":"pm_card_visa"}`, facility.ID)
	resp = s.send(t, call{method: http.MethodPost, path: "/v1/payments", token: patient, idempotencyKey: "card-1", body: card})
	charged := decodeOK[paymentJSON](t, resp, "card payment")
	// stripe-mock returns a fixture PaymentIntent that still needs a
	// payment method, so the payment waits for Stripe's webhook.
	if charged.Status != "pending" || !strings.HasPrefix(charged.StripePaymentIntentID, "pi_") {
		t.Fatalf("card payment = %+v, want pending with a PaymentIntent", charged)
	}
	succeeded := fmt.Sprintf(`{"id":"evt_e2e_paid","object":"event","api_version":"2023-10-16","type":"payment_intent.succeeded",`+
		`"data":{"object":{"id":%q,"object":"payment_intent","status":"succeeded","metadata":{"payment_id":%q}}}}`,
		charged.StripePaymentIntentID, charged.ID)
	if status := deliverWebhook(t, s, []byte(succeeded), time.Now(), stripeWebhookSecret); status != http.StatusOK {
		t.Fatalf("payment_intent.succeeded delivery: status %d, want 200", status)
	}
	waitForBalance(t, s, facilityToken, facility.ID, "5500")
	resp = s.send(t, call{method: http.MethodGet, path: "/v1/payments/" + charged.ID, token: patient})
	if got := decodeOK[paymentJSON](t, resp, "card payment after the webhook"); got.Status != "succeeded" {
		t.Errorf("card payment status %s, want succeeded", got.Status)
	}

	t.Run("webhook", func(t *testing.T) {
		payload := []byte(`{"id":"evt_e2e_1","object":"event","api_version":"2023-10-16","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge"}}}`)
		now := time.Now()
		for name, c := range map[string]struct {
			at     time.Time
			secret string
			status int
		}{
			"valid":         {now, stripeWebhookSecret, http.StatusOK},
			"repeated":      {now, stripeWebhookSecret, http.StatusOK},
			"bad signature": {now, "whsec_wrong", http.StatusBadRequest},
			"stale":         {now.Add(-10 * time.Minute), stripeWebhookSecret, http.StatusBadRequest},
			"future":        {now.Add(10 * time.Minute), stripeWebhookSecret, http.StatusBadRequest},
		} {
			if status := deliverWebhook(t, s, payload, c.at, c.secret); status != c.status {
				t.Errorf("%s: status %d, want %d", name, status, c.status)
			}
		}
		if status := deliverWebhook(t, s, payload, time.Time{}, ""); status != http.StatusBadRequest {
			t.Errorf("missing header: status %d, want 400", status)
		}
	})
}

// deliverWebhook posts payload to the gateway's Stripe endpoint signed
// with secret at ts (no signature header when secret is empty) and
// returns the status.
func deliverWebhook(t *testing.T, s *stack, payload []byte, ts time.Time, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.baseURL+"/webhooks/stripe", strings.NewReader(string(payload)))
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Stripe-Signature", fmt.Sprintf("t=%d,v1=%s", ts.Unix(), hex.EncodeToString(webhook.ComputeSignature(ts, payload, secret))))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitForBalance polls a wallet until the outbox relay has moved the
// money, for up to 10 s.
func waitForBalance(t *testing.T, s *stack, token, walletID, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = s.wallet(t, token, walletID).Balance; got == want {
			return
		}
	}
	t.Errorf("wallet %s balance %s, want %s", walletID, got, want)
}
