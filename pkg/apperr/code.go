package apperr

import (
	"net/http"

	"google.golang.org/grpc/codes"
)

// Code is a stable, client-visible error code. Clients match on it, so a
// published value must never change meaning.
type Code string

// The client-visible error codes. The table in codeTable maps each one to a
// gRPC code and an HTTP status.
const (
	InvalidRequest        Code = "invalid_request"
	IdempotencyKeyMissing Code = "idempotency_key_missing"
	Unauthenticated       Code = "unauthenticated"
	PermissionDenied      Code = "permission_denied"
	NotFound              Code = "not_found"
	IdempotencyKeyInUse   Code = "idempotency_key_in_use"
	WalletBusy            Code = "wallet_busy"
	IdempotencyKeyReused  Code = "idempotency_key_reused"
	InsufficientFunds     Code = "insufficient_funds"
	CurrencyMismatch      Code = "currency_mismatch"
	RefundExceedsPayment  Code = "refund_exceeds_payment"
	// PaymentNotRefundable: the payment has not succeeded, or is disputed.
	PaymentNotRefundable Code = "payment_not_refundable"
	// HoldNotActive: the hold was already captured, voided or has expired.
	HoldNotActive Code = "hold_not_active"
	// ReversalExceedsTransaction: the reversals would sum to more than the
	// reversed transaction.
	ReversalExceedsTransaction Code = "reversal_exceeds_transaction"
	RateLimited                Code = "rate_limited"
	Unavailable                Code = "unavailable"
	Internal                   Code = "internal"
)

// codeInfo is one row of the code table.
type codeInfo struct {
	grpc codes.Code
	http int

	// retryable codes tell the client to retry later, so the gateway sends
	// a Retry-After header when the error carries a delay.
	retryable bool

	// defaultMessage is shown when a status carries no message of its own
	// that is known to be safe for clients.
	defaultMessage string
}

// codeTable is the only place that maps codes to transport codes.
var codeTable = map[Code]codeInfo{
	InvalidRequest:             {codes.InvalidArgument, http.StatusBadRequest, false, "invalid request"},
	IdempotencyKeyMissing:      {codes.InvalidArgument, http.StatusBadRequest, false, "idempotency key is missing"},
	Unauthenticated:            {codes.Unauthenticated, http.StatusUnauthorized, false, "unauthenticated"},
	PermissionDenied:           {codes.PermissionDenied, http.StatusForbidden, false, "permission denied"},
	NotFound:                   {codes.NotFound, http.StatusNotFound, false, "not found"},
	IdempotencyKeyInUse:        {codes.Aborted, http.StatusConflict, true, "a request with this idempotency key is in progress"},
	WalletBusy:                 {codes.Aborted, http.StatusConflict, true, "wallet is busy"},
	IdempotencyKeyReused:       {codes.FailedPrecondition, http.StatusUnprocessableEntity, false, "idempotency key was used with a different request"},
	InsufficientFunds:          {codes.FailedPrecondition, http.StatusUnprocessableEntity, false, "insufficient funds"},
	CurrencyMismatch:           {codes.FailedPrecondition, http.StatusUnprocessableEntity, false, "currency mismatch"},
	RefundExceedsPayment:       {codes.FailedPrecondition, http.StatusUnprocessableEntity, false, "refund exceeds payment"},
	PaymentNotRefundable:       {codes.FailedPrecondition, http.StatusUnprocessableEntity, false, "payment cannot be refunded"},
	HoldNotActive:              {codes.FailedPrecondition, http.StatusUnprocessableEntity, false, "hold is not active"},
	ReversalExceedsTransaction: {codes.FailedPrecondition, http.StatusUnprocessableEntity, false, "reversal exceeds transaction"},
	RateLimited:                {codes.ResourceExhausted, http.StatusTooManyRequests, true, "rate limit exceeded"},
	Unavailable:                {codes.Unavailable, http.StatusServiceUnavailable, true, "service unavailable"},
	Internal:                   {codes.Internal, http.StatusInternalServerError, false, internalMessage},
}

// internalMessage is the only message clients see for internal errors.
const internalMessage = "internal error"

// Codes returns every defined code in a fixed order.
func Codes() []Code {
	return []Code{
		InvalidRequest, IdempotencyKeyMissing, Unauthenticated, PermissionDenied,
		NotFound, IdempotencyKeyInUse, WalletBusy, IdempotencyKeyReused,
		InsufficientFunds, CurrencyMismatch, RefundExceedsPayment, PaymentNotRefundable, HoldNotActive,
		ReversalExceedsTransaction, RateLimited,
		Unavailable, Internal,
	}
}

// info returns the table row of c, or the Internal row for an unknown code.
func (c Code) info() codeInfo {
	row, ok := codeTable[c]
	if !ok {
		return codeTable[Internal]
	}

	return row
}

// Known reports whether c is one of the defined codes.
func (c Code) Known() bool {
	_, ok := codeTable[c]
	return ok
}

// GRPCCode returns the gRPC code of c. Unknown codes return codes.Internal.
func (c Code) GRPCCode() codes.Code {
	return c.info().grpc
}

// HTTPStatus returns the HTTP status of c. Unknown codes return 500.
func (c Code) HTTPStatus() int {
	return c.info().http
}

// Retryable reports whether a client may retry the same request later
// (the gateway sends Retry-After for these codes). Unknown codes are not
// retryable.
func (c Code) Retryable() bool {
	return c.info().retryable
}

// fromGRPCCode returns the closest table code for a status that carries no
// ErrorInfo, for example one created by the gRPC runtime itself.
func fromGRPCCode(c codes.Code) Code {
	switch c {
	case codes.InvalidArgument:
		return InvalidRequest
	case codes.Unauthenticated:
		return Unauthenticated
	case codes.PermissionDenied:
		return PermissionDenied
	case codes.NotFound:
		return NotFound
	case codes.ResourceExhausted:
		return RateLimited
	case codes.Unavailable, codes.DeadlineExceeded:
		return Unavailable
	default:
		return Internal
	}
}
