package apperr

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RetryAfterKey is the ErrorInfo metadata key that carries Error.RetryAfter
// in whole seconds.
const RetryAfterKey = "retry_after_seconds"

// ToStatus converts err into a status for clients:
//   - an *Error anywhere in the chain becomes its code's gRPC code with its
//     Message and an ErrorInfo (reason = code, domain = Domain, its Metadata
//     plus RetryAfterKey when RetryAfter > 0);
//   - an existing gRPC status error passes through unchanged;
//   - context.Canceled becomes codes.Canceled and context.DeadlineExceeded
//     becomes codes.DeadlineExceeded;
//   - anything else becomes codes.Internal with the message "internal error".
//
// A nil err returns an OK status.
func ToStatus(err error) *status.Status {
	if err == nil {
		return status.New(codes.OK, "")
	}

	var appErr *Error
	if errors.As(err, &appErr) {
		return appErr.status()
	}

	if st, ok := grpcStatusOf(err); ok {
		return st
	}

	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded")
	default:
		return status.New(codes.Internal, internalMessage)
	}
}

// status builds the client status of e. An Internal code always gets the
// generic message because internal messages are written for operators.
func (e *Error) status() *status.Status {
	message := e.Message
	if e.Code.GRPCCode() == codes.Internal {
		message = internalMessage
	}

	st := status.New(e.Code.GRPCCode(), message)

	withInfo, err := st.WithDetails(e.errorInfo())
	if err != nil {
		// WithDetails fails only for an OK status or a detail that cannot
		// be marshaled, and neither can happen here.
		return st
	}

	return withInfo
}

func (e *Error) errorInfo() *errdetails.ErrorInfo {
	metadata := make(map[string]string, len(e.Metadata)+1)
	for key, value := range e.Metadata {
		metadata[key] = value
	}

	if e.RetryAfter > 0 {
		seconds := int64(math.Ceil(e.RetryAfter.Seconds()))
		metadata[RetryAfterKey] = strconv.FormatInt(seconds, 10)
	}

	return &errdetails.ErrorInfo{Reason: string(e.Code), Domain: Domain, Metadata: metadata}
}

// FromStatus reads a status received from a service. When st carries an
// ErrorInfo of Domain with a known reason, code is that reason, detail is the
// status message (or "internal error" for Internal) and retryAfter comes from
// its RetryAfterKey metadata. Without one, code is the closest table code for
// the gRPC code (InvalidArgument, Unauthenticated, PermissionDenied, NotFound,
// ResourceExhausted, Unavailable and DeadlineExceeded have one, everything
// else is Internal) and detail is that code's generic message, because such
// messages come from the gRPC runtime and may name internal addresses.
// A nil or OK st returns Internal, because a caller only asks about failures.
func FromStatus(st *status.Status) (code Code, detail string, retryAfter time.Duration) {
	if st == nil || st.Code() == codes.OK {
		return Internal, internalMessage, 0
	}

	info := findErrorInfo(st)
	if info == nil {
		code = fromGRPCCode(st.Code())
		return code, code.info().defaultMessage, 0
	}

	code = Code(info.GetReason())
	detail = st.Message()
	if code == Internal {
		detail = internalMessage
	}

	return code, detail, parseRetryAfter(info.GetMetadata()[RetryAfterKey])
}

// findErrorInfo returns the first ErrorInfo of Domain with a known reason.
func findErrorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, detail := range st.Details() {
		info, ok := detail.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != Domain {
			continue
		}

		if Code(info.GetReason()).Known() {
			return info
		}
	}

	return nil
}

// parseRetryAfter returns the delay in value, a count of whole seconds.
// Missing, malformed or non-positive values return zero.
func parseRetryAfter(value string) time.Duration {
	seconds, err := strconv.ParseInt(value, 10, 64)
	if err != nil || seconds <= 0 || seconds > math.MaxInt64/int64(time.Second) {
		return 0
	}

	return time.Duration(seconds) * time.Second
}

// UnaryServerInterceptor converts every handler error with ToStatus. It logs
// at error level only the errors that became codes.Internal, with the cause,
// the method and (through logger's handler) the request id of ctx. Other
// errors are not logged here. It must run inside the logging interceptor so
// the logged gRPC code is the converted one.
func UnaryServerInterceptor(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err == nil {
			return resp, nil
		}

		st := ToStatus(err)
		if st.Code() == codes.Internal {
			logger.ErrorContext(ctx, "internal error in handler",
				slog.String("method", info.FullMethod),
				slog.Any("error", err))
		}

		return nil, st.Err()
	}
}
