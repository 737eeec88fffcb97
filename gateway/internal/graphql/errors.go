package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"google.golang.org/grpc/status"

	"github.com/advancia-pay/ledger/pkg/apperr"
)

// Codes in errors[].extensions.code of requests rejected before execution,
// besides the apperr codes.
const (
	codeRequestTooLarge       = "request_too_large"
	codeTooManyOperations     = "too_many_operations"
	codeTooManyTokens         = "too_many_tokens"
	codeQueryTooDeep          = "query_too_deep"
	codeQueryTooComplex       = "query_too_complex"
	codeTooManyAliases        = "too_many_aliases"
	codeTooManyMutations      = "too_many_mutations"
	codeIntrospectionDisabled = "introspection_disabled"
)

// ownCodes are the codes that rejected requests keep; gqlgen's own parse and
// validation codes become invalid_request.
var ownCodes = map[string]bool{
	codeRequestTooLarge: true, codeTooManyOperations: true, codeTooManyTokens: true,
	codeQueryTooDeep: true, codeQueryTooComplex: true, codeTooManyAliases: true,
	codeTooManyMutations: true, codeIntrospectionDisabled: true,
}

// rejection is a request refused before execution.
type rejection struct {
	status     int
	errors     gqlerror.List
	retryAfter time.Duration
}

func reject(httpStatus int, code, format string, args ...any) *rejection {
	err := &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
	return &rejection{status: httpStatus, errors: gqlerror.List{err}}
}

// rejectInvalid turns the errors of gqlgen's parsing, validation and
// operation checks into a 400 rejection. Codes of the limits are kept,
// every other code becomes invalid_request, and field suggestions ("Did
// you mean ...?") are cut from the messages so that they do not reveal
// the schema.
func rejectInvalid(list gqlerror.List) *rejection {
	out := make(gqlerror.List, 0, len(list))
	for _, err := range list {
		code, _ := err.Extensions["code"].(string)
		if !ownCodes[code] {
			code = string(apperr.InvalidRequest)
		}
		out = append(out, &gqlerror.Error{
			Message:    withoutSuggestion(err.Message),
			Locations:  err.Locations,
			Extensions: map[string]any{"code": code},
		})
	}
	return &rejection{status: http.StatusBadRequest, errors: out}
}

// withoutSuggestion cuts a "Did you mean ...?" sentence, which the
// validation rules of gqlparser append to some messages.
func withoutSuggestion(message string) string {
	if i := strings.Index(message, " Did you mean"); i >= 0 {
		return message[:i]
	}
	return message
}

// write sends the rejection as {"errors": [...]}, with Retry-After in whole
// seconds, rounded up, when retryAfter is positive.
func (r *rejection) write(w http.ResponseWriter) {
	if r.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(r.retryAfter), 10))
	}
	writeJSON(w, r.status, struct {
		Errors gqlerror.List `json:"errors"`
	}{r.errors})
}

func writeJSON(w http.ResponseWriter, httpStatus int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		httpStatus = http.StatusInternalServerError
		data = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"internal"}}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(data)
}

func ceilSeconds(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}

// presentError turns a field's error into a GraphQL error whose
// extensions.code is an apperr code. A gRPC status keeps the service's
// code, and gqlgen's errors about argument values become invalid_request.
// Anything else is logged and becomes internal, with the message "internal
// error".
func presentError(logger *slog.Logger) gql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		code, message, retryAfter := classify(err)
		if code == apperr.Internal {
			logger.ErrorContext(ctx, "graphql field failed", "path", gql.GetPath(ctx).String(), "error", err)
		}

		presented := &gqlerror.Error{Message: message, Path: gql.GetPath(ctx), Extensions: map[string]any{"code": string(code)}}
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) {
			presented.Locations = gqlErr.Locations
			if len(gqlErr.Path) > 0 {
				presented.Path = gqlErr.Path
			}
		}
		if retryAfter > 0 {
			presented.Extensions["retryAfterSeconds"] = ceilSeconds(retryAfter)
		}
		return presented
	}
}

// classify returns the client-visible code, message and retry delay of a
// field's error.
func classify(err error) (apperr.Code, string, time.Duration) {
	var appErr *apperr.Error
	if errors.As(err, &appErr) {
		if appErr.Code == apperr.Internal || !appErr.Code.Known() {
			return apperr.Internal, "internal error", 0
		}
		return appErr.Code, appErr.Message, appErr.RetryAfter
	}

	var carrier interface{ GRPCStatus() *status.Status }
	if errors.As(err, &carrier) {
		return apperr.FromStatus(carrier.GRPCStatus())
	}

	// Resolvers return apperr or gRPC errors, so a GraphQL error here comes
	// from gqlgen coercing an argument value the client sent.
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) {
		return apperr.InvalidRequest, withoutSuggestion(gqlErr.Message), 0
	}
	return apperr.Internal, "internal error", 0
}

// recoverPanic logs a resolver's panic and turns it into an internal error.
func recoverPanic(logger *slog.Logger) gql.RecoverFunc {
	return func(ctx context.Context, recovered any) error {
		logger.ErrorContext(ctx, "graphql resolver panicked", "path", gql.GetPath(ctx).String(), "panic", fmt.Sprint(recovered))
		return apperr.New(apperr.Internal, "internal error")
	}
}
