package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync/atomic"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"google.golang.org/grpc/metadata"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	"github.com/advancia-pay/ledger/pkg/telemetry"
)

// transport is the gqlgen transport for POST requests with a JSON body: one
// operation as an object, or up to maxOperations as an array. It checks
// every limit of the request before any operation executes, and then runs
// the operations one after another.
type transport struct {
	// limiter charges mutations; nil leaves them unlimited.
	limiter *mutationLimiter
	logger  *slog.Logger
}

var _ gql.Transport = (*transport)(nil)

// Supports accepts every request, so that Do rejects wrong methods and
// content types with a GraphQL error body.
func (*transport) Supports(*http.Request) bool { return true }

// Do serves one HTTP request.
func (t *transport) Do(w http.ResponseWriter, r *http.Request, exec gql.GraphExecutor) {
	id, ok := auth.FromContext(r.Context())
	if !ok {
		reject(http.StatusUnauthorized, string(apperr.Unauthenticated), "a bearer token is required in the Authorization header").write(w)
		return
	}

	batch, batched, rej := readRequest(r)
	if rej != nil {
		rej.write(w)
		return
	}

	ops, rej := prepare(r.Context(), exec, batch)
	if rej != nil {
		rej.write(w)
		return
	}

	key, rej := t.admitMutations(r, id, ops)
	if rej != nil {
		rej.write(w)
		return
	}

	state := &requestState{}
	ctx := context.WithValue(r.Context(), requestStateKey{}, state)
	responses := make([]*gql.Response, len(ops))
	for i, op := range ops {
		responses[i] = execute(outgoingContext(ctx, r, op, key), exec, op)
	}

	if state.replayed.Load() {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if batched {
		writeJSON(w, http.StatusOK, responses)
		return
	}
	writeJSON(w, http.StatusOK, responses[0])
}

// readRequest checks the method, content type, body size, batch size and
// token count, and decodes the operations. batched reports whether the body
// was a JSON array.
func readRequest(r *http.Request) (batch []gql.RawParams, batched bool, rej *rejection) {
	if r.Method != http.MethodPost {
		return nil, false, reject(http.StatusMethodNotAllowed, string(apperr.InvalidRequest), "%s is not allowed on /graphql; use POST", r.Method)
	}
	if mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mediaType != "application/json" {
		return nil, false, reject(http.StatusUnsupportedMediaType, string(apperr.InvalidRequest), "the Content-Type must be application/json")
	}

	body, rej := readBody(r)
	if rej != nil {
		return nil, false, rej
	}
	batch, batched, rej = decodeOperations(body)
	if rej != nil {
		return nil, false, rej
	}

	tokens := 0
	for _, params := range batch {
		tokens += countTokens(params.Query, maxTokens-tokens)
		if tokens > maxTokens {
			return nil, false, reject(http.StatusBadRequest, codeTooManyTokens, "the request has more than %d tokens", maxTokens)
		}
	}
	return batch, batched, nil
}

func readBody(r *http.Request) ([]byte, *rejection) {
	tooLarge := reject(http.StatusBadRequest, codeRequestTooLarge, "the request body is larger than %d bytes", maxBodyBytes)
	if r.ContentLength > maxBodyBytes {
		return nil, tooLarge
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	var maxBytesErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxBytesErr):
		// The gateway's own body limit is lower than this package's.
		return nil, tooLarge
	case err != nil:
		return nil, reject(http.StatusBadRequest, string(apperr.InvalidRequest), "the request body could not be read")
	case len(body) > maxBodyBytes:
		return nil, tooLarge
	}
	return body, nil
}

// decodeOperations decodes one operation object or an array of 1 to
// maxOperations of them. Numbers in variables stay json.Number, so that
// integers keep every digit.
func decodeOperations(body []byte) ([]gql.RawParams, bool, *rejection) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	batched := len(trimmed) > 0 && trimmed[0] == '['

	var batch []gql.RawParams
	var err error
	if batched {
		err = decodeJSON(trimmed, &batch)
	} else {
		var params gql.RawParams
		err = decodeJSON(trimmed, &params)
		batch = []gql.RawParams{params}
	}

	switch {
	case err != nil:
		return nil, false, reject(http.StatusBadRequest, string(apperr.InvalidRequest), "the body must be a JSON object with a query, or an array of them")
	case len(batch) == 0:
		return nil, false, reject(http.StatusBadRequest, string(apperr.InvalidRequest), "the batch is empty")
	case len(batch) > maxOperations:
		return nil, false, reject(http.StatusBadRequest, codeTooManyOperations, "the request has %d operations, the limit is %d", len(batch), maxOperations)
	}
	return batch, batched, nil
}

