package stripetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultDelay is how long FaultTimeout holds a response unless SetDelay
// changes it.
const DefaultDelay = 3 * time.Second

// Fault is a failure that Fake injects into a request. See FailNext.
type Fault int

const (
	// FaultServerError returns HTTP 500 api_error without creating or
	// storing anything.
	FaultServerError Fault = iota + 1

	// FaultTimeout creates and stores the object under the idempotency key,
	// then holds the response for the delay (DefaultDelay unless SetDelay
	// changed it), so a client with a shorter timeout gives up. The wait
	// ends early when the client disconnects or the test ends.
	FaultTimeout

	// FaultLostResponse creates and stores the object under the idempotency
	// key, then closes the connection without writing a response.
	//
	// NOTE: net/http replays a request that carries an Idempotency-Key header
	// when the server closes a reused keep-alive connection, so the client
	// sees this fault only when the request went out on a new connection.
	FaultLostResponse

	// FaultHold creates and stores the object under the idempotency key,
	// then holds the response until Release is called. The wait ends early
	// when the client disconnects or the fake closes. Held counts the
	// requests waiting.
	FaultHold
)

// Fake is a stateful stand-in for the Stripe API on 127.0.0.1, enough for
// stripeclient: POST /v1/payment_intents, GET /v1/payment_intents/{id} and
// POST /v1/refunds. It honours Idempotency-Key as Stripe does and injects
// the faults armed with FailNext. All methods are safe for concurrent use
// with each other and with requests in flight.
//
// Payment methods: pm_card_visa succeeds, pm_card_authenticationRequired
// ends in requires_action, pm_card_chargeDeclined gets HTTP 402 card_error
// with decline_code generic_decline, and any other id gets HTTP 400.
// Requests need a key starting with sk_test_, otherwise HTTP 401 echoes the
// key unmasked, which real Stripe does not do, so tests can check that
// callers redact it.
type Fake struct {
	// URL is the base URL, for example "http://127.0.0.1:40123".
	URL string

	done      chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	delay    time.Duration
	release  chan struct{}
	held     int
	nextID   int
	intents  map[string]*fakeIntent
	refunds  map[string]*fakeRefund
	stored   map[string]storedResponse
	faults   []armedFault
	requests map[string]int
}

// storedResponse is the response saved under an idempotency key, with the
// request it was returned for, so that a replay can be checked against it.
type storedResponse struct {
	path   string
	form   string
	status int
	body   []byte
}

type armedFault struct {
	pathPrefix string
	fault      Fault
	remaining  int
}

// NewFake starts a Fake that t.Cleanup shuts down. Pending FaultTimeout
// delays and FaultHold holds end before the server closes.
func NewFake(t testing.TB) *Fake {
	t.Helper()

	f := NewHandler()
	srv := httptest.NewServer(f)
	f.URL = srv.URL

	// Cleanups run last-in first-out: end the delays, then close the server.
	t.Cleanup(srv.Close)
	t.Cleanup(f.Close)

	return f
}

// NewHandler returns a Fake that serves no address of its own, for a
// program that serves it with its own http.Server. URL stays empty. Call
// Close before shutting the server down, so that pending delays and holds
// end.
func NewHandler() *Fake {
	return &Fake{
		done:     make(chan struct{}),
		delay:    DefaultDelay,
		release:  make(chan struct{}),
		intents:  make(map[string]*fakeIntent),
		refunds:  make(map[string]*fakeRefund),
		stored:   make(map[string]storedResponse),
		requests: make(map[string]int),
	}
}

// ServeHTTP serves the Stripe API routes of the Fake.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.serveHTTP(w, r)
}

// Close ends every pending FaultTimeout delay and FaultHold hold. Later
// faults of those kinds respond at once. Close may be called more than once.
func (f *Fake) Close() {
	f.closeOnce.Do(func() { close(f.done) })
}

// Held returns how many responses FaultHold is holding now.
func (f *Fake) Held() int {
	f.mu.Lock()
	defer f.mu.Unlock()

	return f.held
}

// Release lets every response held by FaultHold go. Requests held after
// the call wait for the next Release.
func (f *Fake) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()

	close(f.release)
	f.release = make(chan struct{})
}

// SetDelay sets how long FaultTimeout holds a response. It affects requests
// that arrive after the call.
func (f *Fake) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.delay = d
}

// FailNext applies fault to the next n requests whose path starts with
// pathPrefix, for example "/v1/payment_intents" or "/v1/refunds". Faults
// armed earlier are used up first.
func (f *Fake) FailNext(pathPrefix string, fault Fault, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.faults = append(f.faults, armedFault{pathPrefix: pathPrefix, fault: fault, remaining: n})
}

// PaymentIntentCount returns how many distinct PaymentIntents were created.
// Idempotent replays and declined cards create none.
func (f *Fake) PaymentIntentCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()

	return len(f.intents)
}

// RefundCount returns how many distinct refunds were created.
func (f *Fake) RefundCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()

	return len(f.refunds)
}

