// Package stripeclient creates card PaymentIntents and refunds through the
// Stripe API (stripe-go v76, API version 2023-10-16) and sorts every failure
// into declined, transient or permanent.
//
// Every request carries the caller's idempotency key. A transient failure
// leaves the outcome unknown, so the caller retries with the same key and
// Stripe returns the object that the first attempt may have created.
package stripeclient

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/paymentintent"
	"github.com/stripe/stripe-go/v76/refund"
)

// DefaultTimeout is the HTTP timeout of a Client whose Config has no
// HTTPClient. It bounds one attempt: connect, send and read the response.
const DefaultTimeout = 10 * time.Second

// Config configures a Client. The zero value of each optional field selects
// the default named on it.
type Config struct {
	// APIKey is the Stripe secret key (sk_test_... or sk_live_...). It is
	// sent only in the Authorization header and removed from every error.
	APIKey string

	// BaseURL is the API origin, for example "http://127.0.0.1:12111" for
	// stripe-mock. Empty selects https://api.stripe.com.
	BaseURL string

	// HTTPClient sends the requests, and its Timeout bounds each attempt.
	// Nil selects a client with DefaultTimeout. The Client wraps its
	// Transport and never modifies the value passed in.
	HTTPClient *http.Client

	// MaxNetworkRetries is how many times stripe-go itself retries a failed
	// request with the same idempotency key. The default 0 leaves retries to
	// the caller.
	MaxNetworkRetries int64
}

// Client calls the Stripe API with one key and one base URL. It keeps no
// global stripe-go state, so clients for different servers can run side by
// side. A Client is safe for concurrent use.
type Client struct {
	apiKey        string
	configErr     error
	paymentIntent paymentintent.Client
	refund        refund.Client
}

// New returns a Client for cfg. An invalid BaseURL does not panic: every call
// on the returned Client fails with a permanent error that names it.
func New(cfg Config) *Client {
	c := &Client{apiKey: cfg.APIKey}

	baseURL := stripe.APIURL
	if cfg.BaseURL != "" {
		baseURL = cfg.BaseURL
	}

	if err := validateBaseURL(baseURL); err != nil {
		c.configErr = err
		return c
	}

	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		EnableTelemetry:   stripe.Bool(false),
		HTTPClient:        withStatusRecorder(cfg.HTTPClient),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		MaxNetworkRetries: stripe.Int64(cfg.MaxNetworkRetries),
		URL:               stripe.String(baseURL),
	})

	c.paymentIntent = paymentintent.Client{B: backend, Key: cfg.APIKey}
	c.refund = refund.Client{B: backend, Key: cfg.APIKey}

	return c
}

func validateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("stripeclient: invalid base URL: %w", err)
	}

	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("stripeclient: invalid base URL %q: want http(s)://host[:port]", raw)
	}

	return nil
}

// withStatusRecorder returns a copy of base whose Transport records the HTTP
// status of each attempt, so errors can be classified even when the response
// body is not a Stripe error object.
func withStatusRecorder(base *http.Client) *http.Client {
	if base == nil {
		base = &http.Client{Timeout: DefaultTimeout}
	}

	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}

	wrapped := *base
	wrapped.Transport = statusRecorder{next: next}

	return &wrapped
}
