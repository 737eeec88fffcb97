// Command walletd runs the wallet service: the only process that changes
// balances. It applies its database migrations at start unless
// WALLET_MIGRATE is false, then serves gRPC and admin HTTP until SIGINT or
// SIGTERM.
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
		fmt.Fprintln(os.Stderr, "walletd:", err)
		os.Exit(1)
	}
}
