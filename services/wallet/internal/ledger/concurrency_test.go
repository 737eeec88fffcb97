package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/lock"
	"github.com/advancia-pay/ledger/pkg/redistest"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
	"github.com/advancia-pay/ledger/services/wallet/internal/postgres"
)

// parallel runs fn(i) for i in [0, n) on n goroutines and returns the
// errors by index.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}

func countCodes(errs []error) map[apperr.Code]int {
	codes := make(map[apperr.Code]int)
	for _, err := range errs {
		codes[codeOf(err)]++
	}
	return codes
}

func TestParallelDebitsOnlyOneFits(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)

	errs := parallel(10, func(i int) error {
		_, err := env.move(ledger.TypeDebit, alice, w.ID, "", 60, fmt.Sprintf("debit-%d", i))
		return err
	})

	codes := countCodes(errs)
	if codes[""] != 1 {
		t.Errorf("successful debits = %d, want 1 (all outcomes: %v)", codes[""], codes)
	}
	if codes[apperr.InsufficientFunds] != 9 {
		t.Errorf("insufficient_funds = %d, want 9 (all outcomes: %v)", codes[apperr.InsufficientFunds], codes)
	}
	if got := env.balance(t, w.ID); got != 40 {
		t.Errorf("balance = %d, want 40", got)
	}
	if got := env.count(t, "transactions"); got != 2 {
		t.Errorf("transactions = %d, want 2 (the credit and one debit)", got)
	}
	env.checkInvariants(t)
}

func TestRetriedDebitAppliesOnce(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)

	results := make([]ledger.Result, 5)
	errs := parallel(5, func(i int) error {
		var err error
		results[i], err = env.move(ledger.TypeDebit, alice, w.ID, "", 30, "same-key")
		return err
	})

	replayed := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("retry %d: %v", i, err)
		}
		if results[i].Transaction.ID != results[0].Transaction.ID {
			t.Errorf("retry %d returned transaction %s, want %s", i, results[i].Transaction.ID, results[0].Transaction.ID)
		}
		if results[i].Transaction.BalanceAfter != 70 {
			t.Errorf("retry %d balance_after = %d, want 70", i, results[i].Transaction.BalanceAfter)
		}
		if results[i].Replayed {
			replayed++
		}
	}
	if replayed != 4 {
		t.Errorf("replayed results = %d, want 4", replayed)
	}
	if got := env.balance(t, w.ID); got != 70 {
		t.Errorf("balance = %d, want 70", got)
	}
	if got := env.count(t, "postings"); got != 4 {
		t.Errorf("postings = %d, want 4 (two for the credit, two for one debit)", got)
	}
}

func TestReplayWinsOverLaterBalance(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)

	first, err := env.move(ledger.TypeDebit, alice, w.ID, "", 100, "drain")
	if err != nil {
		t.Fatal(err)
	}
	again, err := env.move(ledger.TypeDebit, alice, w.ID, "", 100, "drain")
	if err != nil {
		t.Fatalf("retry after the balance reached 0: %v, want the original transaction", err)
	}
	if again.Transaction != first.Transaction || !again.Replayed {
		t.Errorf("retry = %+v (replayed %v), want %+v replayed", again.Transaction, again.Replayed, first.Transaction)
	}
}

func TestTransfersNeverDeadlock(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	a := env.fundedWallet(t, alice, "USD", 1000)
	b := env.fundedWallet(t, bob, "USD", 1000)
	c := env.fundedWallet(t, auth.Identity{Subject: "carol"}, "USD", 1000)

	type transfer struct {
		from, to string
		amount   int64
	}
	var transfers []transfer
	for range 5 {
		transfers = append(transfers, transfer{a.ID, b.ID, 10}, transfer{b.ID, a.ID, 10})
	}
	transfers = append(transfers, transfer{a.ID, b.ID, 7}, transfer{b.ID, c.ID, 7}, transfer{c.ID, a.ID, 7})

	errs := parallel(len(transfers), func(i int) error {
		tr := transfers[i]
		_, err := env.move(ledger.TypeTransfer, billing, tr.from, tr.to, tr.amount, fmt.Sprintf("transfer-%d", i))
		return err
	})

	for i, err := range errs {
		if err != nil {
			t.Errorf("transfer %d: %v", i, err)
		}
	}
	for _, w := range []ledger.Wallet{a, b, c} {
		if got := env.balance(t, w.ID); got != 1000 {
			t.Errorf("balance of %s = %d, want 1000", w.OwnerID, got)
		}
	}
	if got := env.count(t, "transactions"); got != 3+13 {
		t.Errorf("transactions = %d, want 16", got)
	}
	env.checkInvariants(t)
}

