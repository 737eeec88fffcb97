// Command stripefake serves the stateful fake Stripe API of
// internal/stripetest on a loopback address, so that a paymentd started as
// its own process can charge cards against it. The fault-tolerance suite
// (chaos/) uses it.
//
//	stripefake -addr 127.0.0.1:12112
//
// Next to the Stripe routes it serves a control API:
//
//	POST /_fake/hold?path=/v1/payment_intents   hold the response to the next request on that path prefix
//	POST /_fake/release                         let every held response go
//	GET  /_fake/stats                           {"held":0,"payment_intents":3,"refunds":0}
//
// A held request has already created and stored its object, as Stripe
// does before its response reaches the client. The hold ends at release,
// when the client disconnects, or at shutdown.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
)

// shutdownTimeout bounds the graceful shutdown after SIGINT or SIGTERM.
const shutdownTimeout = 5 * time.Second

func main() {
	addr := flag.String("addr", "127.0.0.1:12112", "loopback host:port to listen on")
	flag.Parse()

	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, *addr, logger); err != nil {
		logger.Error("stripefake failed", "error", err)
		os.Exit(1)
	}
}

// run serves the fake on addr until ctx is done.
func run(ctx context.Context, addr string, logger *slog.Logger) error {
	if err := checkLoopback(addr); err != nil {
		return err
	}
	fake := stripetest.NewHandler()
	srv := &http.Server{Addr: addr, Handler: newMux(fake, logger), ReadHeaderTimeout: 5 * time.Second}

	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	logger.Info("stripefake listening", "addr", listener.Addr().String())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(listener) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}

	// Held responses end first, so that Shutdown does not wait on them.
	fake.Close()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", addr, err)
	}
	logger.Info("stripefake stopped")
	return nil
}

// checkLoopback rejects any listen address whose host is not a loopback IP.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q is not host:port: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: the host must be a loopback IP such as 127.0.0.1", addr)
	}
	return nil
}
