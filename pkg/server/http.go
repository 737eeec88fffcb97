package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeHTTP serves h on addr until ctx is done or the server fails, then
// shuts down within timeout (zero means 15 seconds), closing connections
// still open when it expires. listening, when set, is called with the bound
// address before serving. A nil logger means slog.Default(). It returns nil
// after a graceful shutdown caused by ctx, and otherwise the listen, serve or
// shutdown error.
func ServeHTTP(ctx context.Context, name, addr string, h http.Handler, timeout time.Duration,
	logger *slog.Logger, listening func(net.Addr),
) error {
	if logger == nil {
		logger = slog.Default()
	}

	if timeout <= 0 {
		timeout = defaultShutdownTimeout
	}

	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server %s: listen http on %s: %w", name, addr, err)
	}

	if listening != nil {
		listening(listener.Addr())
	}

	logger.Info("server started", slog.String("server", name), slog.String("http_addr", listener.Addr().String()))

	err = serveUntilDone(ctx, listener, &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, timeout)

	logger.Info("server stopped", slog.String("server", name), slog.Any("error", err))

	return err
}

func serveUntilDone(ctx context.Context, listener net.Listener, server *http.Server, timeout time.Duration) error {
	serveErr := make(chan error, 1)
	go func() {
		serveErr <- server.Serve(listener)
	}()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	err := server.Shutdown(shutdownCtx)
	if err != nil {
		_ = server.Close()
		err = fmt.Errorf("shut down http server: %w", err)
	}

	if serveErr := <-serveErr; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve http: %w", serveErr))
	}

	return err
}
