// Command ratelimitd runs the rate limit service: it decides, in one Redis
// round trip per request, whether a caller is within every tier of the
// policy in RATELIMIT_POLICY_FILE. SIGHUP reloads the policy; SIGINT or
// SIGTERM stops the service.
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
		fmt.Fprintln(os.Stderr, "ratelimitd:", err)
		os.Exit(1)
	}
}
