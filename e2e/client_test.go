package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
)

// tokenTTL is the lifetime of the tokens the tests issue.
const tokenTTL = 10 * time.Minute

// Field names of the REST resources, in the order the proto declares them.
var (
	walletFields      = []string{"id", "owner_id", "currency", "balance", "available_balance", "created_at"}
	transactionFields = []string{"id", "type", "amount", "currency", "status", "wallet_id", "counterparty_wallet_id",
		"balance_after", "idempotency_key", "description", "created_at", "direction", "hold_id", "reverses_transaction_id"}
)

// walletJSON is a Wallet resource. Amounts are strings, as the proto3 JSON
// mapping writes int64 values, so a number in the body fails decoding.
type walletJSON struct {
	ID               string `json:"id"`
	OwnerID          string `json:"owner_id"`
	Currency         string `json:"currency"`
	Balance          string `json:"balance"`
	AvailableBalance string `json:"available_balance"`
	CreatedAt        string `json:"created_at"`
}

type walletListJSON struct {
	Wallets []walletJSON `json:"wallets"`
}

// transactionJSON is a Transaction resource, amounts again as strings.
type transactionJSON struct {
	ID                   string `json:"id"`
	Type                 string `json:"type"`
	Amount               string `json:"amount"`
	Currency             string `json:"currency"`
	Status               string `json:"status"`
	WalletID             string `json:"wallet_id"`
	CounterpartyWalletID string `json:"counterparty_wallet_id"`
	BalanceAfter         string `json:"balance_after"`
	IdempotencyKey       string `json:"idempotency_key"`
	Description          string `json:"description"`
	CreatedAt            string `json:"created_at"`
	Direction            string `json:"direction"`
	HoldID               string `json:"hold_id"`
	ReversesTransaction  string `json:"reverses_transaction_id"`
}

type transactionPageJSON struct {
	Transactions  []transactionJSON `json:"transactions"`
	NextPageToken string            `json:"next_page_token"`
}

// problemJSON is the gateway's application/problem+json error body.
type problemJSON struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// describe returns the status and body for failure messages.
func (r response) describe() string {
	described := http.StatusText(r.status) + " (" + r.header.Get("Content-Type") + "): " + strings.TrimSpace(string(r.body))
	if policy := r.header.Get("RateLimit-Policy"); policy != "" {
		described += " [RateLimit-Policy: " + policy + "; RateLimit: " + r.header.Get("RateLimit") + "]"
	}
	return described
}

// call is one REST request. An empty token sends no Authorization header,
// and an empty idempotencyKey sends no Idempotency-Key header.
type call struct {
	method         string
	path           string
	token          string
	idempotencyKey string
	body           string
}

