package suite

import (
	"context"
	"fmt"
	"time"

	"github.com/advancia-pay/ledger/chaos/internal/stack"
	"github.com/advancia-pay/ledger/chaos/internal/workload"
)

// faultStart is the share of a scenario's operations sent before its
// fault is injected.
const faultStart = 0.3

// progressTimeout bounds the wait for the workload to reach faultStart.
const progressTimeout = 2 * time.Minute

// Scenario is one fault, injected while the workload runs.
type Scenario struct {
	Name  string
	Fault string
	// Hot makes every operation touch one wallet.
	Hot bool
	// inject waits until the workload reaches faultStart, injects the
	// fault and returns once the fault has ended: the process restarted,
	// the server started again or the process resumed.
	inject func(ctx context.Context, env *faultEnv) error
}

// faultEnv is the stack and workload a fault acts on, with the notes it
// leaves for the report.
type faultEnv struct {
	stack  *stack.Stack
	runner *workload.Runner
	plan   *workload.Plan
	notes  []string
}

func (e *faultEnv) note(format string, args ...any) {
	e.notes = append(e.notes, fmt.Sprintf(format, args...))
}

// Scenarios returns every scenario in the order the suite runs them.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "wallet-kill", Fault: "kill -9 walletd-1 while it holds a wallet lock, restart after 2 s", inject: killLockHolder(2 * time.Second)},
		{Name: "payment-kill", Fault: "kill -9 paymentd while Stripe's success is held, restart after 1 s", inject: killPaymentAfterCharge},
		{Name: "redis-flushall", Fault: "Redis FLUSHALL", inject: flushRedis},
		{Name: "redis-down", Fault: "kill -9 redis-server, restart after 5 s", inject: redisDown},
		{Name: "postgres-immediate", Fault: "pg_ctl stop -m immediate, start after 3 s", inject: postgresDown},
		{Name: "wallet-pause", Fault: "SIGSTOP the lock holder for 3 s (lock TTL 1 s), then SIGCONT", Hot: true, inject: pauseLockHolder},
		{Name: "idempotency-kill", Fault: "kill -9 idempotencyd, restart after 3 s", inject: killAndRestart(stack.Idempotency, 3*time.Second)},
	}
}

// waitForProgress waits until the workload has sent faultStart of its
// operations.
func waitForProgress(ctx context.Context, env *faultEnv) error {
	target := int(faultStart * float64(len(env.plan.Ops)))
	deadline := time.Now().Add(progressTimeout)
	for env.runner.Started() < target {
		if time.Now().After(deadline) {
			return fmt.Errorf("the workload sent %d of %d operations within %s", env.runner.Started(), target, progressTimeout)
		}
		if !workload.Sleep(ctx, 20*time.Millisecond) {
			return ctx.Err()
		}
	}
	return nil
}

func killAndRestart(name string, down time.Duration) func(context.Context, *faultEnv) error {
	return func(ctx context.Context, env *faultEnv) error {
		if err := waitForProgress(ctx, env); err != nil {
			return err
		}
		pid := env.stack.Service(name).Pid()
		if err := env.stack.Kill(name); err != nil {
			return err
		}
		env.note("killed %s (pid %d) after %d operations", name, pid, env.runner.Started())
		workload.Sleep(ctx, down)
		return env.stack.Restart(name)
	}
}

// killPaymentAfterCharge makes the fake Stripe hold its response to the
// next PaymentIntent, which it has then created and confirmed. It kills
// paymentd while paymentd waits for that response, so after Stripe's
// success and before the payment is recorded and the payee credited.
func killPaymentAfterCharge(ctx context.Context, env *faultEnv) error {
	if err := waitForProgress(ctx, env); err != nil {
		return err
	}
	if err := env.stack.HoldNextCharge(ctx); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		stats, err := env.stack.StripeStats(ctx)
		if err != nil {
			return err
		}
		if stats.Held > 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no card payment reached the fake Stripe within 30 s of arming the hold")
		}
		workload.Sleep(ctx, 10*time.Millisecond)
	}
	pid := env.stack.Service(stack.Payment).Pid()
	if err := env.stack.Kill(stack.Payment); err != nil {
		return err
	}
	if err := env.stack.ReleaseCharges(ctx); err != nil {
		return err
	}
	env.note("killed paymentd (pid %d) while the fake Stripe held its response to a confirmed PaymentIntent", pid)
	workload.Sleep(ctx, time.Second)
	return env.stack.Restart(stack.Payment)
}

func flushRedis(ctx context.Context, env *faultEnv) error {
	if err := waitForProgress(ctx, env); err != nil {
		return err
	}
	env.note("FLUSHALL after %d operations", env.runner.Started())
	return env.stack.Redis.FlushAll(ctx)
}

func redisDown(ctx context.Context, env *faultEnv) error {
	if err := waitForProgress(ctx, env); err != nil {
		return err
	}
	if err := env.stack.Redis.Kill(); err != nil {
		return err
	}
	env.note("killed redis-server after %d operations", env.runner.Started())
	workload.Sleep(ctx, 5*time.Second)
	return env.stack.Redis.Restart(ctx)
}

func postgresDown(ctx context.Context, env *faultEnv) error {
	if err := waitForProgress(ctx, env); err != nil {
		return err
	}
	if err := env.stack.Postgres.StopImmediate(ctx); err != nil {
		return err
	}
	env.note("stopped PostgreSQL in immediate mode after %d operations", env.runner.Started())
	workload.Sleep(ctx, 3*time.Second)
	return env.stack.Postgres.Start(ctx)
}
