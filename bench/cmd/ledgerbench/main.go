// Command ledgerbench drives a running ledger stack with fixed workloads
// over gRPC and REST, measures floors in the same run, checks the ledger's
// invariants after each workload, and writes a JSON summary and Markdown
// tables. `make bench` starts the stack when none is running.
//
// It reads the stack's settings like the services: LEDGER_JWT_SECRET
// (service tokens), LEDGER_JWT_SIGNING_KEY_FILE (user tokens) and
// WALLET_DATABASE_URL (for `ledgerctl verify`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var opts options
	flag.StringVar(&opts.walletAddr, "wallet", "127.0.0.1:9091", "wallet service gRPC address")
	flag.StringVar(&opts.gatewayURL, "gateway", "http://127.0.0.1:8080", "gateway base URL")
	flag.StringVar(&opts.ledgerctl, "ledgerctl", "bin/ledgerctl", "ledgerctl binary, for the invariant checks")
	flag.StringVar(&opts.out, "out", "bench-results.json", "JSON summary to write")
	flag.BoolVar(&opts.full, "full", false, "run the full set: 10,000 wallets and longer steps (the quick set takes under 3 minutes)")
	flag.Parse()

	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerbench:", err)
		os.Exit(1)
	}
}

type options struct {
	walletAddr, gatewayURL, ledgerctl, out string
	full                                   bool
}

// step returns how long each measured step runs.
func (o options) step() time.Duration {
	if o.full {
		return 30 * time.Second
	}
	return 8 * time.Second
}

// wallets returns how many wallets the uniform workloads spread over.
func (o options) wallets() int {
	if o.full {
		return 10_000
	}
	return 1_000
}
