package rest

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// accessLog logs every request once its response is written (error level for 5xx)
// and counts it by method and status. Paths are logged but not used as a
// metric attribute, because they contain ids.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	meter := otel.Meter("github.com/advancia-pay/ledger/gateway/internal/rest")
	duration, _ := meter.Float64Histogram("ledger.gateway.request.duration",
		metric.WithDescription("Time to answer a REST request."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)

		duration.Record(r.Context(), elapsed.Seconds(), metric.WithAttributes(
			attribute.String("method", r.Method),
			attribute.String("status", strconv.Itoa(rec.status))))
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		logger.Log(r.Context(), level, "http request",
			"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", float64(elapsed.Microseconds())/1000)
	})
}
