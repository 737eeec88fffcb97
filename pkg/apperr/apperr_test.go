package apperr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// expectedTable is written out independently of codeTable so a change to the
// table fails here.
var expectedTable = []struct {
	code      Code
	grpc      codes.Code
	http      int
	retryable bool
}{
	{InvalidRequest, codes.InvalidArgument, http.StatusBadRequest, false},
	{IdempotencyKeyMissing, codes.InvalidArgument, http.StatusBadRequest, false},
	{Unauthenticated, codes.Unauthenticated, http.StatusUnauthorized, false},
	{PermissionDenied, codes.PermissionDenied, http.StatusForbidden, false},
	{NotFound, codes.NotFound, http.StatusNotFound, false},
	{IdempotencyKeyInUse, codes.Aborted, http.StatusConflict, true},
	{WalletBusy, codes.Aborted, http.StatusConflict, true},
	{IdempotencyKeyReused, codes.FailedPrecondition, http.StatusUnprocessableEntity, false},
	{InsufficientFunds, codes.FailedPrecondition, http.StatusUnprocessableEntity, false},
	{CurrencyMismatch, codes.FailedPrecondition, http.StatusUnprocessableEntity, false},
	{RefundExceedsPayment, codes.FailedPrecondition, http.StatusUnprocessableEntity, false},
	{PaymentNotRefundable, codes.FailedPrecondition, http.StatusUnprocessableEntity, false},
	{HoldNotActive, codes.FailedPrecondition, http.StatusUnprocessableEntity, false},
	{ReversalExceedsTransaction, codes.FailedPrecondition, http.StatusUnprocessableEntity, false},
	{RateLimited, codes.ResourceExhausted, http.StatusTooManyRequests, true},
	{Unavailable, codes.Unavailable, http.StatusServiceUnavailable, true},
	{Internal, codes.Internal, http.StatusInternalServerError, false},
}

func TestCodesMatchTable(t *testing.T) {
	if got, want := len(Codes()), len(expectedTable); got != want {
		t.Fatalf("len(Codes()) = %d, want %d", got, want)
	}

	for i, row := range expectedTable {
		if got := Codes()[i]; got != row.code {
			t.Errorf("Codes()[%d] = %q, want %q", i, got, row.code)
		}
		if got := row.code.GRPCCode(); got != row.grpc {
			t.Errorf("%s.GRPCCode() = %v, want %v", row.code, got, row.grpc)
		}
		if got := row.code.HTTPStatus(); got != row.http {
			t.Errorf("%s.HTTPStatus() = %d, want %d", row.code, got, row.http)
		}
		if got := row.code.Retryable(); got != row.retryable {
			t.Errorf("%s.Retryable() = %v, want %v", row.code, got, row.retryable)
		}
	}
}

func TestUnknownCodeIsInternal(t *testing.T) {
	unknown := Code("no_such_code")

	if unknown.Known() {
		t.Errorf("Known() = true, want false")
	}
	if got := unknown.GRPCCode(); got != codes.Internal {
		t.Errorf("GRPCCode() = %v, want Internal", got)
	}
	if got := unknown.HTTPStatus(); got != http.StatusInternalServerError {
		t.Errorf("HTTPStatus() = %d, want 500", got)
	}
}

// sendOverWire converts st the way a gRPC client receives it.
func sendOverWire(t *testing.T, st *status.Status) *status.Status {
	t.Helper()

	raw, err := proto.Marshal(st.Proto())
	if err != nil {
		t.Fatalf("marshal status: %v", err)
	}

	decoded := new(spb.Status)
	if err := proto.Unmarshal(raw, decoded); err != nil {
		t.Fatalf("unmarshal status: %v", err)
	}

	return status.FromProto(decoded)
}