// Requests returns how many requests, replays and faulted ones included,
// arrived on paths that start with pathPrefix.
func (f *Fake) Requests(pathPrefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()

	total := 0
	for path, n := range f.requests {
		if strings.HasPrefix(path, pathPrefix) {
			total += n
		}
	}

	return total
}

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	fault, delay, release := f.admit(r.URL.Path)

	if fault == FaultServerError {
		writeRaw(w, http.StatusInternalServerError, errorBody("api_error", "", "", "An unknown error occurred"))
		return
	}

	status, body := f.respond(r)

	switch fault {
	case FaultTimeout:
		f.wait(r, delay)
	case FaultHold:
		f.hold(r, release)
	case FaultLostResponse:
		closeWithoutResponse(w)
		return
	}

	writeRaw(w, status, body)
}

// admit counts the request and takes the next fault armed for its path. It
// also returns the delay of FaultTimeout and the channel that ends the
// current holds of FaultHold.
func (f *Fake) admit(path string) (Fault, time.Duration, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.requests[path]++

	for i := range f.faults {
		armed := &f.faults[i]
		if armed.remaining > 0 && strings.HasPrefix(path, armed.pathPrefix) {
			armed.remaining--
			return armed.fault, f.delay, f.release
		}
	}

	return 0, f.delay, f.release
}

// hold blocks until release is closed, the client disconnects or the fake
// closes, counting itself in Held meanwhile.
func (f *Fake) hold(r *http.Request, release <-chan struct{}) {
	f.mu.Lock()
	f.held++
	f.mu.Unlock()

	defer func() {
		f.mu.Lock()
		f.held--
		f.mu.Unlock()
	}()

	select {
	case <-release:
	case <-r.Context().Done():
	case <-f.done:
	}
}

// wait blocks for delay, or less when the client disconnects or the test ends.
func (f *Fake) wait(r *http.Request, delay time.Duration) {
	timer := time.NewTimer(delay)
	defer timer.Stop()

	select {
	case <-timer.C:
	case <-r.Context().Done():
	case <-f.done:
	}
}

// respond authenticates r, applies Stripe's idempotency rules and routes it.
func (f *Fake) respond(r *http.Request) (int, []byte) {
	if status, body, ok := authenticate(r); !ok {
		return status, body
	}

	if err := r.ParseForm(); err != nil {
		return http.StatusBadRequest, errorBody("invalid_request_error", "", "", "Invalid request body: "+err.Error())
	}

	key := r.Header.Get("Idempotency-Key")
	if r.Method != http.MethodPost || key == "" {
		f.mu.Lock()
		defer f.mu.Unlock()

		return f.route(r)
	}

	return f.respondIdempotent(r, key)
}

// respondIdempotent replays the response stored under key, or routes r and
// stores its response. The lock is held throughout, so concurrent requests
// with one key create at most one object.
func (f *Fake) respondIdempotent(r *http.Request, key string) (int, []byte) {
	form := r.PostForm.Encode()

	f.mu.Lock()
	defer f.mu.Unlock()

	if prev, ok := f.stored[key]; ok {
		if prev.path != r.URL.Path || prev.form != form {
			return http.StatusBadRequest, errorBody("idempotency_error", "", "",
				"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '"+key+"' if you meant to execute a different request.")
		}

		return prev.status, prev.body
	}

	status, body := f.route(r)

	// Stripe saves a result once the endpoint has run: successes and card
	// declines. Rejected parameters are not saved.
	if status < 300 || status == http.StatusPaymentRequired {
		f.stored[key] = storedResponse{path: r.URL.Path, form: form, status: status, body: body}
	}

	return status, body
}

// route dispatches r to its endpoint. The caller holds f.mu.
func (f *Fake) route(r *http.Request) (int, []byte) {
	path := r.URL.Path

	switch {
	case r.Method == http.MethodPost && path == "/v1/payment_intents":
		return f.createIntent(r.PostForm)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v1/payment_intents/"):
		return f.getIntent(strings.TrimPrefix(path, "/v1/payment_intents/"))
	case r.Method == http.MethodPost && path == "/v1/refunds":
		return f.createRefund(r.PostForm)
	default:
		return http.StatusNotFound, errorBody("invalid_request_error", "", "",
			"Unrecognized request URL ("+r.Method+": "+path+").")
	}
}

// authenticate accepts a Bearer key that starts with sk_test_.
func authenticate(r *http.Request) (int, []byte, bool) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && strings.HasPrefix(key, "sk_test_") {
		return 0, nil, true
	}

	return http.StatusUnauthorized, errorBody("invalid_request_error", "", "", "Invalid API Key provided: "+key), false
}

// newID returns a fresh object id with the given prefix. The caller holds f.mu.
func (f *Fake) newID(prefix string) string {
	f.nextID++
	return prefix + "_fake" + strconv.Itoa(f.nextID)
}

// closeWithoutResponse hijacks the connection and closes it unanswered.
func closeWithoutResponse(w http.ResponseWriter) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		panic("stripetest: response writer does not support hijacking")
	}

	conn, _, err := hijacker.Hijack()
	if err != nil {
		panic("stripetest: hijack connection: " + err.Error())
	}
	_ = conn.Close()
}

// errorBody returns a Stripe error object {"error": {...}}.
func errorBody(errType, code, param, message string) []byte {
	e := map[string]any{"type": errType, "message": message}
	if code != "" {
		e["code"] = code
	}
	if param != "" {
		e["param"] = param
	}

	return mustJSON(map[string]any{"error": e})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("stripetest: encode JSON: " + err.Error())
	}

	return b
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_fake")
	w.WriteHeader(status)
	_, _ = w.Write(body) // #nosec G705 -- a JSON body for a test's Stripe client, not HTML for a browser
}
