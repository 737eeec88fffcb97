package graphql

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// expectJSON fails t unless got and want are equal JSON values.
func expectJSON(t *testing.T, got json.RawMessage, want string) {
	t.Helper()

	var gotValue, wantValue any
	if err := json.Unmarshal(got, &gotValue); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &wantValue); err != nil {
		t.Fatalf("decode the expected %s: %v", want, err)
	}
	gotText, _ := json.Marshal(gotValue)
	wantText, _ := json.Marshal(wantValue)
	if string(gotText) != string(wantText) {
		t.Errorf("data %s, want %s", gotText, wantText)
	}
}

func TestDepthSevenAccepted(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, `{ wallet(id: "w1") { transactions(pageSize: 1) { items { wallet { transactions(pageSize: 1) { items { id } } } } } } }`)

	expectJSON(t, expectData(t, res), `{"wallet":{"transactions":{"items":[{"wallet":{"transactions":{"items":[{"id":"tx-w1"}]}}}]}}}`)
}

func TestDepthEightRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, `{ wallet(id: "w1") { transactions(pageSize: 1) { items { wallet { transactions(pageSize: 1) { items { wallet { id } } } } } } } }`)

	gqlErr := expectRejected(t, res, http.StatusBadRequest, codeQueryTooDeep)
	if want := "the operation nests fields 8 deep, the limit is 7"; gqlErr.Message != want {
		t.Errorf("message %q, want %q", gqlErr.Message, want)
	}
	if got := env.wallet.callCount("GetWallet"); got != 0 {
		t.Errorf("GetWallet called %d times, want 0 for a rejected query", got)
	}
}

// depthFragments nests wallet.transactions.items.wallet (depth 4) through a
// named fragment and an inline fragment, and then the selection of Inner.
const depthFragments = `
query { ...Root }
fragment Root on Query { wallet(id: "w1") { ...Outer } }
fragment Outer on Wallet { transactions(pageSize: 1) { items { ... on Transaction { wallet { ...Inner } } } } }
fragment Inner on Wallet { transactions(pageSize: 1) { items { %s } } }`

func TestDepthInFragmentsRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, fmt.Sprintf(depthFragments, "wallet { id }"))

	expectRejected(t, res, http.StatusBadRequest, codeQueryTooDeep)
}

func TestDepthInFragmentsAccepted(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, fmt.Sprintf(depthFragments, "id"))

	expectJSON(t, expectData(t, res), `{"wallet":{"transactions":{"items":[{"wallet":{"transactions":{"items":[{"id":"tx-w1"}]}}}]}}}`)
}

// tenTransactionFields cost 10: one per scalar.
const tenTransactionFields = "id type amount currency status walletId counterpartyWalletId balanceAfter idempotencyKey description"

func TestComplexity1001Rejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	// items costs 1 + 10, times a page size of 91.
	res := env.query(t, `{ transactions(walletId: "w1", pageSize: 91) { items { `+tenTransactionFields+` } } }`)

	gqlErr := expectRejected(t, res, http.StatusBadRequest, codeQueryTooComplex)
	if want := "the operation has complexity 1001, the limit is 1000"; gqlErr.Message != want {
		t.Errorf("message %q, want %q", gqlErr.Message, want)
	}
	if got := env.wallet.callCount("ListTransactions"); got != 0 {
		t.Errorf("ListTransactions called %d times, want 0", got)
	}
}

func TestComplexityFromVariablesRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	body := `{"query":"query($n: Int) { transactions(walletId: \"w1\", pageSize: $n) { items { ` + tenTransactionFields + ` } } }","variables":{"n":91}}`
	res := env.post(t, body)

	expectRejected(t, res, http.StatusBadRequest, codeQueryTooComplex)
}

