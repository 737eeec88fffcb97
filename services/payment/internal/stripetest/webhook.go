package stripetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// SignedHeader returns the Stripe-Signature header value, "t=<unix>,v1=<hex>",
// for payload signed with secret at ts. A zero ts means now. webhook.ConstructEvent
// accepts it only while ts is within its tolerance of 5 minutes.
func SignedHeader(payload []byte, secret string, ts time.Time) string {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload:   payload,
		Secret:    secret,
		Timestamp: ts,
	})

	return signed.Header
}

// EventPayload returns the JSON of a Stripe event with the given id and type
// whose data.object is obj. Its api_version is the one stripe-go v76 pins
// (2023-10-16), so webhook.ConstructEvent accepts it. It calls t.Fatalf when
// obj cannot be encoded as JSON.
func EventPayload(t testing.TB, id, eventType string, obj map[string]any) []byte {
	t.Helper()

	event := map[string]any{
		"id":               id,
		"object":           "event",
		"api_version":      stripe.APIVersion,
		"created":          time.Now().Unix(),
		"type":             eventType,
		"livemode":         false,
		"pending_webhooks": 1,
		"request":          map[string]any{"id": nil, "idempotency_key": nil},
		"data":             map[string]any{"object": obj},
	}

	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatalf("stripetest: encode event %s: %v", id, err)
	}

	return payload
}
