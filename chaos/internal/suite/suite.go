// Package suite runs the fault-tolerance scenarios of the ledger. Each
// scenario sends a concurrent keyed workload through the gateway while its
// fault hits. It then replays every operation whose outcome stayed unknown
// and runs the checks of package verify against the private database.
package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/advancia-pay/ledger/chaos/internal/stack"
	"github.com/advancia-pay/ledger/chaos/internal/workload"
)

// Options configure Run.
type Options struct {
	// Dir is an empty folder for the cluster, binaries and logs.
	Dir string
	// Scenarios are the names to run, in Scenarios order; empty runs all.
	Scenarios []string
	// Seed selects the operations; each scenario draws its own stream.
	Seed uint64
	// Operations is the number of workload operations per scenario.
	Operations int
	Workers    int
	// Pace is the least time between the starts of two operations.
	Pace  time.Duration
	Build stack.BuildOptions
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

// users is the number of user wallets per scenario.
const users = 6

// Time budgets of one scenario.
const (
	fundingTimeout  = time.Minute
	recoveryTimeout = 2 * time.Minute
	// resolveTimeout covers the longest idempotency lease, walletd's 30 s,
	// after the fault ended.
	resolveTimeout = 90 * time.Second
	outboxTimeout  = time.Minute
	stopTimeout    = 30 * time.Second
)

// Run starts the stack, runs the selected scenarios one after the other
// and stops the stack. It returns one row per scenario, and an error when
// the suite itself could not run.
func Run(ctx context.Context, opts Options) (rows []Row, err error) {
	selected, err := Select(opts.Scenarios)
	if err != nil {
		return nil, err
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}

	start := time.Now()
	fmt.Fprintf(progress, "ledgerchaos: building the binaries (race detector: %t) and starting the stack in %s\n", opts.Build.Race, opts.Dir)
	s, err := stack.Start(ctx, stack.Options{Dir: opts.Dir, Build: opts.Build})
	if err != nil {
		return nil, fmt.Errorf("start the stack: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		if cerr := s.Close(stopCtx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("stop the stack: %w", cerr))
		}
	}()
	fmt.Fprintf(progress, "ledgerchaos: stack ready after %s: %s\n", time.Since(start).Round(time.Second), s.Summary())

	client := workload.NewClient(s.GatewayURL)
	defer client.Close()
	for i, sc := range selected {
		r := &scenarioRun{opts: opts, stack: s, client: client, scenario: sc, stream: uint64(i + 1), progress: progress}
		row, err := r.run(ctx)
		if err != nil {
			return rows, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
		fmt.Fprintf(progress, "ledgerchaos: %s %s in %s\n", sc.Name, row.result(), row.Duration.Round(time.Second))
		rows = append(rows, row)
	}
	return rows, nil
}

// Select returns the scenarios named in names, in the order of Scenarios,
// or every scenario when names is empty.
func Select(names []string) ([]Scenario, error) {
	all := Scenarios()
	if len(names) == 0 {
		return all, nil
	}
	var known []string
	for _, sc := range all {
		known = append(known, sc.Name)
	}
	for _, name := range names {
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("unknown scenario %q; the scenarios are %s", name, strings.Join(known, ", "))
		}
	}
	var out []Scenario
	for _, sc := range all {
		if slices.Contains(names, sc.Name) {
			out = append(out, sc)
		}
	}
	return out, nil
}
