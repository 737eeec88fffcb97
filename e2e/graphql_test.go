package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

// graphQLBody is a GraphQL response body.
type graphQLBody struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message   string `json:"message"`
		Path      []any  `json:"path"`
		Locations []struct {
			Line   int `json:"line"`
			Column int `json:"column"`
		} `json:"locations"`
		Extensions struct {
			Code              string `json:"code"`
			RetryAfterSeconds int    `json:"retryAfterSeconds"`
		} `json:"extensions"`
	} `json:"errors"`
}

// graphQL posts query to /graphql with token and, unless key is empty, an
// Idempotency-Key header, and decodes the GraphQL body.
func (s *stack) graphQL(t *testing.T, token, key, query string) (response, graphQLBody) {
	t.Helper()

	payload, err := json.Marshal(map[string]string{"query": query})
	if err != nil {
		t.Fatal(err)
	}
	resp := s.send(t, call{method: http.MethodPost, path: "/graphql", token: token, idempotencyKey: key, body: string(payload)})
	if got := resp.header.Get("Content-Type"); got != "application/json" {
		t.Fatalf("POST /graphql: Content-Type %q, want application/json; %s", got, resp.describe())
	}

	var body graphQLBody
	decoder := json.NewDecoder(bytes.NewReader(resp.body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&body); err != nil {
		t.Fatalf("POST /graphql: decode: %v; body %s", err, resp.body)
	}
	return resp, body
}

// graphQLData fails t unless the response is 200 without errors, and
// decodes its data into T.
func graphQLData[T any](t *testing.T, resp response, body graphQLBody, step string) T {
	t.Helper()

	var data T
	if resp.status != http.StatusOK || len(body.Errors) != 0 {
		t.Fatalf("%s: %s", step, resp.describe())
	}
	if err := json.Unmarshal(body.Data, &data); err != nil {
		t.Fatalf("%s: decode data %s: %v", step, body.Data, err)
	}
	return data
}

// expectGraphQLError fails t unless the response has the HTTP status and
// exactly one error with the code.
func expectGraphQLError(t *testing.T, resp response, body graphQLBody, status int, code string) {
	t.Helper()

	if resp.status != status {
		t.Errorf("status %d, want %d; %s", resp.status, status, resp.describe())
		return
	}
	if len(body.Errors) != 1 || body.Errors[0].Extensions.Code != code || body.Errors[0].Message == "" {
		t.Errorf("errors %+v, want one with code %s and a message; %s", body.Errors, code, resp.describe())
	}
}

type graphQLTransaction struct {
	ID           string `json:"id"`
	Amount       string `json:"amount"`
	BalanceAfter string `json:"balanceAfter"`
}

type debitData struct {
	Debit graphQLTransaction `json:"debit"`
}

func debitMutation(walletID, amount string) string {
	return fmt.Sprintf(`mutation { debit(walletId: %q, amount: %q) { id amount balanceAfter } }`, walletID, amount)
}

// TestGraphQLDebitFollowsRESTRules checks that a debit through GraphQL is
// idempotent under its key, shares keys with the REST route, and keeps the
// wallet service's error codes.
func TestGraphQLDebitFollowsRESTRules(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	w, token := s.fundedWallet(t, "user-1", 100)

	resp, body := s.graphQL(t, token, "g1", debitMutation(w.ID, "30"))
	first := graphQLData[debitData](t, resp, body, "first debit").Debit
	if first.Amount != "30" || first.BalanceAfter != "70" || resp.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("first debit %+v (replayed %q), want 30 leaving 70, not replayed", first, resp.header.Get("Idempotent-Replayed"))
	}

	resp, body = s.graphQL(t, token, "g1", debitMutation(w.ID, "30"))
	if retry := graphQLData[debitData](t, resp, body, "retry").Debit; retry != first || resp.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry %+v (replayed %q), want %+v replayed", retry, resp.header.Get("Idempotent-Replayed"), first)
	}
	viaREST := decodeOK[transactionJSON](t, s.debit(t, token, w.ID, "g1", "30"), "REST debit with the GraphQL key")
	if viaREST.ID != first.ID {
		t.Errorf("REST debit with key g1 got transaction %s, want the GraphQL one %s", viaREST.ID, first.ID)
	}

	resp, body = s.graphQL(t, token, "g1", debitMutation(w.ID, "31"))
	expectGraphQLError(t, resp, body, http.StatusOK, "idempotency_key_reused")
	resp, body = s.graphQL(t, token, "g2", debitMutation(w.ID, "500"))
	expectGraphQLError(t, resp, body, http.StatusOK, "insufficient_funds")
	resp, body = s.graphQL(t, token, "", debitMutation(w.ID, "10"))
	expectGraphQLError(t, resp, body, http.StatusBadRequest, "idempotency_key_missing")
	resp, body = s.graphQL(t, token, "g3", debitMutation(w.ID, "6.5"))
	expectGraphQLError(t, resp, body, http.StatusOK, "invalid_request")

	if got := s.wallet(t, token, w.ID).Balance; got != "70" {
		t.Errorf("REST balance %s, want 70: the debit applied once", got)
	}
	query := fmt.Sprintf(`{ wallet(id: %q) { balance transactions(pageSize: 10) { items { type amount } } } }`, w.ID)
	resp, body = s.graphQL(t, token, "", query)
	type walletData struct {
		Wallet struct {
			Balance      string `json:"balance"`
			Transactions struct {
				Items []struct {
					Type   string `json:"type"`
					Amount string `json:"amount"`
				} `json:"items"`
			} `json:"transactions"`
		} `json:"wallet"`
	}
	got := graphQLData[walletData](t, resp, body, "wallet query").Wallet
	if got.Balance != "70" || len(got.Transactions.Items) != 2 || got.Transactions.Items[0].Type != "debit" || got.Transactions.Items[0].Amount != "30" {
		t.Errorf("wallet %+v, want balance 70 with the debit of 30 and the credit", got)
	}
}

// graphQLPolicy adds the GraphQL mutation tier of the production policy to
// generousPolicy.
const graphQLPolicy = generousPolicy +
	"  - {name: graphql-mutations-per-minute, route_class: graphql_mutation, key_by: [client], limit: 20, window: 1m, on_redis_failure: open}\n"

func TestGraphQLMutationsRateLimited(t *testing.T) {
	t.Parallel()
	s := startStack(t, withPolicy(graphQLPolicy))
	w, token := s.fundedWallet(t, "user-1", 1000)

	for i := range 20 {
		resp, body := s.graphQL(t, token, "m"+strconv.Itoa(i), debitMutation(w.ID, "1"))
		graphQLData[debitData](t, resp, body, "mutation "+strconv.Itoa(i+1)+" of 20")
	}

	resp, body := s.graphQL(t, token, "m20", debitMutation(w.ID, "1"))
	expectGraphQLError(t, resp, body, http.StatusTooManyRequests, "rate_limited")
	if after, err := strconv.Atoi(resp.header.Get("Retry-After")); err != nil || after < 1 || after > 60 {
		t.Errorf("Retry-After %q, want 1 to 60 whole seconds", resp.header.Get("Retry-After"))
	}

	resp, body = s.graphQL(t, token, "", fmt.Sprintf(`{ wallet(id: %q) { balance } }`, w.ID))
	if got := graphQLData[map[string]map[string]string](t, resp, body, "query after the limit"); got["wallet"]["balance"] != "980" {
		t.Errorf("balance %v, want 980: queries are not limited, and the 21st debit did not apply", got)
	}
}