func TestRoundTripEveryCode(t *testing.T) {
	for _, row := range expectedTable {
		t.Run(string(row.code), func(t *testing.T) {
			appErr := New(row.code, "wallet %s: %d", "w-1", 7).WithRetryAfter(1500 * time.Millisecond)

			st := sendOverWire(t, ToStatus(fmt.Errorf("handler: %w", appErr)))

			if got := st.Code(); got != row.grpc {
				t.Errorf("status code = %v, want %v", got, row.grpc)
			}

			code, detail, retryAfter := FromStatus(st)
			if code != row.code {
				t.Errorf("FromStatus code = %q, want %q", code, row.code)
			}
			if got := code.HTTPStatus(); got != row.http {
				t.Errorf("HTTP status = %d, want %d", got, row.http)
			}

			wantDetail := "wallet w-1: 7"
			if row.code == Internal {
				wantDetail = "internal error"
			}
			if detail != wantDetail {
				t.Errorf("detail = %q, want %q", detail, wantDetail)
			}
			if retryAfter != 2*time.Second {
				t.Errorf("retryAfter = %v, want 2s (1.5s rounded up)", retryAfter)
			}
		})
	}
}

func TestToStatusErrorInfo(t *testing.T) {
	appErr := New(InsufficientFunds, "insufficient funds")
	appErr.Metadata = map[string]string{"wallet_id": "w-1"}

	st := ToStatus(appErr)

	if got := len(st.Details()); got != 1 {
		t.Fatalf("len(details) = %d, want 1", got)
	}

	info, ok := st.Details()[0].(*errdetails.ErrorInfo)
	if !ok {
		t.Fatalf("detail type = %T, want *errdetails.ErrorInfo", st.Details()[0])
	}
	if info.GetReason() != "insufficient_funds" {
		t.Errorf("reason = %q, want insufficient_funds", info.GetReason())
	}
	if info.GetDomain() != "ledger.advancia-pay" {
		t.Errorf("domain = %q, want ledger.advancia-pay", info.GetDomain())
	}
	if got := len(info.GetMetadata()); got != 1 {
		t.Errorf("len(metadata) = %d, want 1 (no retry_after_seconds without RetryAfter)", got)
	}
	if got := info.GetMetadata()["wallet_id"]; got != "w-1" {
		t.Errorf("metadata wallet_id = %q, want w-1", got)
	}
	if got := len(appErr.Metadata); got != 1 {
		t.Errorf("len(appErr.Metadata) = %d after ToStatus, want 1 (unchanged)", got)
	}
}

func TestWrappedErrorKeepsCode(t *testing.T) {
	appErr := Wrap(errors.New("balance 10 < 20"), InsufficientFunds, "insufficient funds")
	wrapped := fmt.Errorf("debit wallet w-1: %w", appErr)

	if got := CodeOf(wrapped); got != InsufficientFunds {
		t.Errorf("CodeOf = %q, want insufficient_funds", got)
	}

	st := ToStatus(wrapped)
	if st.Code() != codes.FailedPrecondition {
		t.Errorf("status code = %v, want FailedPrecondition", st.Code())
	}
	if st.Message() != "insufficient funds" {
		t.Errorf("status message = %q, want %q", st.Message(), "insufficient funds")
	}
	if !errors.Is(wrapped, appErr.Err) {
		t.Errorf("errors.Is(wrapped, cause) = false, want true")
	}
}

func TestUnknownErrorDoesNotLeak(t *testing.T) {
	cause := errors.New("connect postgres://ledger:s3cret@db:5432 failed")

	st := sendOverWire(t, ToStatus(fmt.Errorf("load wallet: %w", cause)))

	if st.Code() != codes.Internal {
		t.Errorf("status code = %v, want Internal", st.Code())
	}
	if st.Message() != "internal error" {
		t.Errorf("status message = %q, want %q", st.Message(), "internal error")
	}
	if got := len(st.Details()); got != 0 {
		t.Errorf("len(details) = %d, want 0", got)
	}
	if strings.Contains(st.String(), "s3cret") {
		t.Errorf("status %v contains the cause", st)
	}
	if got := CodeOf(cause); got != Internal {
		t.Errorf("CodeOf = %q, want internal", got)
	}

	code, detail, retryAfter := FromStatus(st)
	if code != Internal || detail != "internal error" || retryAfter != 0 {
		t.Errorf("FromStatus = (%q, %q, %v), want (internal, internal error, 0)", code, detail, retryAfter)
	}
}