func TestComplexity1000Accepted(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	// items costs 1 + 9, times a page size of 100.
	nine := strings.TrimSuffix(tenTransactionFields, " description")
	res := env.query(t, `{ transactions(walletId: "w1", pageSize: 100) { items { `+nine+` } } }`)

	data := expectData(t, res)
	var page struct {
		Transactions struct {
			Items []map[string]any `json:"items"`
		} `json:"transactions"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatal(err)
	}
	if got := len(page.Transactions.Items); got != 1 {
		t.Errorf("%d items, want the fake service's 1", got)
	}
}

func TestComplexityDefaultPageSize(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	// items costs 1 + 14 scalars + wallet (1 + 4) = 20, times the default
	// page size of 50: exactly the limit. nextPageToken adds 50 more.
	const items = `items { id type amount currency status walletId counterpartyWalletId balanceAfter idempotencyKey
		description createdAt direction holdId reversesTransactionId wallet { id ownerId currency balance } }`

	expectData(t, env.query(t, `{ transactions(walletId: "w1") { `+items+` } }`))
	expectRejected(t, env.query(t, `{ transactions(walletId: "w1") { nextPageToken `+items+` } }`), http.StatusBadRequest, codeQueryTooComplex)
}

// aliases returns n fields __typename aliased a1, a2 and so on.
func aliases(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " a%d: __typename", i+1)
	}
	return b.String()
}

func TestSixteenAliasesRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, "{"+aliases(16)+" }")

	expectRejected(t, res, http.StatusBadRequest, codeTooManyAliases)
}

func TestAliasesInFragmentsCounted(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, "{ ...F b: __typename } fragment F on Query {"+aliases(15)+" }")

	expectRejected(t, res, http.StatusBadRequest, codeTooManyAliases)
}

func TestFifteenAliasesAccepted(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	data := expectData(t, env.query(t, "{"+aliases(15)+" }"))

	var fields map[string]string
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	if len(fields) != 15 || fields["a15"] != "Query" {
		t.Errorf("data %s, want a1 to a15 set to Query", data)
	}
}

// batch returns a JSON array of n operations.
func batch(t *testing.T, n int) string {
	t.Helper()

	ops := make([]string, n)
	for i := range ops {
		ops[i] = operationJSON(t, "{ __typename }")
	}
	return "[" + strings.Join(ops, ",") + "]"
}

func TestFourBatchedOperationsRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.post(t, batch(t, 4))

	expectRejected(t, res, http.StatusBadRequest, codeTooManyOperations)
}

func TestThreeBatchedOperationsAccepted(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.post(t, batch(t, 3))

	if res.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", res.status, res.body)
	}
	var responses []gqlResponse
	if err := json.Unmarshal([]byte(res.body), &responses); err != nil {
		t.Fatalf("decode the batch response: %v; body %s", err, res.body)
	}
	if len(responses) != 3 {
		t.Fatalf("%d responses, want 3; body %s", len(responses), res.body)
	}
	for i, r := range responses {
		expectJSON(t, r.Data, `{"__typename":"Query"}`)
		if len(r.Errors) != 0 {
			t.Errorf("response %d: errors %+v", i, r.Errors)
		}
	}
}

func TestEmptyBatchRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	expectRejected(t, env.post(t, "[]"), http.StatusBadRequest, "invalid_request")
}

// paddedBody returns an operation padded with spaces to size bytes.
func paddedBody(t *testing.T, size int) string {
	t.Helper()

	op := operationJSON(t, "{ __typename }")
	return op[:len(op)-1] + strings.Repeat(" ", size-len(op)) + "}"
}

func TestBodyOver64KiBRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.post(t, paddedBody(t, 65*1024))

	expectRejected(t, res, http.StatusBadRequest, codeRequestTooLarge)
}

func TestChunkedBodyOver64KiBRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(paddedBody(t, 64*1024+1)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	recorder := httptest.NewRecorder()
	env.handler.ServeHTTP(recorder, req)

	res := result{status: recorder.Code, header: recorder.Header(), body: recorder.Body.String()}
	expectRejected(t, res, http.StatusBadRequest, codeRequestTooLarge)
}

func TestBodyOf64KiBAccepted(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.post(t, paddedBody(t, 64*1024))

	expectJSON(t, expectData(t, res), `{"__typename":"Query"}`)
}

const introspectionQuery = `{ __schema { queryType { name } } }`

func TestIntrospectionRejectedInProduction(t *testing.T) {
	t.Parallel()
	env := newEnv(t, production())

	expectRejected(t, env.query(t, introspectionQuery), http.StatusBadRequest, codeIntrospectionDisabled)
	expectRejected(t, env.query(t, `{ __type(name: "Wallet") { name } }`), http.StatusBadRequest, codeIntrospectionDisabled)
	expectRejected(t, env.query(t, `{ ...F } fragment F on Query { __schema { types { name } } }`), http.StatusBadRequest, codeIntrospectionDisabled)
}

func TestTypenameAllowedInProduction(t *testing.T) {
	t.Parallel()
	env := newEnv(t, production())

	expectJSON(t, expectData(t, env.query(t, `{ __typename }`)), `{"__typename":"Query"}`)
}

func TestIntrospectionAllowedOutsideProduction(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	expectJSON(t, expectData(t, env.query(t, introspectionQuery)), `{"__schema":{"queryType":{"name":"Query"}}}`)
}

// TestIntrospectionDepthNotCounted shows that the nesting of type
// references in an introspection query, which tools send, does not count
// toward the depth limit.
func TestIntrospectionDepthNotCounted(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	query := `{ __type(name: "Wallet") { fields { name type { kind ofType { kind ofType { kind ofType { kind name } } } } } } }`
	data := expectData(t, env.query(t, query))

	if !strings.Contains(string(data), `"name":"balance","type":{"kind":"NON_NULL","ofType":{"kind":"SCALAR","ofType":null}}`) {
		t.Errorf("data %s, want the type of Wallet.balance", data)
	}
}

// typenames returns a query of n+2 tokens: braces around n __typename.
func typenames(n int) string {
	return "{" + strings.Repeat(" __typename", n) + " }"
}

func TestTooManyTokensRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	expectRejected(t, env.query(t, typenames(1999)), http.StatusBadRequest, codeTooManyTokens)
}

func TestTokensCountedAcrossBatch(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	body := "[" + operationJSON(t, typenames(999)) + "," + operationJSON(t, typenames(998)) + "]"

	expectRejected(t, env.post(t, body), http.StatusBadRequest, codeTooManyTokens)
}

// TestTwoThousandTokensPassTokenLimit shows the boundary: 2000 tokens pass
// the token check, and this query then fails the complexity check instead.
// Comments are not tokens.
func TestTwoThousandTokensPassTokenLimit(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	res := env.query(t, "# a comment\n"+typenames(1998))

	expectRejected(t, res, http.StatusBadRequest, codeQueryTooComplex)
}

func TestSuggestionsHidden(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	cases := map[string]string{
		`{ walets { id } }`:                  `Cannot query field "walets" on type "Query".`,
		`{ wallet(idd: "w1") { id } }`:       `Unknown argument "idd" on field "Query.wallet".`,
		`{ wallet(id: "w1") { balanse } }`:   `Cannot query field "balanse" on type "Wallet".`,
		`query($v: Walet) { __typename }`:    `Unknown type "Walet".`,
		`{ payment(id: "p1") { metadata } }`: `Field "metadata" of type "[MetadataEntry!]!" must have a selection of subfields.`,
	}

	for query, want := range cases {
		gqlErr := firstError(t, expectRejectedAny(t, env.query(t, query), http.StatusBadRequest, "invalid_request"))
		if gqlErr.Message != want {
			t.Errorf("%s: message %q, want %q", query, gqlErr.Message, want)
		}
	}
}

// expectRejectedAny is expectRejected for responses that may contain several
// errors, all with the code.
func expectRejectedAny(t *testing.T, res result, httpStatus int, code string) []gqlError {
	t.Helper()

	if res.status != httpStatus {
		t.Fatalf("status %d, want %d; body %s", res.status, httpStatus, res.body)
	}
	body := res.decode(t)
	if strings.Contains(res.body, "Did you mean") {
		t.Errorf("body %s suggests names", res.body)
	}
	for _, e := range body.Errors {
		if e.Extensions["code"] != code {
			t.Errorf("extensions.code %v, want %s; body %s", e.Extensions["code"], code, res.body)
		}
	}
	return body.Errors
}

func firstError(t *testing.T, errs []gqlError) gqlError {
	t.Helper()
	if len(errs) == 0 {
		t.Fatal("no errors, want at least one")
	}
	return errs[0]
}

func TestRequestShapeRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	get := httptest.NewRequest(http.MethodGet, "/graphql?query={__typename}", nil)
	recorder := httptest.NewRecorder()
	env.handler.ServeHTTP(recorder, get)
	expectRejected(t, result{status: recorder.Code, header: recorder.Header(), body: recorder.Body.String()}, http.StatusMethodNotAllowed, "invalid_request")

	expectRejected(t, env.post(t, operationJSON(t, "{ __typename }"), "Content-Type", "text/plain"), http.StatusUnsupportedMediaType, "invalid_request")
	expectRejected(t, env.post(t, `{"query": `), http.StatusBadRequest, "invalid_request")
	expectRejected(t, env.post(t, `{"query": "{ __typename }"} {}`), http.StatusBadRequest, "invalid_request")
	expectRejected(t, env.query(t, "{ __typename"), http.StatusBadRequest, "invalid_request")
}

func TestMissingIdentityRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(operationJSON(t, "{ __typename }")))
	req.Header.Set("Content-Type", "application/json")
	recorder := httptest.NewRecorder()
	env.inner.ServeHTTP(recorder, req)

	expectRejected(t, result{status: recorder.Code, header: recorder.Header(), body: recorder.Body.String()}, http.StatusUnauthorized, "unauthenticated")
}
