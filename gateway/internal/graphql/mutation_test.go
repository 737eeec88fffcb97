package graphql

import (
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
)

func debitMutation(amount string) string {
	return `mutation { debit(walletId: "w1", amount: "` + amount + `", description: "rent") { id amount balanceAfter } }`
}

func TestDebitForwardsCallerAndKey(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, debitMutation("10"), "Idempotency-Key", "k1")

	expectJSON(t, expectData(t, res), `{"debit":{"id":"tx-w1","amount":"10","balanceAfter":"990"}}`)
	if got := res.header.Get("Idempotent-Replayed"); got != "" {
		t.Errorf("Idempotent-Replayed %q on a first request, want none", got)
	}
	debits, mds := env.wallet.recorded()
	if len(debits) != 1 {
		t.Fatalf("%d debits, want 1", len(debits))
	}
	if d := debits[0]; d.GetWalletId() != "w1" || d.GetAmount() != 10 || d.GetDescription() != "rent" {
		t.Errorf("debit request %v, want w1, 10, rent", d)
	}
	want := map[string]string{"authorization": "Bearer test-token", "idempotency-key": "k1", "x-request-id": "req-1"}
	for key, value := range want {
		if got := mds[0].Get(key); !slices.Equal(got, []string{value}) {
			t.Errorf("metadata %s = %v, want [%s]", key, got, value)
		}
	}
}

func TestDebitReplayMarked(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, debitMutation("10"), "Idempotency-Key", "replayed-key")

	expectData(t, res)
	if got := res.header.Get("Idempotent-Replayed"); got != "true" {
		t.Errorf("Idempotent-Replayed %q, want true", got)
	}
}

func TestDebitWithoutKeyRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	expectRejected(t, env.query(t, debitMutation("10")), http.StatusBadRequest, "idempotency_key_missing")
	expectRejected(t, env.query(t, debitMutation("10"), "Idempotency-Key", "bad\x7fkey"), http.StatusBadRequest, "invalid_request")
	expectRejected(t, env.query(t, debitMutation("10"), "Idempotency-Key", strings.Repeat("k", 256)), http.StatusBadRequest, "invalid_request")

	if debits, _ := env.wallet.recorded(); len(debits) != 0 {
		t.Errorf("%d debits, want 0", len(debits))
	}
}

func TestQueryNeedsNoKey(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	expectJSON(t, expectData(t, env.query(t, `{ wallets { id balance } }`)), `{"wallets":[{"id":"w1","balance":"1000"},{"id":"w2","balance":"1000"}]}`)
}

func TestTwoMutationFieldsRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	twoFields := `mutation { a: debit(walletId: "w1", amount: "1") { id } b: debit(walletId: "w1", amount: "2") { id } }`
	expectRejected(t, env.query(t, twoFields, "Idempotency-Key", "k1"), http.StatusBadRequest, codeTooManyMutations)

	twoOperations := "[" + operationJSON(t, debitMutation("1")) + "," + operationJSON(t, debitMutation("2")) + "]"
	expectRejected(t, env.post(t, twoOperations, "Idempotency-Key", "k1"), http.StatusBadRequest, codeTooManyMutations)

	if debits, _ := env.wallet.recorded(); len(debits) != 0 {
		t.Errorf("%d debits, want 0", len(debits))
	}
}

func TestMergedMutationFieldCountsOnce(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	// Two selections with one response name execute once.
	query := `mutation { debit(walletId: "w1", amount: "1") { id } debit(walletId: "w1", amount: "1") { amount } __typename }`
	expectJSON(t, expectData(t, env.query(t, query, "Idempotency-Key", "k1")), `{"debit":{"id":"tx-w1","amount":"1"},"__typename":"Mutation"}`)

	if debits, _ := env.wallet.recorded(); len(debits) != 1 {
		t.Errorf("%d debits, want 1", len(debits))
	}
}

func TestOverdraftKeepsServiceCode(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, debitMutation("5000"), "Idempotency-Key", "k1")

	if res.status != http.StatusOK {
		t.Fatalf("status %d, want 200 for an error while executing; body %s", res.status, res.body)
	}
	body := res.decode(t)
	if string(body.Data) != "null" {
		t.Errorf("data %s, want null", body.Data)
	}
	if len(body.Errors) != 1 {
		t.Fatalf("errors %+v, want 1", body.Errors)
	}
	e := body.Errors[0]
	if e.Extensions["code"] != "insufficient_funds" || e.Message != "wallet w1 has insufficient funds" || !slices.Equal(e.Path, []any{"debit"}) {
		t.Errorf("error %+v, want insufficient_funds at debit with the service's message", e)
	}
}

func TestMalformedAmountsRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	for _, amount := range []string{"6.5", "1e2", " 10", "ten", "", "99999999999999999999"} {
		res := env.query(t, debitMutation(amount), "Idempotency-Key", "k-"+amount)
		body := res.decode(t)
		if res.status != http.StatusOK || len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "invalid_request" {
			t.Errorf("amount %q: status %d, body %s; want 200 with invalid_request", amount, res.status, res.body)
		}
	}

	if debits, _ := env.wallet.recorded(); len(debits) != 0 {
		t.Errorf("%d debits, want 0", len(debits))
	}
}

func TestServiceErrorsMapped(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	cases := []struct {
		query, code, message string
	}{
		{`{ wallet(id: "missing") { id } }`, "not_found", "wallet missing not found"},
		{`{ wallet(id: "broken") { id } }`, "internal", "internal error"},
		{`{ payments { items { id } } }`, "unavailable", "payments are not served by this gateway: it has no payment service configured"},
		{`{ transactions(walletId: "w1", pageSize: 0) { nextPageToken } }`, "invalid_request", "pageSize must be between 1 and 100, got 0"},
	}

	for _, c := range cases {
		res := env.query(t, c.query)
		body := res.decode(t)
		if res.status != http.StatusOK || len(body.Errors) != 1 {
			t.Errorf("%s: status %d, body %s; want 200 with one error", c.query, res.status, res.body)
			continue
		}
		if got := body.Errors[0]; got.Extensions["code"] != c.code || got.Message != c.message {
			t.Errorf("%s: error %+v, want %s %q", c.query, got, c.code, c.message)
		}
		if strings.Contains(res.body, "10.0.0.7") {
			t.Errorf("%s: body %s leaks the internal cause", c.query, res.body)
		}
	}
}

func TestMutationRateLimited(t *testing.T) {
	t.Parallel()
	env := newEnv(t, rateLimited(t, 1))

	expectData(t, env.query(t, debitMutation("1"), "Idempotency-Key", "k1"))
	denied := env.query(t, debitMutation("1"), "Idempotency-Key", "k2")

	expectRejected(t, denied, http.StatusTooManyRequests, "rate_limited")
	if got := denied.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After %q, want 2 (1.5 s rounded up)", got)
	}
	if debits, _ := env.wallet.recorded(); len(debits) != 1 {
		t.Errorf("%d debits, want 1", len(debits))
	}
}

func TestRateLimitDescriptors(t *testing.T) {
	t.Parallel()
	env := newEnv(t, rateLimited(t, 10))

	expectData(t, env.query(t, `{ wallets { id } }`))
	expectRejected(t, env.query(t, debitMutation("1")), http.StatusBadRequest, "idempotency_key_missing")
	expectData(t, env.query(t, debitMutation("1"), "Idempotency-Key", "k1"))

	requests := env.ratelimit.requests()
	if len(requests) != 1 {
		t.Fatalf("%d rate limit requests, want 1: queries and rejected mutations are not charged", len(requests))
	}
	req := requests[0]
	if req.GetDomain() != "gateway" || req.GetHits() != 1 || len(req.GetDescriptors()) != 2 {
		t.Fatalf("request %v, want domain gateway, 1 hit, 2 descriptors (graphql_mutation and payments)", req)
	}
	got := map[string]string{}
	for _, entry := range req.GetDescriptors()[0].GetEntries() {
		got[entry.GetKey()] = entry.GetValue()
	}
	want := map[string]string{"route_class": "graphql_mutation", "client": "user-1", "ip": "192.0.2.1", "role": "user"}
	if len(got) != len(want) {
		t.Errorf("descriptor %v, want %v", got, want)
	}
	for key, value := range want {
		if got[key] != value {
			t.Errorf("descriptor %s = %q, want %q", key, got[key], value)
		}
	}
}

func TestRateLimitUnreachableRefusesMutations(t *testing.T) {
	t.Parallel()

	// A port that was free a moment ago: nothing listens there.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	if err := listener.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	env := newEnv(t, func(o *Options, _ *testEnv) {
		o.RateLimit = ratelimitv1.NewRateLimitServiceClient(conn)
		o.RateLimitTimeout = 5 * time.Second
	})

	res := env.query(t, debitMutation("1"), "Idempotency-Key", "k1")

	expectRejected(t, res, http.StatusServiceUnavailable, "unavailable")
	if got := res.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	expectData(t, env.query(t, `{ __typename }`))
}
