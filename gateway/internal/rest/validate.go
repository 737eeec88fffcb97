package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/idempotency"
)

// integerFields are the int64 request fields. The proto3 JSON mapping also
// accepts "6.0" and "1e2" for them, which a money API must reject rather
// than reinterpret.
var integerFields = map[string]string{
	"amount":             `amount must be a whole number of minor units, written as a string such as "1050"`,
	"expires_in_seconds": "expires_in_seconds must be a whole number of seconds, such as 300",
}

var wholeNumber = regexp.MustCompile(`^-?[0-9]+$`)

// validateBody rejects a JSON body whose integer fields are not written as
// whole numbers. Bodies that are not JSON objects pass through, so that the
// REST mapping reports them.
func validateBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Method == http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeProblem(w, r, apperr.InvalidRequest, "request body is larger than the limit or unreadable", 0)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))

		if field, ok := nonIntegerField(body); !ok {
			writeProblem(w, r, apperr.InvalidRequest, integerFields[field], 0)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// nonIntegerField returns the first integer field of body that is not a
// whole number, and false; or "", true.
func nonIntegerField(body []byte) (string, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return "", true
	}
	for name := range integerFields {
		raw, present := fields[name]
		if !present || string(raw) == "null" {
			continue
		}
		var text string
		if json.Unmarshal(raw, &text) != nil {
			text = string(raw)
		}
		if !wholeNumber.MatchString(text) {
			return name, false
		}
	}
	return "", true
}

// validateIdempotencyKey rejects a malformed Idempotency-Key before the
// REST mapping drops it as invalid gRPC metadata, which would make it look
// missing.
func validateIdempotencyKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values("Idempotency-Key")
		if len(values) > 1 {
			writeProblem(w, r, apperr.InvalidRequest, "send one Idempotency-Key header, not several", 0)
			return
		}
		if len(values) == 1 {
			switch err := idempotency.ValidateKey(values[0]); {
			case errors.Is(err, idempotency.ErrMissing):
				writeProblem(w, r, apperr.IdempotencyKeyMissing, err.Error(), 0)
				return
			case err != nil:
				writeProblem(w, r, apperr.InvalidRequest, err.Error(), 0)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
