package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
)

// unknownID is a well-formed UUID that no wallet or transaction has in a
// fresh database.
const unknownID = "0190c6a4-0000-7000-8000-000000000000"

// TestWalletLifecycle walks two users through wallet creation, a credit, a
// debit with a replay, a transfer and paging. Each step depends on the
// balances of the ones before, so the first failed step ends the test.
func TestWalletLifecycle(t *testing.T) {
	t.Parallel()

	s := startStack(t)
	l := &lifecycle{
		s:       s,
		user1:   s.token(t, "user-1"),
		user2:   s.token(t, "user-2"),
		user3:   s.token(t, "user-3"),
		service: s.serviceToken(t),
	}

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"create wallet", l.createWallet},
		{"credit", l.credit},
		{"debit and replay", l.debit},
		{"transfer", l.transfer},
		{"paging", l.paging},
	}
	for _, step := range steps {
		if !t.Run(step.name, step.run) {
			return
		}
	}
}

// lifecycle is the state that the steps of TestWalletLifecycle pass on.
type lifecycle struct {
	s                            *stack
	user1, user2, user3, service string

	wallet1, wallet2               walletJSON
	credited, debited, transferred transactionJSON
}

func (l *lifecycle) createWallet(t *testing.T) {
	resp := l.s.send(t, call{method: http.MethodPost, path: "/v1/wallets", token: l.user1, body: `{"currency":"USD"}`})
	w := decodeOK[walletJSON](t, resp, "create USD wallet")
	expectFields(t, resp.body, walletFields)

	if len(w.ID) != 36 {
		t.Errorf("id %q, want a UUID", w.ID)
	}
	want := walletJSON{ID: w.ID, OwnerID: "user-1", Currency: "USD", Balance: "0", AvailableBalance: "0", CreatedAt: w.CreatedAt}
	if w != want {
		t.Errorf("wallet %+v, want %+v", w, want)
	}
	expectTimestamp(t, "created_at", w.CreatedAt)

	if again := l.s.createWallet(t, l.user1, "USD"); again != w {
		t.Errorf("second create returned %+v, want the existing wallet %+v", again, w)
	}

	resp = l.s.send(t, call{method: http.MethodGet, path: "/v1/wallets", token: l.user1})
	list := decodeOK[walletListJSON](t, resp, "list wallets")
	expectFields(t, resp.body, []string{"wallets"})
	if !slices.Equal(list.Wallets, []walletJSON{w}) {
		t.Errorf("wallets %+v, want only %+v", list.Wallets, w)
	}

	if got := l.s.wallet(t, l.user1, w.ID); got != w {
		t.Errorf("GET wallet returned %+v, want %+v", got, w)
	}

	l.wallet1 = w
}

func (l *lifecycle) credit(t *testing.T) {
	path := "/v1/wallets/" + l.wallet1.ID + "/credit"

	tx, resp := l.s.moveMoney(t, l.service, "credit-1", path, `{"amount":"100","description":"top up"}`)
	expectFields(t, resp.body, transactionFields)
	want := transactionJSON{
		ID: tx.ID, Type: "credit", Amount: "100", Currency: "USD", Status: "posted",
		WalletID: l.wallet1.ID, BalanceAfter: "100", IdempotencyKey: "credit-1",
		Description: "top up", CreatedAt: tx.CreatedAt, Direction: "in",
	}
	if tx != want {
		t.Errorf("credit %+v, want %+v", tx, want)
	}
	if len(tx.ID) != 36 {
		t.Errorf("transaction id %q, want a UUID", tx.ID)
	}
	expectTimestamp(t, "created_at", tx.CreatedAt)
	if got := resp.header.Get("Idempotent-Replayed"); got != "" {
		t.Errorf("Idempotent-Replayed %q on a first request, want no header", got)
	}

	denied := l.s.send(t, call{method: http.MethodPost, path: path, token: l.user1, idempotencyKey: "credit-by-user", body: `{"amount":"100"}`})
	expectProblem(t, denied, http.StatusForbidden, "permission_denied")

	if got := l.s.wallet(t, l.user1, l.wallet1.ID).Balance; got != "100" {
		t.Errorf("balance %q after the credit, want \"100\"", got)
	}

	l.credited = tx
}

