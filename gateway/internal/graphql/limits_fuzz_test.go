package graphql

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
)

// unavailableConn fails every call with UNAVAILABLE without a network, so
// that accepted operations execute quickly.
type unavailableConn struct{}

func (unavailableConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return status.Error(codes.Unavailable, "no service in this test")
}

func (unavailableConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unavailable, "no service in this test")
}

// rejectionCodes are the codes of a request rejected before execution.
var rejectionCodes = map[string]bool{
	string(apperr.InvalidRequest): true, string(apperr.IdempotencyKeyMissing): true,
	codeTooManyTokens: true, codeQueryTooDeep: true, codeQueryTooComplex: true,
	codeTooManyAliases: true, codeTooManyMutations: true, codeIntrospectionDisabled: true,
}

// FuzzLimits sends arbitrary query text through the handler, in
// development and production mode, and checks that it never panics and
// that every response is one of two kinds. Either the request is rejected
// before execution: 400, no data, and errors that each have a message and
// the code of a limit or invalid_request. Or it executes: 200, and every
// field error comes from the unavailable services or an argument value,
// never from a resolver panic (code internal).
func FuzzLimits(f *testing.F) {
	handlers := map[bool]http.Handler{}
	for _, production := range []bool{false, true} {
		inner := NewHandler(Options{
			WalletConn: unavailableConn{}, PaymentConn: unavailableConn{},
			Production: production, Logger: slog.New(slog.DiscardHandler),
		})
		handlers[production] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), auth.Identity{Subject: "user-1"})))
		})
	}

	f.Fuzz(func(t *testing.T, query string, production bool) {
		body, err := json.Marshal(map[string]string{"query": query})
		if err != nil {
			t.Fatal(err)
		}
		request := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
		request.Header.Set("Content-Type", "application/json")
		recorder := httptest.NewRecorder()
		handlers[production].ServeHTTP(recorder, request)

		var response struct {
			Data   *json.RawMessage `json:"data"`
			Errors []gqlError       `json:"errors"`
		}
		if err := json.Unmarshal(recorder.Body.Bytes(), &response); err != nil {
			t.Fatalf("status %d, body %q is not JSON: %v", recorder.Code, recorder.Body, err)
		}

		switch recorder.Code {
		case http.StatusBadRequest:
			if response.Data != nil || len(response.Errors) == 0 {
				t.Fatalf("rejected with body %s, want no data and an error", recorder.Body)
			}
			for _, e := range response.Errors {
				if code, _ := e.Extensions["code"].(string); !rejectionCodes[code] || e.Message == "" {
					t.Errorf("rejection error %+v, want a message and a limit or invalid_request code", e)
				}
			}
		case http.StatusOK:
			// data is null when a non-null root field failed.
			for _, e := range response.Errors {
				if code, _ := e.Extensions["code"].(string); code != string(apperr.Unavailable) && code != string(apperr.InvalidRequest) {
					t.Errorf("field error %+v, want unavailable or invalid_request", e)
				}
			}
		default:
			t.Fatalf("status %d, body %s; want 200 or 400", recorder.Code, recorder.Body)
		}
	})
}
