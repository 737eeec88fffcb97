package pgtx

import (
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes from PostgreSQL's errcodes table.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeUniqueViolation      = "23505"
	codeCheckViolation       = "23514"
)

// IsRetryable reports whether any *pgconn.PgError in err's tree, including
// errors joined with errors.Join, has SQLSTATE 40001 (serialization failure)
// or 40P01 (deadlock detected).
func IsRetryable(err error) bool {
	return retryableState(err) != ""
}

// retryableState returns the first retryable SQLSTATE in a depth-first walk
// of err's tree, or "" if there is none.
func retryableState(err error) string {
	if pgErr, ok := err.(*pgconn.PgError); ok {
		if pgErr.Code == codeSerializationFailure || pgErr.Code == codeDeadlockDetected {
			return pgErr.Code
		}
	}

	switch wrapped := err.(type) {
	case interface{ Unwrap() error }:
		return retryableState(wrapped.Unwrap())
	case interface{ Unwrap() []error }:
		for _, inner := range wrapped.Unwrap() {
			if code := retryableState(inner); code != "" {
				return code
			}
		}
	}

	return ""
}

// IsUniqueViolation reports whether err wraps a *pgconn.PgError with SQLSTATE
// 23505 on the named constraint. An empty constraint matches any constraint.
func IsUniqueViolation(err error, constraint string) bool {
	return isViolation(err, codeUniqueViolation, constraint)
}

// IsCheckViolation reports whether err wraps a *pgconn.PgError with SQLSTATE
// 23514 on the named constraint. An empty constraint matches any constraint.
func IsCheckViolation(err error, constraint string) bool {
	return isViolation(err, codeCheckViolation, constraint)
}

func isViolation(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code {
		return false
	}

	return constraint == "" || pgErr.ConstraintName == constraint
}

// IsConnectionError reports whether err means PostgreSQL could not be
// reached or the connection broke, as opposed to an error the server
// returned, so that callers can respond with "unavailable, retry".
func IsConnectionError(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.Timeout(err)
}