func (l *lifecycle) debit(t *testing.T) {
	path := "/v1/wallets/" + l.wallet1.ID + "/debit"
	body := `{"amount":"60","description":"card payment"}`

	tx, resp := l.s.moveMoney(t, l.user1, "debit-1", path, body)
	want := transactionJSON{
		ID: tx.ID, Type: "debit", Amount: "60", Currency: "USD", Status: "posted",
		WalletID: l.wallet1.ID, BalanceAfter: "40", IdempotencyKey: "debit-1",
		Description: "card payment", CreatedAt: tx.CreatedAt, Direction: "out",
	}
	if tx != want {
		t.Errorf("debit %+v, want %+v", tx, want)
	}
	if got := resp.header.Get("Idempotent-Replayed"); got != "" {
		t.Errorf("Idempotent-Replayed %q on a first request, want no header", got)
	}

	replay, resp := l.s.moveMoney(t, l.user1, "debit-1", path, body)
	if replay != tx {
		t.Errorf("replayed debit %+v, want the original %+v", replay, tx)
	}
	if got := resp.header.Get("Idempotent-Replayed"); got != "true" {
		t.Errorf("Idempotent-Replayed %q on a replay, want \"true\"", got)
	}

	over := l.s.send(t, call{method: http.MethodPost, path: path, token: l.user1, idempotencyKey: "debit-2", body: body})
	expectProblem(t, over, http.StatusUnprocessableEntity, "insufficient_funds")

	w := l.s.wallet(t, l.user1, l.wallet1.ID)
	if w.Balance != "40" {
		t.Errorf("balance %q after the debit, want \"40\"", w.Balance)
	}
	if w.AvailableBalance != "40" {
		t.Errorf("available_balance %q after the debit, want \"40\"", w.AvailableBalance)
	}

	l.debited = tx
}

func (l *lifecycle) transfer(t *testing.T) {
	l.wallet2 = l.s.createWallet(t, l.user2, "USD")
	if l.wallet2.OwnerID != "user-2" || l.wallet2.ID == l.wallet1.ID {
		t.Fatalf("user-2 wallet %+v, want a new wallet owned by user-2", l.wallet2)
	}

	body := `{"from_wallet_id":"` + l.wallet1.ID + `","to_wallet_id":"` + l.wallet2.ID + `","amount":"15","description":"rent share"}`
	tx, _ := l.s.moveMoney(t, l.user1, "transfer-1", "/v1/transfers", body)
	want := transactionJSON{
		ID: tx.ID, Type: "transfer", Amount: "15", Currency: "USD", Status: "posted",
		WalletID: l.wallet1.ID, CounterpartyWalletID: l.wallet2.ID, BalanceAfter: "25",
		IdempotencyKey: "transfer-1", Description: "rent share", CreatedAt: tx.CreatedAt, Direction: "out",
	}
	if tx != want {
		t.Errorf("transfer %+v, want %+v", tx, want)
	}

	if got := l.s.wallet(t, l.user1, l.wallet1.ID).Balance; got != "25" {
		t.Errorf("user-1 balance %q after the transfer, want \"25\"", got)
	}
	if got := l.s.wallet(t, l.user2, l.wallet2.ID).Balance; got != "15" {
		t.Errorf("user-2 balance %q after the transfer, want \"15\"", got)
	}

	// The receiving wallet's view has direction "in" and no idempotency
	// key, because the key belongs to the sender's request.
	incoming := transactionJSON{
		ID: tx.ID, Type: "transfer", Amount: "15", Currency: "USD", Status: "posted",
		WalletID: l.wallet2.ID, CounterpartyWalletID: l.wallet1.ID, BalanceAfter: "15",
		Description: "rent share", CreatedAt: tx.CreatedAt, Direction: "in",
	}
	resp := l.s.send(t, call{method: http.MethodGet, path: "/v1/wallets/" + l.wallet2.ID + "/transactions", token: l.user2})
	page := decodeOK[transactionPageJSON](t, resp, "list user-2 transactions")
	expectFields(t, resp.body, []string{"transactions", "next_page_token"})
	if !slices.Equal(page.Transactions, []transactionJSON{incoming}) {
		t.Errorf("user-2 transactions %+v, want only %+v", page.Transactions, incoming)
	}
	if page.NextPageToken != "" {
		t.Errorf("next_page_token %q on the only page, want empty", page.NextPageToken)
	}

	l.expectTransaction(t, l.user1, tx)
	l.expectTransaction(t, l.user2, incoming)
	denied := l.s.send(t, call{method: http.MethodGet, path: "/v1/transactions/" + tx.ID, token: l.user3})
	expectProblem(t, denied, http.StatusForbidden, "permission_denied")

	l.transferred = tx
}

