package rest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/telemetry"
)

// Problem is an RFC 9457 problem details body, extended with the stable
// machine code and the request id.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id,omitempty"`
}

// writeProblem sends code with detail as application/problem+json, with
// Retry-After (whole seconds, rounded up) when retryAfter is positive.
func writeProblem(w http.ResponseWriter, r *http.Request, code apperr.Code, detail string, retryAfter time.Duration) {
	status := code.HTTPStatus()
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(retryAfter), 10))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)

	body := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Code:      string(code),
		Detail:    detail,
		RequestID: telemetry.RequestID(r.Context()),
	}
	if err := json.NewEncoder(w).Encode(body); err != nil {
		slog.DebugContext(r.Context(), "write problem response failed", "error", err)
	}
}

// errorHandler is grpc-gateway's error hook: it turns a gRPC status from a
// service, or a gateway-side failure such as a malformed body, into a
// problem response. Services already hide internal causes; the detail of
// an internal error is replaced again here in case one slipped through.
func errorHandler(logger *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		st := status.Convert(err)
		code, detail, retryAfter := apperr.FromStatus(st)
		if code == apperr.InvalidRequest && len(st.Details()) == 0 {
			// Raised by the gateway itself while decoding the body or path,
			// such as "6.5" for an int64 amount: the message names the field.
			detail = "malformed request: " + st.Message()
		}
		if code == apperr.Internal {
			logger.ErrorContext(ctx, "request failed", "method", r.Method, "path", r.URL.Path, "grpc_code", st.Code().String(), "error", st.Message())
		}
		if replayed(ctx) {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		writeProblem(w, r, code, detail, retryAfter)
	}
}

// replayed reports whether the service marked its error response as the
// replay of a stored outcome.
func replayed(ctx context.Context) bool {
	md, ok := runtime.ServerMetadataFromContext(ctx)
	if !ok {
		return false
	}
	return len(md.HeaderMD.Get("idempotent-replayed")) > 0 || len(md.TrailerMD.Get("idempotent-replayed")) > 0
}

// routingErrorHandler writes the problem response for unknown paths and
// methods.
func routingErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_ = json.NewEncoder(w).Encode(Problem{
			Type: "about:blank", Title: http.StatusText(http.StatusMethodNotAllowed), Status: http.StatusMethodNotAllowed,
			Code: string(apperr.InvalidRequest), Detail: r.Method + " is not allowed on " + r.URL.Path,
			RequestID: telemetry.RequestID(r.Context()),
		})
	case http.StatusNotFound:
		writeProblem(w, r, apperr.NotFound, "no route for "+r.Method+" "+r.URL.Path, 0)
	default:
		writeProblem(w, r, apperr.InvalidRequest, http.StatusText(httpStatus), 0)
	}
}
