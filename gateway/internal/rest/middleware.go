package rest

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/telemetry"
)

// maxRequestIDLength bounds a client-supplied X-Request-Id.
const maxRequestIDLength = 128

// maxAuthorizationBytes bounds the Authorization header, which is
// rejected before any parsing when longer.
const maxAuthorizationBytes = 8 << 10

// withSecurityHeaders sets headers that keep browsers from sniffing,
// framing or caching API responses, on every response.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// withRequestID keeps a sane client X-Request-Id or makes one, stores it in
// the context and echoes it in the response.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = telemetry.NewRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(telemetry.WithRequestID(r.Context(), id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// limitBody rejects bodies larger than limit bytes while they are read.
func limitBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeProblem(w, r, apperr.InvalidRequest, fmt.Sprintf("request body is %d bytes, the limit is %d", r.ContentLength, limit), 0)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// authenticate verifies the bearer token before any service is called and
// stores the identity in the request context. The token travels on
// unchanged in the authorization metadata, and each service verifies it
// again. Failed attempts are counted per IP when th is set, and a caller
// over that limit gets 429 instead of 401.
func authenticate(v *auth.Verifier, th *throttle, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values("Authorization")
		if len(values) == 1 && len(values[0]) > maxAuthorizationBytes {
			unauthenticated(w, r, th, "the Authorization header is longer than 8 KiB")
			return
		}
		if len(values) != 1 || auth.BearerToken(values[0]) == "" {
			unauthenticated(w, r, th, "a bearer token is required in the Authorization header")
			return
		}
		id, err := v.Verify(auth.BearerToken(values[0]))
		if err != nil {
			unauthenticated(w, r, th, "the bearer token is invalid or expired")
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), id)))
	})
}

func unauthenticated(w http.ResponseWriter, r *http.Request, th *throttle, detail string) {
	if th != nil {
		if over, wait := th.failedAuthentication(r); over {
			writeProblem(w, r, apperr.RateLimited, "too many failed authentication attempts; retry after the Retry-After delay", wait)
			return
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="advancia-ledger"`)
	writeProblem(w, r, apperr.Unauthenticated, detail, 0)
}

// withTimeout bounds how long a request may wait on the services.
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
