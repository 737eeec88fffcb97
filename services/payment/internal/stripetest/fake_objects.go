package stripetest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// fakeIntent is a PaymentIntent stored by Fake.
type fakeIntent struct {
	id            string
	amount        int64
	currency      string
	paymentMethod string
	status        string
	description   string
	metadata      map[string]string
	created       int64
	refunded      int64
}

// fakeRefund is a Refund stored by Fake.
type fakeRefund struct {
	id            string
	amount        int64
	currency      string
	paymentIntent string
	reason        string
	metadata      map[string]string
	created       int64
}

// Stripe test payment methods that Fake supports. confirmationStatus maps each
// to the outcome of confirming a PaymentIntent with it.
const (
	pmVisa                   = "pm_card_visa"
	pmChargeDeclined         = "pm_card_chargeDeclined"
	pmAuthenticationRequired = "pm_card_authenticationRequired"
)

var refundReasons = map[string]bool{"duplicate": true, "fraudulent": true, "requested_by_customer": true}

// createIntent handles POST /v1/payment_intents. The caller holds f.mu.
func (f *Fake) createIntent(form url.Values) (int, []byte) {
	amount, errBody := parseAmount(form)
	if errBody != nil {
		return http.StatusBadRequest, errBody
	}

	currency := form.Get("currency")
	if !validCurrency(currency) {
		return http.StatusBadRequest, errorBody("invalid_request_error", "parameter_invalid_string", "currency",
			fmt.Sprintf("Invalid currency: %s.", currency))
	}

	pm := form.Get("payment_method")
	confirm := form.Get("confirm") == "true"

	status, errBody := confirmationStatus(pm, confirm)
	if errBody != nil {
		return http.StatusBadRequest, errBody
	}

	if status == "declined" {
		return http.StatusPaymentRequired, errorBody402()
	}

	intent := &fakeIntent{
		id:            f.newID("pi"),
		amount:        amount,
		currency:      currency,
		paymentMethod: pm,
		status:        status,
		description:   form.Get("description"),
		metadata:      parseMetadata(form),
		created:       time.Now().Unix(),
	}
	f.intents[intent.id] = intent

	return http.StatusOK, intent.json()
}

// confirmationStatus returns the status a new PaymentIntent gets, "declined"
// for a card decline, or an HTTP 400 body.
func confirmationStatus(pm string, confirm bool) (string, []byte) {
	if !confirm {
		if pm == "" {
			return "requires_payment_method", nil
		}
		return "requires_confirmation", nil
	}

	switch pm {
	case "":
		return "", errorBody("invalid_request_error", "parameter_missing", "payment_method",
			"You cannot confirm this PaymentIntent because it's missing a payment method.")
	case pmVisa:
		return "succeeded", nil
	case pmAuthenticationRequired:
		return "requires_action", nil
	case pmChargeDeclined:
		return "declined", nil
	default:
		return "", errorBody("invalid_request_error", "resource_missing", "payment_method",
			fmt.Sprintf("No such PaymentMethod: '%s'", pm))
	}
}

func errorBody402() []byte {
	return mustJSON(map[string]any{"error": map[string]any{
		"type":         "card_error",
		"code":         "card_declined",
		"decline_code": "generic_decline",
		"message":      "Your card was declined.",
	}})
}

// getIntent handles GET /v1/payment_intents/{id}. The caller holds f.mu.
func (f *Fake) getIntent(id string) (int, []byte) {
	intent, ok := f.intents[id]
	if !ok {
		return http.StatusNotFound, errorBody("invalid_request_error", "resource_missing", "intent",
			fmt.Sprintf("No such payment_intent: '%s'", id))
	}

	return http.StatusOK, intent.json()
}

