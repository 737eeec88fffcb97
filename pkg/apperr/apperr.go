// Package apperr defines client-visible domain errors with stable codes and
// converts them to and from gRPC status errors.
//
// Services return *Error values from their handlers. UnaryServerInterceptor
// converts them with ToStatus into a status that carries a
// google.rpc.ErrorInfo whose reason is the Code and whose domain is Domain.
// The REST gateway reads them back with FromStatus. Any other error becomes
// codes.Internal with the message "internal error", so causes never reach
// clients.
package apperr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/status"
)

// Domain is the ErrorInfo domain of every status built by ToStatus.
const Domain = "ledger.advancia-pay"

// Error is a domain error that is safe to show to clients.
type Error struct {
	// Code is the stable client-visible code.
	Code Code

	// Message is shown to clients, so it must not contain secrets or
	// internal details.
	Message string

	// RetryAfter is the delay a client should wait before retrying. Zero
	// means no hint. ToStatus sends it rounded up to whole seconds.
	RetryAfter time.Duration

	// Metadata is sent to clients in ErrorInfo.metadata.
	Metadata map[string]string

	// Err is the cause. It is logged for internal errors and never sent to
	// clients.
	Err error
}

// New returns an *Error with the given code and a client-safe message
// formatted with fmt.Sprintf.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given code, a client-safe message formatted
// with fmt.Sprintf and err as its cause. The cause is never sent to clients.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Error returns "code: message", followed by ": cause" when there is a cause.
// The result is meant for logs, not for clients.
func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}

	return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
}

// Unwrap returns the cause, which may be nil.
func (e *Error) Unwrap() error {
	return e.Err
}

// WithRetryAfter sets RetryAfter on e and returns e. It modifies e in place,
// so it must not be called on an *Error shared between goroutines.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	e.RetryAfter = d
	return e
}

// CodeOf returns the code of err. An *Error anywhere in the chain returns its
// code, a gRPC status error returns the code FromStatus derives, and
// context.Canceled or context.DeadlineExceeded return Unavailable. Any other
// error, including nil wrapped in nothing, returns Internal.
//
// ToStatus does not use CodeOf for context errors: it maps them to
// codes.Canceled and codes.DeadlineExceeded directly because the table has no
// client-visible code for them.
func CodeOf(err error) Code {
	var appErr *Error
	if errors.As(err, &appErr) {
		return appErr.Code
	}

	if st, ok := grpcStatusOf(err); ok {
		code, _, _ := FromStatus(st)
		return code
	}

	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Unavailable
	}

	return Internal
}

// grpcStatusOf returns the status of the first error in err's chain that
// carries one, without rewriting its message the way status.FromError does
// for wrapped errors.
func grpcStatusOf(err error) (*status.Status, bool) {
	var carrier interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &carrier) {
		return nil, false
	}

	st := carrier.GRPCStatus()
	if st == nil {
		return nil, false
	}

	return st, true
}