func TestInternalErrorMessageIsGeneric(t *testing.T) {
	appErr := Wrap(errors.New("disk full"), Internal, "write journal entry %d", 42)

	st := ToStatus(appErr)

	if st.Message() != "internal error" {
		t.Errorf("status message = %q, want %q", st.Message(), "internal error")
	}
	if strings.Contains(st.String(), "disk full") || strings.Contains(st.String(), "journal") {
		t.Errorf("status %v contains internal details", st)
	}
}

func TestContextErrors(t *testing.T) {
	tests := []struct {
		err      error
		wantGRPC codes.Code
	}{
		{context.Canceled, codes.Canceled},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
	}

	for _, test := range tests {
		if got := ToStatus(test.err).Code(); got != test.wantGRPC {
			t.Errorf("ToStatus(%v) code = %v, want %v", test.err, got, test.wantGRPC)
		}
		if got := CodeOf(test.err); got != Unavailable {
			t.Errorf("CodeOf(%v) = %q, want unavailable", test.err, got)
		}
	}
}

func TestStatusErrorPassesThrough(t *testing.T) {
	original := status.New(codes.NotFound, "wallet w-1 not found")
	err := fmt.Errorf("call wallet service: %w", original.Err())

	got := ToStatus(err)

	if !proto.Equal(got.Proto(), original.Proto()) {
		t.Errorf("ToStatus = %v, want %v", got.Proto(), original.Proto())
	}
	if code := CodeOf(err); code != NotFound {
		t.Errorf("CodeOf = %q, want not_found", code)
	}
}

func TestToStatusNil(t *testing.T) {
	if got := ToStatus(nil).Code(); got != codes.OK {
		t.Errorf("ToStatus(nil) code = %v, want OK", got)
	}
}

func TestFromStatusWithoutErrorInfo(t *testing.T) {
	tests := []struct {
		grpc       codes.Code
		wantCode   Code
		wantDetail string
	}{
		{codes.InvalidArgument, InvalidRequest, "invalid request"},
		{codes.Unauthenticated, Unauthenticated, "unauthenticated"},
		{codes.PermissionDenied, PermissionDenied, "permission denied"},
		{codes.NotFound, NotFound, "not found"},
		{codes.ResourceExhausted, RateLimited, "rate limit exceeded"},
		{codes.Unavailable, Unavailable, "service unavailable"},
		{codes.DeadlineExceeded, Unavailable, "service unavailable"},
		{codes.Aborted, Internal, "internal error"},
		{codes.FailedPrecondition, Internal, "internal error"},
		{codes.Unknown, Internal, "internal error"},
	}

	for _, test := range tests {
		st := status.New(test.grpc, "dial tcp 10.0.0.7:9091: connection refused")

		code, detail, retryAfter := FromStatus(st)

		if code != test.wantCode {
			t.Errorf("%v: code = %q, want %q", test.grpc, code, test.wantCode)
		}
		if detail != test.wantDetail {
			t.Errorf("%v: detail = %q, want %q", test.grpc, detail, test.wantDetail)
		}
		if retryAfter != 0 {
			t.Errorf("%v: retryAfter = %v, want 0", test.grpc, retryAfter)
		}
	}
}

