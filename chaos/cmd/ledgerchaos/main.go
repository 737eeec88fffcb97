// Command ledgerchaos runs the ledger's fault-tolerance suite. It builds
// every binary and starts the whole stack as separate processes against a
// private PostgreSQL cluster and Redis. For each fault it runs a keyed
// workload through the gateway while the fault hits, replays what stayed
// unknown, and checks the database. It prints one Markdown table and exits
// 1 when any scenario fails, or 2 when the suite cannot run.
//
//	ledgerchaos [-scenarios wallet-kill,redis-flushall] [-ops 240] [-seed 1]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/advancia-pay/ledger/chaos/internal/suite"
)

func main() {
	os.Exit(run())
}

func run() int {
	opts, keep := parseFlags()
	if err := validate(opts); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerchaos:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "ledgerchaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ledgerchaos: create the work folder:", err)
		return 2
	}
	opts.Dir = dir

	start := time.Now()
	rows, err := suite.Run(ctx, opts)
	if len(rows) > 0 {
		suite.WriteTable(os.Stdout, rows)
	}
	fmt.Printf("\nseed %d, %d operations per scenario, %d workers; run time %s\n",
		opts.Seed, opts.Operations, opts.Workers, time.Since(start).Round(time.Second))

	failed := err != nil
	for _, r := range rows {
		failed = failed || !r.Passed()
	}
	if failed || keep {
		fmt.Fprintln(os.Stderr, "ledgerchaos: logs and data kept in", dir)
	} else if rerr := os.RemoveAll(dir); rerr != nil {
		fmt.Fprintln(os.Stderr, "ledgerchaos: remove the work folder:", rerr)
	}

	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "ledgerchaos:", err)
		return 2
	case failed:
		return 1
	}
	return 0
}

func parseFlags() (suite.Options, bool) {
	var opts suite.Options
	var scenarios string
	flag.StringVar(&scenarios, "scenarios", "", "comma-separated scenarios to run (default all): "+scenarioNames())
	flag.Uint64Var(&opts.Seed, "seed", 1, "seed of the workload's random operations")
	flag.IntVar(&opts.Operations, "ops", 240, "workload operations per scenario, before captures and voids")
	flag.IntVar(&opts.Workers, "workers", 8, "concurrent clients")
	flag.DurationVar(&opts.Pace, "pace", 40*time.Millisecond, "least time between the starts of two operations")
	flag.BoolVar(&opts.Build.Race, "race", true, "build every binary with the race detector")
	flag.StringVar(&opts.Build.WalletTags, "wallet-tags", "", "extra build tags for walletd, such as chaosbroken")
	keep := flag.Bool("keep", false, "keep the work folder (logs, binaries, database) after a passing run")
	flag.Parse()

	if scenarios != "" {
		opts.Scenarios = strings.Split(scenarios, ",")
	}
	opts.Progress = os.Stderr
	return opts, *keep
}

// validate rejects flag values the suite cannot run with.
func validate(opts suite.Options) error {
	var problems []string
	if opts.Operations < 10 {
		problems = append(problems, fmt.Sprintf("-ops is %d, it must be at least 10", opts.Operations))
	}
	if opts.Workers < 1 || opts.Workers > 64 {
		problems = append(problems, fmt.Sprintf("-workers is %d, it must be between 1 and 64", opts.Workers))
	}
	if opts.Pace < 0 {
		problems = append(problems, fmt.Sprintf("-pace is %s, it must not be negative", opts.Pace))
	}
	if _, err := suite.Select(opts.Scenarios); err != nil {
		problems = append(problems, "-scenarios: "+err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid flags: %s", strings.Join(problems, "; "))
	}
	return nil
}

func scenarioNames() string {
	var names []string
	for _, sc := range suite.Scenarios() {
		names = append(names, sc.Name)
	}
	return strings.Join(names, ", ")
}
