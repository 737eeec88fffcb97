package suite

import (
	"context"
	"fmt"
	"time"

	"github.com/advancia-pay/ledger/chaos/internal/stack"
	"github.com/advancia-pay/ledger/chaos/internal/workload"
)

// Settings of catching a lock holder.
const (
	// pauseFor is three lock TTLs, so the lock expires while its holder is
	// stopped and the other instance takes it.
	pauseFor = 3 * stack.LockTTL
	// holderCheck is how long after SIGSTOP a lock must still carry the
	// same token for the stopped instance to count as its holder. A
	// running holder releases it within milliseconds.
	holderCheck = 150 * time.Millisecond
	// holderSearch bounds the attempts to catch a holder.
	holderSearch = 30 * time.Second
	// lockPollInterval is how often the lock keys are read while no one
	// holds them.
	lockPollInterval = 2 * time.Millisecond
)

// caught is a walletd stopped with SIGSTOP while it held a wallet's lock.
type caught struct {
	instance, wallet, token string
	tries                   int
}

// catchLockHolder stops one of instances while it holds the Redis lock of
// one of wallets, so in the middle of an operation on that wallet, and
// returns it stopped. Which instance holds a lock is not visible in Redis,
// so it stops the instances in turn while a lock is taken and keeps one
// stopped only when a lock outlives the check.
func catchLockHolder(ctx context.Context, env *faultEnv, instances, wallets []string) (caught, error) {
	keys := make([]string, len(wallets))
	for i, w := range wallets {
		keys[i] = "wallet:lock:" + w
	}
	deadline := time.Now().Add(holderSearch)
	for tries := 0; time.Now().Before(deadline); {
		tokens, err := env.stack.Redis.MGet(ctx, keys...)
		if err != nil {
			return caught{}, err
		}
		if !anyTaken(tokens) {
			if !workload.Sleep(ctx, lockPollInterval) {
				return caught{}, ctx.Err()
			}
			continue
		}
		name := instances[tries%len(instances)]
		tries++
		i, err := stopIfHolder(ctx, env, name, keys, tokens)
		if err != nil {
			return caught{}, err
		}
		if i >= 0 {
			return caught{instance: name, wallet: wallets[i], token: tokens[i], tries: tries}, nil
		}
	}
	return caught{}, fmt.Errorf("no walletd of %v was caught holding a lock of %d wallets within %s", instances, len(wallets), holderSearch)
}

func anyTaken(tokens []string) bool {
	for _, t := range tokens {
		if t != "" {
			return true
		}
	}
	return false
}

// stopIfHolder stops name and keeps it stopped when a lock at keys still
// carries its token holderCheck later, returning that lock's index.
// Otherwise it resumes name and returns -1.
func stopIfHolder(ctx context.Context, env *faultEnv, name string, keys, tokens []string) (int, error) {
	if err := env.stack.Pause(name); err != nil {
		return -1, err
	}
	workload.Sleep(ctx, holderCheck)
	after, err := env.stack.Redis.MGet(ctx, keys...)
	if err == nil {
		for i := range keys {
			if tokens[i] != "" && after[i] == tokens[i] {
				return i, nil
			}
		}
	}
	return -1, env.stack.Resume(name)
}

// pauseLockHolder stops the walletd that holds the hot wallet's lock,
// keeps it stopped past the lock's TTL while the other instance serves the
// same wallet, and resumes it.
func pauseLockHolder(ctx context.Context, env *faultEnv) error {
	if err := waitForProgress(ctx, env); err != nil {
		return err
	}
	c, err := catchLockHolder(ctx, env, []string{stack.Wallet1, stack.Wallet2}, []string{env.plan.HotWalletID})
	if err != nil {
		return err
	}
	from := time.Now()
	takeovers, err := watchLock(ctx, env, "wallet:lock:"+c.wallet, c.token, from.Add(pauseFor-holderCheck))
	if err != nil {
		return err
	}
	if err := env.stack.Resume(c.instance); err != nil {
		return err
	}
	served := env.runner.AcknowledgedOn(c.wallet, from, time.Now())
	env.note("stopped %s while it held the lock of wallet %s (caught on try %d); during the %s pause the lock was taken %d times by the other instance and %d operations on that wallet were acknowledged",
		c.instance, c.wallet, c.tries, pauseFor, takeovers, served)
	return nil
}

// watchLock reads key until the deadline and counts the tokens other than
// stopped that it saw, each one a lock taken by another caller.
func watchLock(ctx context.Context, env *faultEnv, key, stopped string, until time.Time) (int, error) {
	seen := map[string]bool{}
	for time.Now().Before(until) {
		tokens, err := env.stack.Redis.MGet(ctx, key)
		if err != nil {
			return 0, err
		}
		if t := tokens[0]; t != "" && t != stopped {
			seen[t] = true
		}
		if !workload.Sleep(ctx, 10*time.Millisecond) {
			return 0, ctx.Err()
		}
	}
	return len(seen), nil
}

// killLockHolder kills walletd-1 with SIGKILL in the middle of an
// operation: while it holds a wallet's lock, caught with SIGSTOP first.
// It restarts it after down.
func killLockHolder(down time.Duration) func(context.Context, *faultEnv) error {
	return func(ctx context.Context, env *faultEnv) error {
		if err := waitForProgress(ctx, env); err != nil {
			return err
		}
		c, err := catchLockHolder(ctx, env, []string{stack.Wallet1}, env.plan.WalletIDs())
		if err != nil {
			return err
		}
		pid := env.stack.Service(c.instance).Pid()
		if err := env.stack.Kill(c.instance); err != nil {
			return err
		}
		env.note("killed %s (pid %d) while it held the lock of wallet %s (caught on try %d), after %d operations",
			c.instance, pid, c.wallet, c.tries, env.runner.Started())
		workload.Sleep(ctx, down)
		return env.stack.Restart(c.instance)
	}
}
