package suite

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/chaos/internal/stack"
	"github.com/advancia-pay/ledger/chaos/internal/verify"
	"github.com/advancia-pay/ledger/chaos/internal/workload"
)

// scenarioRun is one scenario against the running stack.
type scenarioRun struct {
	opts     Options
	stack    *stack.Stack
	client   *workload.Client
	scenario Scenario
	stream   uint64
	progress io.Writer
}

func (r *scenarioRun) logf(format string, args ...any) {
	fmt.Fprintf(r.progress, "ledgerchaos: %s: "+format+"\n", append([]any{r.scenario.Name}, args...)...)
}

// run runs the workload with the fault, replays, and checks. An error
// means the scenario could not run; a failed check is a failed row.
func (r *scenarioRun) run(ctx context.Context) (Row, error) {
	start := time.Now()
	row := Row{Scenario: r.scenario.Name, Fault: r.scenario.Fault}

	plan, err := workload.NewPlan(ctx, r.client, workload.PlanOptions{
		Name: "chaos-" + r.scenario.Name, Seed: r.opts.Seed, Stream: r.stream,
		Operations: r.opts.Operations, Users: users, Hot: r.scenario.Hot, Signer: r.stack.Signer,
	})
	if err != nil {
		return row, err
	}
	runner := workload.NewRunner(r.client, plan, r.opts.Workers, r.opts.Pace)
	if err := runner.Fund(ctx, time.Now().Add(fundingTimeout)); err != nil {
		return row, err
	}
	before, err := r.stack.StripeStats(ctx)
	if err != nil {
		return row, err
	}

	r.logf("%d operations with a fault: %s", len(plan.Ops), r.scenario.Fault)
	env := &faultEnv{stack: r.stack, runner: runner, plan: plan}
	row.Recovery, row.RecoveryError = r.runWithFault(ctx, runner, env)
	row.Notes = env.notes

	if _, err := r.stack.WaitAllReady(ctx, recoveryTimeout); err != nil {
		row.Violations = append(row.Violations, "the stack did not recover: "+err.Error())
	}
	r.logf("replaying %d operations with unknown outcomes", len(runner.Unresolved()))
	runner.Resolve(ctx, time.Now().Add(resolveTimeout))
	runner.Confirm(ctx, time.Now().Add(resolveTimeout))

	if err := r.check(ctx, plan, before, &row); err != nil {
		return row, err
	}
	row.Duration = time.Since(start)
	return row, nil
}

// runWithFault runs the workload and the fault together and returns how
// long after the fault ended every process was ready again.
func (r *scenarioRun) runWithFault(ctx context.Context, runner *workload.Runner, env *faultEnv) (time.Duration, string) {
	var wg sync.WaitGroup
	wg.Go(func() { runner.Run(ctx) })

	var recovery time.Duration
	problem := ""
	if err := r.scenario.inject(ctx, env); err != nil {
		problem = "fault not injected as described: " + err.Error()
	} else if recovery, err = r.stack.WaitAllReady(ctx, recoveryTimeout); err != nil {
		problem = err.Error()
	}
	wg.Wait()
	return recovery, problem
}

// check drains the payment outbox and runs every check against the
// database.
func (r *scenarioRun) check(ctx context.Context, plan *workload.Plan, before stack.StripeStats, row *Row) error {
	conn, err := pgx.Connect(ctx, r.stack.OwnerURL())
	if err != nil {
		return fmt.Errorf("connect to the private database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if err := waitForOutbox(ctx, conn); err != nil {
		row.Violations = append(row.Violations, err.Error())
	}
	after, err := r.stack.StripeStats(ctx)
	if err != nil {
		return err
	}
	report, err := verify.Check(ctx, conn, verify.Input{Plan: plan, ChargesCreated: after.PaymentIntents - before.PaymentIntents})
	if err != nil {
		return err
	}
	invariants, err := verify.Invariants(ctx, conn, r.stack.LedgerctlPath, r.stack.Postgres.URL("ledger_reporting", stack.Database))
	if err != nil {
		return err
	}
	for _, exited := range r.stack.ExitedServices() {
		row.Violations = append(row.Violations, "process exited: "+exited)
	}
	row.count(plan)
	row.Lost, row.Duplicated = report.Lost, report.Duplicated
	row.Violations = append(append(row.Violations, report.Violations...), invariants...)
	if row.RecoveryError != "" {
		row.Violations = append(row.Violations, "recovery: "+row.RecoveryError)
	}
	return nil
}

// waitForOutbox waits until paymentd's relay has made every queued ledger
// call.
func waitForOutbox(ctx context.Context, conn *pgx.Conn) error {
	deadline := time.Now().Add(outboxTimeout)
	for {
		var pending int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM payment.outbox WHERE processed_at IS NULL`).Scan(&pending); err != nil {
			return fmt.Errorf("read the payment outbox: %w", err)
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d payment outbox entries still pending after %s", pending, outboxTimeout)
		}
		if !workload.Sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}
