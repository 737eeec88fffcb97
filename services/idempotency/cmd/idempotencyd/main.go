// Command idempotencyd runs the idempotency service: it keeps the outcome
// of every money-moving request by key for 24 hours, so that retries get
// the original result. It applies its migrations at start unless
// IDEMPOTENCY_MIGRATE is false, then serves gRPC and admin HTTP until
// SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "idempotencyd:", err)
		os.Exit(1)
	}
}
