package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/advancia-pay/ledger/pkg/apperr"
)

// FuzzErrorHandler sends every gRPC status, with or without an ErrorInfo
// of any reason, domain and retry delay, through the error handler. The
// response must be one problem+json document whose status is 400 to 599
// and equals the HTTP status, and whose code is a defined apperr code of
// that status. An internal error never shows the service's message, a
// Retry-After is a positive number of seconds, and a known reason in the
// ledger's domain is kept as the code.
func FuzzErrorHandler(f *testing.F) {
	handle := errorHandler(slog.New(slog.DiscardHandler))

	f.Fuzz(func(t *testing.T, grpcCode uint32, message string, withInfo bool, reason, domain, retryAfter string) {
		st := status.New(codes.Code(grpcCode), message)
		// WithDetails fails for an OK status and for strings that are not
		// valid UTF-8, and the status then goes without the ErrorInfo.
		attached := false
		if withInfo {
			info := &errdetails.ErrorInfo{Reason: reason, Domain: domain, Metadata: map[string]string{apperr.RetryAfterKey: retryAfter}}
			if detailed, err := st.WithDetails(info); err == nil {
				st, attached = detailed, true
			}
		}

		recorder := httptest.NewRecorder()
		request := httptest.NewRequest(http.MethodPost, "/v1/transfers", nil)
		handle(context.Background(), nil, nil, recorder, request, st.Err())

		problem := decodeProblem(t, recorder)
		code := apperr.Code(problem.Code)
		if attached && domain == apperr.Domain && apperr.Code(reason).Known() && code != apperr.Code(reason) {
			t.Errorf("code %q, want the ErrorInfo reason %q", code, reason)
		}
		if code == apperr.Internal && problem.Detail != "internal error" {
			t.Errorf("internal error with detail %q, want %q", problem.Detail, "internal error")
		}
	})
}

// decodeProblem fails t unless recorder holds one valid problem+json
// document that agrees with the response status, and returns it.
func decodeProblem(t *testing.T, recorder *httptest.ResponseRecorder) Problem {
	t.Helper()

	if recorder.Code < 400 || recorder.Code > 599 {
		t.Fatalf("HTTP status %d, want 400 to 599", recorder.Code)
	}
	if got := recorder.Header().Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", got)
	}
	if value := recorder.Header().Get("Retry-After"); value != "" {
		if seconds, err := strconv.ParseInt(value, 10, 64); err != nil || seconds <= 0 {
			t.Errorf("Retry-After %q, want a positive number of seconds", value)
		}
	}

	body := recorder.Body.Bytes()
	if !json.Valid(body) {
		t.Fatalf("body is not valid JSON: %q", body)
	}
	var problem Problem
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&problem); err != nil {
		t.Fatalf("decode problem %q: %v", body, err)
	}
	if decoder.More() {
		t.Errorf("body %q holds more than one JSON value", body)
	}

	if problem.Status != recorder.Code {
		t.Errorf("status member %d, want the HTTP status %d", problem.Status, recorder.Code)
	}
	if problem.Type != "about:blank" || problem.Title == "" || problem.Title != http.StatusText(recorder.Code) {
		t.Errorf("type %q and title %q, want about:blank and %q", problem.Type, problem.Title, http.StatusText(recorder.Code))
	}
	code := apperr.Code(problem.Code)
	if !code.Known() || code.HTTPStatus() != recorder.Code {
		t.Errorf("code %q, want a defined code whose HTTP status is %d", problem.Code, recorder.Code)
	}
	return problem
}

// TestRetryAfterLargestDelay covers the largest delay apperr reads from a
// status, 9223372036 s: rounding it up to whole seconds overflowed
// time.Duration and sent a negative Retry-After.
func TestRetryAfterLargestDelay(t *testing.T) {
	st, err := status.New(codes.Unavailable, "wallet service is draining").WithDetails(&errdetails.ErrorInfo{
		Reason: string(apperr.Unavailable), Domain: apperr.Domain,
		Metadata: map[string]string{apperr.RetryAfterKey: "9223372036"},
	})
	if err != nil {
		t.Fatal(err)
	}

	recorder := httptest.NewRecorder()
	errorHandler(slog.New(slog.DiscardHandler))(context.Background(), nil, nil, recorder, httptest.NewRequest(http.MethodGet, "/v1/wallets", nil), st.Err())

	decodeProblem(t, recorder)
	if got := recorder.Header().Get("Retry-After"); got != "9223372036" {
		t.Errorf("Retry-After %q, want 9223372036", got)
	}
}

func TestWriteProblemRetryAfter(t *testing.T) {
	tests := []struct {
		delay time.Duration
		want  string
	}{
		{time.Nanosecond, "1"},
		{time.Second, "1"},
		{1500 * time.Millisecond, "2"},
		{time.Duration(math.MaxInt64), "9223372037"},
		{0, ""},
		{-time.Second, ""},
	}
	for _, test := range tests {
		recorder := httptest.NewRecorder()
		writeProblem(recorder, httptest.NewRequest(http.MethodGet, "/v1/wallets", nil), apperr.RateLimited, "slow down", test.delay)

		if got := recorder.Header().Get("Retry-After"); got != test.want {
			t.Errorf("delay %v: Retry-After %q, want %q", test.delay, got, test.want)
		}
	}
}
