package stripetest_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
)

const webhookSecret = "whsec_stripetest"

func TestEventPayloadConstructEvent(t *testing.T) {
	t.Parallel()
	obj := map[string]any{"id": "pi_123", "object": "payment_intent", "status": "succeeded", "amount": 1000}
	payload := stripetest.EventPayload(t, "evt_1", "payment_intent.succeeded", obj)

	event, err := webhook.ConstructEvent(payload, stripetest.SignedHeader(payload, webhookSecret, time.Now()), webhookSecret)
	if err != nil {
		t.Fatalf("ConstructEvent: %v", err)
	}

	if event.ID != "evt_1" {
		t.Errorf("ID = %q, want evt_1", event.ID)
	}
	if event.Type != "payment_intent.succeeded" {
		t.Errorf("Type = %q, want payment_intent.succeeded", event.Type)
	}
	if got := event.Data.Object["id"]; got != "pi_123" {
		t.Errorf("data.object.id = %v, want pi_123", got)
	}
}

func TestSignedHeaderRejected(t *testing.T) {
	t.Parallel()
	payload := stripetest.EventPayload(t, "evt_2", "charge.refunded", map[string]any{"id": "ch_1"})

	cases := map[string]string{
		"wrong secret":   stripetest.SignedHeader(payload, "whsec_other", time.Now()),
		"stale by 10min": stripetest.SignedHeader(payload, webhookSecret, time.Now().Add(-10*time.Minute)),
	}
	for name, header := range cases {
		if _, err := webhook.ConstructEvent(payload, header, webhookSecret); err == nil {
			t.Errorf("%s: ConstructEvent accepted the payload", name)
		}
	}
}

func TestSignedHeaderFormat(t *testing.T) {
	t.Parallel()
	ts := time.Unix(1700000000, 0)

	header := stripetest.SignedHeader([]byte(`{}`), webhookSecret, ts)

	want := regexp.MustCompile(fmt.Sprintf(`^t=%d,v1=[0-9a-f]{64}$`, ts.Unix()))
	if !want.MatchString(header) {
		t.Errorf("header = %q, want t=%d,v1=<64 hex digits>", header, ts.Unix())
	}
}
