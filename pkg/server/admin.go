package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// readyTimeout bounds one call of Options.Ready.
const readyTimeout = 2 * time.Second

// DependencyError marks a readiness failure of a named dependency. /readyz
// shows only Name, never Err, because Err may contain addresses or
// credentials.
type DependencyError struct {
	// Name is a short public name such as "postgres" or "redis".
	Name string

	// Err is the cause, which is only logged.
	Err error
}

// NotReady returns a *DependencyError for a Ready func to return.
func NotReady(name string, err error) error {
	return &DependencyError{Name: name, Err: err}
}

// Error returns the name and the cause.
func (e *DependencyError) Error() string {
	return e.Name + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *DependencyError) Unwrap() error {
	return e.Err
}

func (rt *runtime) adminHandler() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", rt.serveReady)

	if rt.opts.Metrics != nil {
		mux.Handle("GET /metrics", rt.opts.Metrics)
	}

	return mux
}

// serveReady returns 200 "ready" when Ready returns nil and 503 otherwise.
// The response names at most the failed dependency, and the full error is
// logged at warn level.
func (rt *runtime) serveReady(w http.ResponseWriter, r *http.Request) {
	if rt.shuttingDown.Load() {
		writeText(w, http.StatusServiceUnavailable, "not ready: shutting down")
		return
	}

	if rt.opts.Ready == nil {
		writeText(w, http.StatusOK, "ready")
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()

	err := rt.opts.Ready(ctx)
	if err == nil {
		writeText(w, http.StatusOK, "ready")
		return
	}

	rt.opts.Logger.WarnContext(r.Context(), "readiness check failed",
		slog.String("server", rt.opts.Name),
		slog.Any("error", err))

	var dependencyErr *DependencyError
	if errors.As(err, &dependencyErr) {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+dependencyErr.Name)
		return
	}

	writeText(w, http.StatusServiceUnavailable, "not ready")
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)

	// A failed write means the client has gone, and there is no one left
	// to tell.
	_, _ = w.Write([]byte(text + "\n"))
}

// AdminHandler returns /healthz, /readyz and /metrics for a process that
// serves HTTP rather than gRPC, such as the REST gateway; Run serves the
// same endpoints itself. Only Name, Logger, Metrics and Ready of opts are
// used.
func AdminHandler(opts Options) http.Handler {
	rt := &runtime{opts: withDefaults(opts)}
	return rt.adminHandler()
}