// send performs c against the gateway and reads the whole response.
func (s *stack) send(t *testing.T, c call) response {
	t.Helper()

	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, s.baseURL+c.path, body)
	if err != nil {
		t.Fatalf("build request %s %s: %v", c.method, c.path, err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", c.idempotencyKey)
	}

	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", c.method, c.path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// token issues a token for subject, signed with the stack's secret.
func (s *stack) token(t *testing.T, subject string, roles ...string) string {
	t.Helper()
	token, err := s.signer.Issue(subject, roles, tokenTTL, time.Now(), nil)
	if err != nil {
		t.Fatalf("issue token for %s: %v", subject, err)
	}
	return token
}

// serviceToken issues a token with the service role.
func (s *stack) serviceToken(t *testing.T) string {
	t.Helper()
	return s.token(t, "billing", auth.RoleService)
}

func issueToken(t *testing.T, settings auth.Settings, subject string, roles []string, issuedAt time.Time) string {
	t.Helper()

	token, err := auth.Issue(settings, subject, roles, tokenTTL, issuedAt)
	if err != nil {
		t.Fatalf("issue token for %s: %v", subject, err)
	}
	return token
}

// createWallet creates or returns the caller's wallet in currency.
func (s *stack) createWallet(t *testing.T, token, currency string) walletJSON {
	t.Helper()

	resp := s.send(t, call{method: http.MethodPost, path: "/v1/wallets", token: token, body: `{"currency":"` + currency + `"}`})
	return decodeOK[walletJSON](t, resp, "create "+currency+" wallet")
}

// wallet returns GET /v1/wallets/{id}.
func (s *stack) wallet(t *testing.T, token, id string) walletJSON {
	t.Helper()

	resp := s.send(t, call{method: http.MethodGet, path: "/v1/wallets/" + id, token: token})
	return decodeOK[walletJSON](t, resp, "get wallet "+id)
}

// allTransactions returns every transaction of a wallet from one page of
// the maximum size. It fails t if the wallet has more than fit in a page.
func (s *stack) allTransactions(t *testing.T, token, walletID string) []transactionJSON {
	t.Helper()

	resp := s.send(t, call{method: http.MethodGet, path: "/v1/wallets/" + walletID + "/transactions?page_size=100", token: token})
	page := decodeOK[transactionPageJSON](t, resp, "list transactions of "+walletID)
	if page.NextPageToken != "" {
		t.Fatalf("wallet %s has more than 100 transactions, but the tests write only a few", walletID)
	}
	return page.Transactions
}

// moveMoney posts body to path with an idempotency key and decodes the
// transaction.
func (s *stack) moveMoney(t *testing.T, token, key, path, body string) (transactionJSON, response) {
	t.Helper()

	resp := s.send(t, call{method: http.MethodPost, path: path, token: token, idempotencyKey: key, body: body})
	return decodeOK[transactionJSON](t, resp, "POST "+path), resp
}

// decodeOK fails t unless resp is 200 with a JSON body that decodes into T
// without unknown fields.
func decodeOK[T any](t *testing.T, resp response, step string) T {
	t.Helper()

	var v T
	if resp.status != http.StatusOK {
		t.Fatalf("%s: status %d, want 200; %s", step, resp.status, resp.describe())
	}
	if got := resp.header.Get("Content-Type"); got != "application/json" {
		t.Fatalf("%s: Content-Type %q, want application/json; %s", step, got, resp.describe())
	}

	decoder := json.NewDecoder(bytes.NewReader(resp.body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&v); err != nil {
		t.Fatalf("%s: decode %T: %v; body %s", step, v, err, resp.body)
	}
	return v
}

// expectFields fails t unless the JSON object in body has exactly the keys
// want, so a field dropped from the response is caught as well as an extra.
func expectFields(t *testing.T, body []byte, want []string) {
	t.Helper()

	var object map[string]json.RawMessage
	if err := json.Unmarshal(body, &object); err != nil {
		t.Fatalf("decode JSON object: %v; body %s", err, body)
	}
	got := make([]string, 0, len(object))
	for key := range object {
		got = append(got, key)
	}
	slices.Sort(got)
	sorted := slices.Sorted(slices.Values(want))
	if !slices.Equal(got, sorted) {
		t.Errorf("fields %v, want %v; body %s", got, sorted, body)
	}
}

// expectProblem checks that resp is a problem+json error with the given
// HTTP status and code whose request_id matches the X-Request-Id header.
func expectProblem(t *testing.T, resp response, status int, code string) {
	t.Helper()

	if resp.status != status {
		t.Errorf("status %d, want %d; %s", resp.status, status, resp.describe())
		return
	}
	if got := resp.header.Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json; %s", got, resp.describe())
		return
	}

	var problem problemJSON
	decoder := json.NewDecoder(bytes.NewReader(resp.body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&problem); err != nil {
		t.Errorf("decode problem: %v; body %s", err, resp.body)
		return
	}

	if problem.Code != code {
		t.Errorf("code %q, want %q; body %s", problem.Code, code, resp.body)
	}
	if problem.Status != status {
		t.Errorf("status field %d, want %d; body %s", problem.Status, status, resp.body)
	}
	if want := http.StatusText(status); problem.Title != want {
		t.Errorf("title %q, want %q", problem.Title, want)
	}
	if problem.Type != "about:blank" {
		t.Errorf("type %q, want about:blank", problem.Type)
	}
	if problem.Detail == "" {
		t.Errorf("detail is empty; body %s", resp.body)
	}
	requestID := resp.header.Get("X-Request-Id")
	if requestID == "" {
		t.Errorf("X-Request-Id header is missing")
	}
	if problem.RequestID != requestID {
		t.Errorf("request_id %q, want the X-Request-Id header %q", problem.RequestID, requestID)
	}
}

// expectTimestamp fails t unless value is an RFC 3339 time.
func expectTimestamp(t *testing.T, field, value string) {
	t.Helper()

	if _, err := time.Parse(time.RFC3339Nano, value); err != nil {
		t.Errorf("%s %q is not an RFC 3339 timestamp: %v", field, value, err)
	}
}