// expectTransaction checks GET /v1/transactions/{id} as the given caller.
func (l *lifecycle) expectTransaction(t *testing.T, token string, want transactionJSON) {
	t.Helper()

	resp := l.s.send(t, call{method: http.MethodGet, path: "/v1/transactions/" + want.ID, token: token})
	if got := decodeOK[transactionJSON](t, resp, "get transaction "+want.ID); got != want {
		t.Errorf("GET transaction returned %+v, want %+v", got, want)
	}
}

func (l *lifecycle) paging(t *testing.T) {
	const maxPages = 10

	var (
		got   []transactionJSON
		sizes []int
		token string
	)
	for range maxPages {
		query := url.Values{"page_size": {"2"}}
		if token != "" {
			query.Set("page_token", token)
		}
		resp := l.s.send(t, call{method: http.MethodGet, path: "/v1/wallets/" + l.wallet1.ID + "/transactions?" + query.Encode(), token: l.user1})
		page := decodeOK[transactionPageJSON](t, resp, "list transactions page "+query.Encode())

		got = append(got, page.Transactions...)
		sizes = append(sizes, len(page.Transactions))
		token = page.NextPageToken
		if token == "" {
			break
		}
	}
	if token != "" {
		t.Fatalf("next_page_token still set after %d pages of 2; pages so far %v", maxPages, sizes)
	}

	if !slices.Equal(sizes, []int{2, 1}) {
		t.Errorf("page sizes %v, want [2 1]", sizes)
	}
	want := []transactionJSON{l.transferred, l.debited, l.credited}
	if !slices.Equal(got, want) {
		t.Errorf("transactions newest first:\n got %+v\nwant %+v", got, want)
	}

	base := "/v1/wallets/" + l.wallet1.ID + "/transactions"
	tooLarge := l.s.send(t, call{method: http.MethodGet, path: base + "?page_size=101", token: l.user1})
	expectProblem(t, tooLarge, http.StatusBadRequest, "invalid_request")

	garbage := l.s.send(t, call{method: http.MethodGet, path: base + "?page_token=garbage", token: l.user1})
	expectProblem(t, garbage, http.StatusBadRequest, "invalid_request")
}

