package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// RequestIDHeader is the gRPC metadata key (and HTTP header, case-insensitive)
// that carries the request id.
const RequestIDHeader = "x-request-id"

// maxRequestIDLength bounds client-supplied request ids.
const maxRequestIDLength = 128

type requestIDContextKey struct{}

// WithRequestID returns a copy of ctx that carries id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDContextKey{}, id)
}

// RequestID returns the request id in ctx, or "" when there is none.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDContextKey{}).(string)
	return id
}

// NewRequestID returns 16 random bytes as 32 lowercase hex characters.
func NewRequestID() string {
	var id [16]byte

	// crypto/rand.Read never returns an error since Go 1.24: it crashes
	// the program instead.
	_, _ = rand.Read(id[:])

	return hex.EncodeToString(id[:])
}

// ValidRequestID reports whether id is acceptable from a client: 1 to 128
// printable ASCII characters (0x20 to 0x7E).
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestIDLength {
		return false
	}

	for i := range len(id) {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}

	return true
}

// UnaryRequestID returns a gRPC server interceptor that takes the request id
// from the incoming metadata "x-request-id" when ValidRequestID accepts it,
// or makes a new one, stores it in the handler's context and sends it back as
// response header metadata "x-request-id".
func UnaryRequestID() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		id := incomingRequestID(ctx)
		if id == "" {
			id = NewRequestID()
		}

		// SetHeader fails when ctx has no gRPC server stream (a direct
		// call of the interceptor) or the headers were already sent. The
		// call still proceeds because the id is also in the logs.
		_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, id))

		return handler(WithRequestID(ctx, id), req)
	}
}

func incomingRequestID(ctx context.Context) string {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ""
	}

	values := md.Get(RequestIDHeader)
	if len(values) == 0 || !ValidRequestID(values[0]) {
		return ""
	}

	return values[0]
}

// UnaryLogging returns a gRPC server interceptor that logs each call when it
// ends with method, grpc_code, duration_ms and request_id, plus the status
// message as error for failed calls. OK calls log at info, Internal, Unknown
// and DataLoss at error, and every other code at warn.
func UnaryLogging(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()

		resp, err := handler(ctx, req)

		st := status.Convert(err)
		attrs := []slog.Attr{
			slog.String("method", info.FullMethod),
			slog.String("grpc_code", st.Code().String()),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String(RequestIDKey, RequestID(ctx)),
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", st.Message()))
		}

		logger.LogAttrs(ctx, levelForCode(st.Code()), "grpc call", attrs...)

		return resp, err
	}
}

func levelForCode(code codes.Code) slog.Level {
	switch code {
	case codes.OK:
		return slog.LevelInfo
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return slog.LevelError
	default:
		return slog.LevelWarn
	}
}