func TestCrashedLockHolderExpires(t *testing.T) {
	t.Parallel()
	rdbEnv := newEnv(t, func(o *lock.Options, _ *postgres.Options) { o.MaxDelay = 20 * time.Millisecond })
	w := rdbEnv.fundedWallet(t, alice, "USD", 100)

	// A holder that took the lock and died never releases it; only the TTL
	// frees the wallet.
	rdb, _ := redistest.NewClient(t)
	key := rdbEnv.lockPrefix + w.ID
	if err := rdb.Set(context.Background(), key, "crashed-holder", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}

	res, err := rdbEnv.move(ledger.TypeDebit, alice, w.ID, "", 25, "after-crash")
	if err != nil {
		t.Fatalf("debit after the crashed holder's lock expired: %v", err)
	}
	if res.Transaction.BalanceAfter != 75 {
		t.Errorf("balance_after = %d, want 75", res.Transaction.BalanceAfter)
	}
	if ttl := rdb.PTTL(context.Background(), key).Val(); ttl > 0 {
		t.Errorf("lock key still set with TTL %s after the debit released it", ttl)
	}
}

func TestLockExpiringMidTransactionKeepsInvariants(t *testing.T) {
	t.Parallel()
	var stalls atomic.Int32
	env := newEnv(t, func(lo *lock.Options, so *postgres.Options) {
		lo.TTL = 100 * time.Millisecond
		so.InTxHook = func(context.Context) {
			// The first transaction outlives its lock, so the second request
			// takes the lock while the first still holds the row.
			if stalls.Add(1) == 1 {
				time.Sleep(400 * time.Millisecond)
			}
		}
	})
	w := env.wallet(t, alice, "USD")
	if _, err := env.move(ledger.TypeCredit, billing, w.ID, "", 100, "fund"); err != nil {
		t.Fatal(err)
	}
	stalls.Store(0)

	errs := parallel(2, func(i int) error {
		if i == 1 {
			time.Sleep(150 * time.Millisecond) // after the first lock expired
		}
		_, err := env.move(ledger.TypeDebit, alice, w.ID, "", 60, fmt.Sprintf("debit-%d", i))
		return err
	})

	codes := countCodes(errs)
	if codes[""] != 1 || codes[apperr.InsufficientFunds] != 1 {
		t.Errorf("outcomes = %v, want one success and one insufficient_funds", codes)
	}
	if got := env.balance(t, w.ID); got != 40 {
		t.Errorf("balance = %d, want 40", got)
	}
	env.checkInvariants(t)
}

func TestMixedOperationsKeepInvariants(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	const wallets, operations, workers = 20, 1000, 16
	ids := make([]string, wallets)
	owners := make([]auth.Identity, wallets)
	for i := range ids {
		owners[i] = auth.Identity{Subject: fmt.Sprintf("user-%02d", i)}
		ids[i] = env.fundedWallet(t, owners[i], "USD", 5_000).ID
	}

	var posted, rejected atomic.Int64
	var wg sync.WaitGroup
	for worker := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(worker), 42))
			for n := worker; n < operations; n += workers {
				err := randomOperation(env, rng, ids, owners, n)
				switch codeOf(err) {
				case "":
					posted.Add(1)
				case apperr.InsufficientFunds:
					rejected.Add(1)
				default:
					t.Errorf("operation %d: %v", n, err)
				}
			}
		})
	}
	wg.Wait()

	if got := posted.Load() + rejected.Load(); got != operations {
		t.Errorf("posted + rejected = %d, want %d", got, operations)
	}
	if got := env.count(t, "transactions"); int64(got) != wallets+posted.Load() {
		t.Errorf("transactions = %d, want %d", got, wallets+posted.Load())
	}
	env.checkInvariants(t)
}

func randomOperation(env *ledgerEnv, rng *rand.Rand, ids []string, owners []auth.Identity, n int) error {
	i, j := rng.IntN(len(ids)), rng.IntN(len(ids)-1)
	if j >= i {
		j++
	}
	amount := 1 + rng.Int64N(800)
	key := fmt.Sprintf("op-%d", n)
	switch rng.IntN(4) {
	case 0:
		_, err := env.move(ledger.TypeCredit, billing, ids[i], "", amount, key)
		return err
	case 1:
		_, err := env.move(ledger.TypeDebit, owners[i], ids[i], "", amount, key)
		return err
	default:
		_, err := env.move(ledger.TypeTransfer, owners[i], ids[i], ids[j], amount, key)
		return err
	}
}