// createRefund handles POST /v1/refunds. The caller holds f.mu.
func (f *Fake) createRefund(form url.Values) (int, []byte) {
	intentID := form.Get("payment_intent")
	if intentID == "" {
		return http.StatusBadRequest, errorBody("invalid_request_error", "parameter_missing", "payment_intent",
			"Missing required param: payment_intent.")
	}

	intent, ok := f.intents[intentID]
	if !ok {
		return http.StatusBadRequest, errorBody("invalid_request_error", "resource_missing", "payment_intent",
			fmt.Sprintf("No such payment_intent: '%s'", intentID))
	}

	if intent.status != "succeeded" {
		return http.StatusBadRequest, errorBody("invalid_request_error", "charge_not_refundable", "payment_intent",
			fmt.Sprintf("This PaymentIntent (%s) does not have a successful charge to refund.", intentID))
	}

	amount, errBody := refundAmount(form, intent)
	if errBody != nil {
		return http.StatusBadRequest, errBody
	}

	reason := form.Get("reason")
	if reason != "" && !refundReasons[reason] {
		return http.StatusBadRequest, errorBody("invalid_request_error", "parameter_invalid_string", "reason",
			fmt.Sprintf("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer, not %q.", reason))
	}

	refund := &fakeRefund{
		id:            f.newID("re"),
		amount:        amount,
		currency:      intent.currency,
		paymentIntent: intent.id,
		reason:        reason,
		metadata:      parseMetadata(form),
		created:       time.Now().Unix(),
	}
	f.refunds[refund.id] = refund
	intent.refunded += amount

	return http.StatusOK, refund.json()
}

// refundAmount returns the requested amount, the whole remaining amount when
// none is given, or an HTTP 400 body when it exceeds what remains.
func refundAmount(form url.Values, intent *fakeIntent) (int64, []byte) {
	remaining := intent.amount - intent.refunded

	if form.Get("amount") == "" {
		if remaining == 0 {
			return 0, errorBody("invalid_request_error", "charge_already_refunded", "",
				fmt.Sprintf("PaymentIntent %s has already been refunded.", intent.id))
		}
		return remaining, nil
	}

	amount, errBody := parseAmount(form)
	if errBody != nil {
		return 0, errBody
	}

	if amount > remaining {
		return 0, errorBody("invalid_request_error", "", "amount",
			fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on PaymentIntent (%d).", amount, remaining))
	}

	return amount, nil
}

// parseAmount reads a positive integer "amount", or returns an HTTP 400 body.
func parseAmount(form url.Values) (int64, []byte) {
	raw := form.Get("amount")
	if raw == "" {
		return 0, errorBody("invalid_request_error", "parameter_missing", "amount", "Missing required param: amount.")
	}

	amount, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || amount < 1 {
		return 0, errorBody("invalid_request_error", "parameter_invalid_integer", "amount",
			fmt.Sprintf("Invalid positive integer: %q.", raw))
	}

	return amount, nil
}

// validCurrency accepts three lower-case ASCII letters. Real Stripe also
// rejects codes that it does not support.
func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}

	for _, r := range c {
		if r < 'a' || r > 'z' {
			return false
		}
	}

	return true
}

// parseMetadata collects metadata[key]=value form fields.
func parseMetadata(form url.Values) map[string]string {
	md := make(map[string]string)
	for field, values := range form {
		key, ok := strings.CutPrefix(field, "metadata[")
		if !ok || !strings.HasSuffix(key, "]") || len(values) == 0 {
			continue
		}
		md[strings.TrimSuffix(key, "]")] = values[0]
	}

	return md
}

func (p *fakeIntent) json() []byte {
	var received int64
	if p.status == "succeeded" {
		received = p.amount
	}

	return mustJSON(map[string]any{
		"id":                   p.id,
		"object":               "payment_intent",
		"amount":               p.amount,
		"amount_received":      received,
		"capture_method":       "automatic",
		"confirmation_method":  "automatic",
		"created":              p.created,
		"currency":             p.currency,
		"description":          nullable(p.description),
		"last_payment_error":   nil,
		"livemode":             false,
		"metadata":             p.metadata,
		"payment_method":       nullable(p.paymentMethod),
		"payment_method_types": []string{"card"},
		"status":               p.status,
	})
}

func (r *fakeRefund) json() []byte {
	return mustJSON(map[string]any{
		"id":             r.id,
		"object":         "refund",
		"amount":         r.amount,
		"created":        r.created,
		"currency":       r.currency,
		"metadata":       r.metadata,
		"payment_intent": r.paymentIntent,
		"reason":         nullable(r.reason),
		"status":         "succeeded",
	})
}

// nullable returns nil for "" so that the JSON field is null, as in Stripe.
func nullable(s string) any {
	if s == "" {
		return nil
	}

	return s
}