func decodeJSON(data []byte, v any) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	if err := decoder.Decode(v); err != nil {
		return err
	}
	if decoder.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// prepare parses, validates and checks each operation, stopping at the
// first one that fails.
func prepare(ctx context.Context, exec gql.GraphExecutor, batch []gql.RawParams) ([]*gql.OperationContext, *rejection) {
	ops := make([]*gql.OperationContext, 0, len(batch))
	for i := range batch {
		batch[i].ReadTime = gql.TraceTiming{Start: gql.Now(), End: gql.Now()}
		op, errs := exec.CreateOperationContext(ctx, &batch[i])
		if len(errs) > 0 {
			return nil, rejectInvalid(errs)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// admitMutations enforces the rules for requests with mutations: at most
// one mutation field, a valid Idempotency-Key header and room in the rate
// limit. It returns the key, or "" for a request without mutations.
func (t *transport) admitMutations(r *http.Request, id auth.Identity, ops []*gql.OperationContext) (string, *rejection) {
	count := 0
	for _, op := range ops {
		count += countMutationFields(op)
	}
	switch {
	case count == 0:
		return "", nil
	case count > 1:
		return "", reject(http.StatusBadRequest, codeTooManyMutations, "the request has %d mutation fields; send one per request, so that its Idempotency-Key names one operation", count)
	}

	key, rej := idempotencyKey(r.Header)
	if rej != nil {
		return "", rej
	}
	if t.limiter != nil {
		if rej := t.limiter.charge(r, id); rej != nil {
			return "", rej
		}
	}
	return key, nil
}

// countMutationFields returns the root fields a mutation operation
// executes, after merging fields with one response name and applying
// @skip and @include; __typename does not count.
func countMutationFields(op *gql.OperationContext) int {
	if op.Operation.Operation != ast.Mutation {
		return 0
	}
	count := 0
	for _, field := range gql.CollectFields(op, op.Operation.SelectionSet, []string{"Mutation"}) {
		if field.Name != "__typename" {
			count++
		}
	}
	return count
}

// idempotencyKey returns the request's one valid Idempotency-Key header.
func idempotencyKey(header http.Header) (string, *rejection) {
	values := header.Values("Idempotency-Key")
	if len(values) > 1 {
		return "", reject(http.StatusBadRequest, string(apperr.InvalidRequest), "send one Idempotency-Key header, not several")
	}
	key := ""
	if len(values) == 1 {
		key = values[0]
	}

	switch err := idempotency.ValidateKey(key); {
	case errors.Is(err, idempotency.ErrMissing):
		return "", reject(http.StatusBadRequest, string(apperr.IdempotencyKeyMissing), "mutations need an Idempotency-Key header")
	case err != nil:
		return "", reject(http.StatusBadRequest, string(apperr.InvalidRequest), "%s", err.Error())
	}
	return key, nil
}

// outgoingContext adds the gRPC metadata the services read: the caller's
// Authorization header, the request id and, for a mutation, the
// idempotency key.
func outgoingContext(ctx context.Context, r *http.Request, op *gql.OperationContext, key string) context.Context {
	md := metadata.MD{}
	if authorization := r.Header.Get("Authorization"); authorization != "" {
		md.Set("authorization", authorization)
	}
	if requestID := telemetry.RequestID(ctx); requestID != "" {
		md.Set(telemetry.RequestIDHeader, requestID)
	}
	if key != "" && op.Operation.Operation == ast.Mutation {
		md.Set(idempotency.KeyHeader, key)
	}
	return metadata.NewOutgoingContext(ctx, md)
}

func execute(ctx context.Context, exec gql.GraphExecutor, op *gql.OperationContext) *gql.Response {
	handle, ctx := exec.DispatchOperation(ctx, op)
	return handle(ctx)
}

// requestState collects what the resolvers of one HTTP request learn about
// the whole response.
type requestState struct {
	// replayed is set when a service returned the stored outcome of an
	// earlier request with the same idempotency key.
	replayed atomic.Bool
}

type requestStateKey struct{}

// markReplayed records that the response replays a stored outcome.
func markReplayed(ctx context.Context) {
	if state, ok := ctx.Value(requestStateKey{}).(*requestState); ok {
		state.replayed.Store(true)
	}
}
