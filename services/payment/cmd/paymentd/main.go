// Command paymentd runs the payment service: card payments through
// Stripe, wallet payments, refunds and Stripe webhooks. It moves money only
// by calling the wallet service. It applies its migrations at start unless
// PAYMENT_MIGRATE is false, then serves gRPC and admin HTTP until SIGINT
// or SIGTERM.
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
		fmt.Fprintln(os.Stderr, "paymentd:", err)
		os.Exit(1)
	}
}