// TestRejectedRequests sends invalid, unauthorized and unauthenticated
// requests and checks each error, then that none of them changed a balance
// or wrote a transaction.
func TestRejectedRequests(t *testing.T) {
	t.Parallel()

	s := startStack(t)
	user1, user2, service := s.token(t, "user-1"), s.token(t, "user-2"), s.serviceToken(t)

	wallet1 := s.createWallet(t, user1, "USD")
	s.moveMoney(t, service, "seed", "/v1/wallets/"+wallet1.ID+"/credit", `{"amount":"100"}`)
	wallet2 := s.createWallet(t, user2, "USD")
	euro := s.createWallet(t, user2, "EUR")

	before := s.wallet(t, user1, wallet1.ID)
	beforeTransactions := s.allTransactions(t, user1, wallet1.ID)
	if before.Balance != "100" || len(beforeTransactions) != 1 {
		t.Fatalf("seeded wallet has balance %q and %d transactions, want \"100\" and 1", before.Balance, len(beforeTransactions))
	}

	otherSecret := auth.Settings{Secret: randomSecret(t), Issuer: jwtIssuer, Audience: jwtAudience}
	forged := issueToken(t, otherSecret, "user-1", nil, time.Now())
	expired, err := s.signer.Issue("user-1", nil, time.Minute, time.Now().Add(-time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}

	debit := "/v1/wallets/" + wallet1.ID + "/debit"
	transfer := func(to, amount string) string {
		return `{"from_wallet_id":"` + wallet1.ID + `","to_wallet_id":"` + to + `","amount":` + amount + `}`
	}
	post := func(token, key, path, body string) call {
		return call{method: http.MethodPost, path: path, token: token, idempotencyKey: key, body: body}
	}
	get := func(token, path string) call {
		return call{method: http.MethodGet, path: path, token: token}
	}

	cases := []struct {
		name   string
		call   call
		status int
		code   string
	}{
		{"zero amount", post(user1, "zero", debit, `{"amount":"0"}`), 400, "invalid_request"},
		{"negative amount", post(user1, "negative", debit, `{"amount":"-5"}`), 400, "invalid_request"},
		{"fractional amount string", post(user1, "fraction-string", debit, `{"amount":"6.5"}`), 400, "invalid_request"},
		{"non-numeric amount", post(user1, "letters", debit, `{"amount":"abc"}`), 400, "invalid_request"},
		{"fractional amount number", post(user1, "fraction-number", debit, `{"amount":6.5}`), 400, "invalid_request"},
		{"amount with a decimal point", post(user1, "point-zero", debit, `{"amount":"6.0"}`), 400, "invalid_request"},
		{"amount in exponent form", post(user1, "exponent", debit, `{"amount":"1e2"}`), 400, "invalid_request"},
		{"amount as number with exponent", post(user1, "exponent-number", debit, `{"amount":1e1}`), 400, "invalid_request"},
		{"idempotency key not ASCII", post(user1, "clé-1", debit, `{"amount":"10"}`), 400, "invalid_request"},
		{"amount overflows int64", post(user1, "overflow", debit, `{"amount":"9223372036854775808"}`), 400, "invalid_request"},
		{"missing idempotency key", post(user1, "", debit, `{"amount":"10"}`), 400, "idempotency_key_missing"},
		{"idempotency key of 256 characters", post(user1, strings.Repeat("k", 256), debit, `{"amount":"10"}`), 400, "invalid_request"},
		{"unknown currency", post(user1, "", "/v1/wallets", `{"currency":"ZZZ"}`), 400, "invalid_request"},
		{"malformed wallet id", get(user1, "/v1/wallets/not-a-uuid"), 400, "invalid_request"},
		{"transfer to the same wallet", post(user1, "self", "/v1/transfers", transfer(wallet1.ID, `"10"`)), 400, "invalid_request"},
		{"transfer to another currency", post(user1, "to-euro", "/v1/transfers", transfer(euro.ID, `"10"`)), 422, "currency_mismatch"},
		{"transfer to unknown wallet", post(user1, "to-unknown", "/v1/transfers", transfer(unknownID, `"10"`)), 404, "not_found"},
		{"debit unknown wallet", post(user1, "unknown", "/v1/wallets/"+unknownID+"/debit", `{"amount":"10"}`), 404, "not_found"},
		{"get unknown wallet", get(user1, "/v1/wallets/"+unknownID), 404, "not_found"},
		{"get unknown transaction", get(user1, "/v1/transactions/"+unknownID), 404, "not_found"},
		{"debit another owner's wallet", post(user2, "not-mine", debit, `{"amount":"10"}`), 403, "permission_denied"},
		{"get another owner's wallet", get(user2, "/v1/wallets/"+wallet1.ID), 403, "permission_denied"},
		{"no token", get("", "/v1/wallets"), 401, "unauthenticated"},
		{"no token on a debit", post("", "anonymous", debit, `{"amount":"10"}`), 401, "unauthenticated"},
		{"token signed with another secret", get(forged, "/v1/wallets"), 401, "unauthenticated"},
		{"expired token", get(expired, "/v1/wallets"), 401, "unauthenticated"},
		{"unknown path under v1", get(user1, "/v1/unknown"), 404, "not_found"},
		{"unknown path", get("", "/unknown"), 404, "not_found"},
		{"idempotency key reused", post(service, "seed", "/v1/wallets/"+wallet1.ID+"/credit", `{"amount":"50"}`), 422, "idempotency_key_reused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.send(t, tc.call)
			expectProblem(t, resp, tc.status, tc.code)

			if tc.status == http.StatusUnauthorized {
				if got, want := resp.header.Get("WWW-Authenticate"), `Bearer realm="advancia-ledger"`; got != want {
					t.Errorf("WWW-Authenticate %q, want %q", got, want)
				}
			}
		})
	}

	t.Run("state unchanged", func(t *testing.T) {
		if got := s.wallet(t, user1, wallet1.ID); got != before {
			t.Errorf("user-1 wallet %+v, want unchanged %+v", got, before)
		}
		if got := s.allTransactions(t, user1, wallet1.ID); !slices.Equal(got, beforeTransactions) {
			t.Errorf("user-1 transactions %+v, want unchanged %+v", got, beforeTransactions)
		}

		for _, w := range []walletJSON{wallet2, euro} {
			if got := s.wallet(t, user2, w.ID); got != w {
				t.Errorf("user-2 %s wallet %+v, want unchanged %+v", w.Currency, got, w)
			}
			if got := s.allTransactions(t, user2, w.ID); len(got) != 0 {
				t.Errorf("user-2 %s wallet has transactions %+v, want none", w.Currency, got)
			}
		}

		resp := s.send(t, get(user1, "/v1/wallets"))
		if list := decodeOK[walletListJSON](t, resp, "list user-1 wallets"); !slices.Equal(list.Wallets, []walletJSON{before}) {
			t.Errorf("user-1 wallets %+v, want only %+v", list.Wallets, before)
		}
	})
}

// TestOpenAPIDocument checks that the gateway serves the OpenAPI document
// without a token and that it lists every REST route.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()

	s := startStack(t)
	resp := s.send(t, call{method: http.MethodGet, path: "/openapi.json"})
	if resp.status != http.StatusOK {
		t.Fatalf("status %d, want 200; %s", resp.status, resp.describe())
	}
	if got := resp.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q, want application/json", got)
	}

	var document struct {
		Swagger string                     `json:"swagger"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(resp.body, &document); err != nil {
		t.Fatalf("decode OpenAPI document: %v", err)
	}

	if document.Swagger != "2.0" {
		t.Errorf("swagger %q, want \"2.0\"", document.Swagger)
	}
	routes := []string{
		"/v1/wallets",
		"/v1/wallets/{wallet_id}",
		"/v1/wallets/{wallet_id}/credit",
		"/v1/wallets/{wallet_id}/debit",
		"/v1/wallets/{wallet_id}/transactions",
		"/v1/transfers",
		"/v1/transactions/{transaction_id}",
	}
	for _, route := range routes {
		if _, ok := document.Paths[route]; !ok {
			t.Errorf("paths has no %q", route)
		}
	}
}
