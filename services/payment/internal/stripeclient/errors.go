package stripeclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/stripe/stripe-go/v76"
)

// ErrCardDeclined marks a Stripe card_error (HTTP 402). The error message
// names the decline code. Retrying with the same idempotency key returns the
// same decline, so the caller must not retry.
var ErrCardDeclined = errors.New("stripeclient: card declined")

// ErrTransient marks a failure whose outcome is unknown or temporary:
// timeouts, connection errors, lost responses, HTTP 5xx, 429 and 409 (a
// request with the same idempotency key still in flight). It is safe to
// retry only with the same idempotency key. Errors that wrap neither
// ErrTransient nor ErrCardDeclined are permanent.
var ErrTransient = errors.New("stripeclient: transient failure")

// redactedKey replaces the API key wherever it would appear in an error message.
const redactedKey = "[redacted API key]"

// callError is a classified failure. Its message is built once, with the API
// key removed, and it unwraps to the class sentinel and to the cause.
type callError struct {
	msg  string
	errs []error
}

func (e *callError) Error() string { return e.msg }

func (e *callError) Unwrap() []error { return e.errs }

// attemptKey is the context key of the *attempt that statusRecorder fills in.
type attemptKey struct{}

// attempt records what happened on the wire during one call, as seen by the
// Transport. With stripe-go retries enabled it describes the last try.
type attempt struct {
	sent   atomic.Bool
	status atomic.Int32
}

// statusRecorder is an http.RoundTripper that records, in the request
// context's *attempt, that a request was sent and which status came back.
type statusRecorder struct {
	next http.RoundTripper
}

func (r statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	a, _ := req.Context().Value(attemptKey{}).(*attempt)
	if a != nil {
		a.sent.Store(true)
		a.status.Store(0)
	}

	resp, err := r.next.RoundTrip(req)
	if a != nil && resp != nil {
		a.status.Store(int32(resp.StatusCode)) // #nosec G115 -- net/http reads a status code of exactly three digits
	}

	return resp, err
}

// classify wraps err from stripe-go for the operation op, so that errors.Is
// reports ErrCardDeclined, ErrTransient or neither (permanent).
func (c *Client) classify(op string, err error, a *attempt) error {
	var stripeErr *stripe.Error
	if errors.As(err, &stripeErr) {
		return c.classifyStripeError(op, stripeErr)
	}

	status := int(a.status.Load())
	switch {
	case status != 0 && (status < 400 || isTransientStatus(status)):
		// A 2xx or 3xx body that failed to decode, or a 5xx page from a proxy.
		return c.newError(ErrTransient, err, "stripeclient: %s: transient failure: HTTP %d: %v", op, status, err)
	case status != 0:
		return c.newError(nil, err, "stripeclient: %s: HTTP %d: %v", op, status, err)
	case a.sent.Load():
		// No response: timeout, cancellation, refused or closed connection.
		return c.newError(ErrTransient, err, "stripeclient: %s: transient failure: %v", op, err)
	default:
		// The request was never sent, for example an idempotency key over 255 characters.
		return c.newError(nil, err, "stripeclient: %s: %v", op, err)
	}
}

func (c *Client) classifyStripeError(op string, e *stripe.Error) error {
	detail := describe(e)

	if e.Type == stripe.ErrorTypeCard || e.HTTPStatusCode == http.StatusPaymentRequired {
		code := string(e.DeclineCode)
		if code == "" {
			code = string(e.Code)
		}

		return c.newError(ErrCardDeclined, e, "stripeclient: %s: card declined: decline code %q: %s", op, code, detail)
	}

	if isTransientStatus(e.HTTPStatusCode) {
		return c.newError(ErrTransient, e, "stripeclient: %s: transient failure: %s", op, detail)
	}

	return c.newError(nil, e, "stripeclient: %s: %s", op, detail)
}

// describe formats a Stripe error on one line, without stripe-go's JSON dump.
func describe(e *stripe.Error) string {
	var b strings.Builder

	fmt.Fprintf(&b, "HTTP %d %s", e.HTTPStatusCode, e.Type)
	if e.Code != "" {
		fmt.Fprintf(&b, " code %s", e.Code)
	}
	if e.Param != "" {
		fmt.Fprintf(&b, " param %s", e.Param)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " request %s", e.RequestID)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)

	return b.String()
}

func isTransientStatus(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusConflict
}

// newError builds a callError that unwraps to class (nil for permanent) and
// cause, with the API key removed from its message.
func (c *Client) newError(class, cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if c.apiKey != "" {
		msg = strings.ReplaceAll(msg, c.apiKey, redactedKey)
	}

	errs := []error{cause}
	if class != nil {
		errs = []error{class, cause}
	}

	return &callError{msg: msg, errs: errs}
}

// withAttempt returns ctx carrying a fresh *attempt for statusRecorder.
func withAttempt(ctx context.Context) (context.Context, *attempt) {
	a := &attempt{}
	return context.WithValue(ctx, attemptKey{}, a), a
}