func TestFromStatusIgnoresForeignErrorInfo(t *testing.T) {
	st, err := status.New(codes.NotFound, "no such thing").WithDetails(&errdetails.ErrorInfo{
		Reason:   "insufficient_funds",
		Domain:   "example.com",
		Metadata: map[string]string{RetryAfterKey: "5"},
	})
	if err != nil {
		t.Fatalf("WithDetails: %v", err)
	}

	code, detail, retryAfter := FromStatus(st)

	if code != NotFound || detail != "not found" || retryAfter != 0 {
		t.Errorf("FromStatus = (%q, %q, %v), want (not_found, not found, 0)", code, detail, retryAfter)
	}
}

func TestFromStatusUnknownReason(t *testing.T) {
	st, err := status.New(codes.Unavailable, "down").WithDetails(&errdetails.ErrorInfo{Reason: "brand_new_code", Domain: Domain})
	if err != nil {
		t.Fatalf("WithDetails: %v", err)
	}

	code, detail, _ := FromStatus(st)

	if code != Unavailable || detail != "service unavailable" {
		t.Errorf("FromStatus = (%q, %q), want (unavailable, service unavailable)", code, detail)
	}
}

func TestFromStatusMalformedRetryAfter(t *testing.T) {
	for _, value := range []string{"", "abc", "-3", "0", "1.5", "99999999999999999999"} {
		st := ToStatus(&Error{Code: WalletBusy, Message: "busy", Metadata: map[string]string{RetryAfterKey: value}})

		_, _, retryAfter := FromStatus(st)

		if retryAfter != 0 {
			t.Errorf("retry_after_seconds %q: retryAfter = %v, want 0", value, retryAfter)
		}
	}
}

func TestErrorString(t *testing.T) {
	if got := New(NotFound, "wallet %s not found", "w-1").Error(); got != "not_found: wallet w-1 not found" {
		t.Errorf("Error() = %q", got)
	}

	withCause := Wrap(errors.New("no rows"), NotFound, "wallet not found")
	if got := withCause.Error(); got != "not_found: wallet not found: no rows" {
		t.Errorf("Error() = %q", got)
	}
}

// callInterceptor runs the interceptor around a handler that returns err and
// returns the log output and the error the client would get.
func callInterceptor(t *testing.T, handlerErr error) (string, error) {
	t.Helper()

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	info := &grpc.UnaryServerInfo{FullMethod: "/ledger.wallet.v1.WalletService/Debit"}

	_, err := UnaryServerInterceptor(logger)(context.Background(), "request", info,
		func(context.Context, any) (any, error) { return nil, handlerErr })

	return logs.String(), err
}

func TestInterceptorLogsOnlyInternal(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantLog bool
	}{
		{"domain error", New(InsufficientFunds, "insufficient funds"), false},
		{"unavailable", New(Unavailable, "try later").WithRetryAfter(time.Second), false},
		{"status error", status.Error(codes.NotFound, "gone"), false},
		{"canceled", context.Canceled, false},
		{"unknown error", errors.New("pgx: conn closed"), true},
		{"internal app error", Wrap(errors.New("pgx: conn closed"), Internal, "load"), true},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			logs, err := callInterceptor(t, test.err)

			if got, want := status.Code(err), ToStatus(test.err).Code(); got != want {
				t.Errorf("returned code = %v, want %v", got, want)
			}

			lines := strings.Count(logs, "\n")
			if !test.wantLog {
				if lines != 0 {
					t.Errorf("log lines = %d, want 0: %s", lines, logs)
				}
				return
			}

			if lines != 1 {
				t.Fatalf("log lines = %d, want 1: %s", lines, logs)
			}
			for _, want := range []string{`"level":"ERROR"`, `"method":"/ledger.wallet.v1.WalletService/Debit"`, "pgx: conn closed"} {
				if !strings.Contains(logs, want) {
					t.Errorf("log %s does not contain %s", logs, want)
				}
			}
		})
	}
}

func TestInterceptorPassesSuccess(t *testing.T) {
	logs, err := callInterceptor(t, nil)

	if err != nil {
		t.Errorf("err = %v, want nil", err)
	}
	if logs != "" {
		t.Errorf("logs = %q, want none", logs)
	}
}
