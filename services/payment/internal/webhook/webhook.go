// Package webhook verifies Stripe webhook deliveries and extracts what the
// payment service acts on.
package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/advancia-pay/ledger/services/payment/internal/payments"
)

// Tolerance is how far a delivery's timestamp may be from now, in either
// direction. stripe-go checks only the past, so the future is checked
// here.
const Tolerance = 5 * time.Minute

// ErrInvalid wraps every reason to reject a delivery with 400.
var ErrInvalid = errors.New("webhook: invalid delivery")

// Verify checks the signature header over the raw payload with the
// endpoint secret, rejects timestamps outside Tolerance, and returns the
// event.
func Verify(payload []byte, header, secret string, now time.Time) (payments.Event, error) {
	if header == "" {
		return payments.Event{}, fmt.Errorf("%w: the Stripe-Signature header is missing", ErrInvalid)
	}
	ts, err := timestamp(header)
	if err != nil {
		return payments.Event{}, err
	}
	if ts.After(now.Add(Tolerance)) {
		return payments.Event{}, fmt.Errorf("%w: timestamp %s is in the future", ErrInvalid, ts.Format(time.RFC3339))
	}
	ev, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{Tolerance: Tolerance})
	if err != nil {
		return payments.Event{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return extract(ev)
}

// timestamp reads t= from a Stripe-Signature header.
func timestamp(header string) (time.Time, error) {
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			unix, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				break
			}
			return time.Unix(unix, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: the Stripe-Signature header has no valid timestamp", ErrInvalid)
}

// extract picks the fields the service acts on from the event's object.
func extract(ev stripe.Event) (payments.Event, error) {
	out := payments.Event{ID: ev.ID, Type: string(ev.Type)}
	var obj struct {
		ID            string            `json:"id"`
		Object        string            `json:"object"`
		Status        string            `json:"status"`
		Amount        int64             `json:"amount"`
		PaymentIntent json.RawMessage   `json:"payment_intent"`
		Metadata      map[string]string `json:"metadata"`
		LastError     *struct {
			Code        string `json:"code"`
			DeclineCode string `json:"decline_code"`
		} `json:"last_payment_error"`
	}
	if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &obj) != nil {
		return payments.Event{}, fmt.Errorf("%w: event %s has no readable object", ErrInvalid, ev.ID)
	}

	switch obj.Object {
	case "payment_intent":
		out.PaymentIntentID, out.PaymentID = obj.ID, obj.Metadata["payment_id"]
		if obj.LastError != nil {
			out.DeclineCode = firstNonEmpty(obj.LastError.DeclineCode, obj.LastError.Code)
		}
	case "refund":
		out.StripeRefundID, out.RefundStatus = obj.ID, obj.Status
		out.PaymentIntentID = idOf(obj.PaymentIntent)
	case "charge":
		out.PaymentIntentID = idOf(obj.PaymentIntent)
	case "dispute":
		out.DisputeID, out.DisputeStatus, out.DisputeAmount = obj.ID, obj.Status, obj.Amount
		out.PaymentIntentID = idOf(obj.PaymentIntent)
	}
	return out, nil
}

// idOf reads an expandable field: an id string or an object with an id.
func idOf(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &obj)
	return obj.ID
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
