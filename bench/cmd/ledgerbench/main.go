// Command ledgerbench drives a running ledger stack with fixed workloads
// over gRPC and REST, measures floors in the same run, checks the ledger's
// invariants after each workload, and writes a JSON summary and Markdown
// tables. `make bench` starts the stack when none is running, plus a
// wallet in baseline mode and a gateway without the rate limiter for the
// comparisons.
//
// It reads the stack's settings like the services: LEDGER_JWT_SECRET
// (service tokens), LEDGER_JWT_SIGNING_KEY_FILE (user tokens) and
// WALLET_DATABASE_URL (for `ledgerctl verify` and the applied-once checks).
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
	flag.StringVar(&opts.gatewayAdminURL, "gateway-admin", "http://127.0.0.1:9190", "gateway admin URL; its /readyz is the no-op gRPC call through the gateway")
	flag.StringVar(&opts.baselineAddr, "baseline-wallet", "", "gRPC address of a wallet started with WALLET_MODE=baseline; empty skips the baseline step")
	flag.StringVar(&opts.baselineAdminURL, "baseline-admin", "http://127.0.0.1:9195", "admin URL of the baseline wallet")
	flag.StringVar(&opts.unlimitedURL, "unlimited-gateway", "", "base URL of a gateway started with GATEWAY_RATELIMIT_ADDR=off; empty skips W4")
	flag.StringVar(&opts.unlimitedAdminURL, "unlimited-admin", "http://127.0.0.1:9196", "admin URL of the gateway without the rate limiter")
	flag.StringVar(&opts.redisAddr, "redis", "127.0.0.1:6379", "Redis address, for redis-benchmark and Redis' CPU time")
	flag.StringVar(&opts.ledgerctl, "ledgerctl", "bin/ledgerctl", "ledgerctl binary, for the invariant checks")
	flag.StringVar(&opts.repo, "repo", ".", "repository root, where the pgbench and Lua scripts are read from")
	flag.StringVar(&opts.out, "out", "bench-results.json", "JSON summary to write")
	flag.BoolVar(&opts.full, "full", false, "run the full set: 10,000 wallets and longer steps (the quick set takes about 3 minutes)")
	flag.Parse()
	opts.processes = opts.stackProcesses()

	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerbench:", err)
		os.Exit(1)
	}
}

type options struct {
	walletAddr, gatewayURL, gatewayAdminURL string
	baselineAddr, baselineAdminURL          string
	unlimitedURL, unlimitedAdminURL         string
	redisAddr, ledgerctl, repo, out         string
	full                                    bool
	processes                               []process
}

// stackProcesses lists the processes whose CPU time each step reports,
// at the ports `make run` uses.
func (o options) stackProcesses() []process {
	ps := []process{
		{name: "gateway", adminURL: o.gatewayAdminURL},
		{name: "wallet", adminURL: "http://127.0.0.1:9191", wallet: true},
		{name: "payment", adminURL: "http://127.0.0.1:9192"},
		{name: "idempotency", adminURL: "http://127.0.0.1:9193"},
		{name: "ratelimit", adminURL: "http://127.0.0.1:9194"},
	}
	if o.baselineAddr != "" {
		ps = append(ps, process{name: "wallet (baseline)", adminURL: o.baselineAdminURL, wallet: true})
	}
	if o.unlimitedURL != "" {
		ps = append(ps, process{name: "gateway (no limiter)", adminURL: o.unlimitedAdminURL})
	}
	return ps
}

// step returns how long each measured step runs.
func (o options) step() time.Duration {
	if o.full {
		return 30 * time.Second
	}
	return 6 * time.Second
}

// wallets returns how many wallets the uniform workloads spread over.
func (o options) wallets() int {
	if o.full {
		return 10_000
	}
	return 1_000
}
