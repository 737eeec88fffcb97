package ledger_test

import (
	"context"
	"testing"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
	"github.com/advancia-pay/ledger/services/wallet/internal/postgres"
)

func TestSameKeyFromTwoCallersRunsTwice(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)

	charged, err := env.move(ledger.TypeDebit, billing, w.ID, "", 10, "order-1")
	if err != nil {
		t.Fatal(err)
	}
	paid, err := env.move(ledger.TypeDebit, alice, w.ID, "", 10, "order-1")
	if err != nil {
		t.Fatal(err)
	}
	if paid.Replayed || paid.Transaction.ID == charged.Transaction.ID {
		t.Errorf("alice's debit = %+v (replayed %v), want a new transaction", paid.Transaction, paid.Replayed)
	}
	if got := env.balance(t, w.ID); got != 80 {
		t.Errorf("balance = %d, want 80", got)
	}
}

func TestBatchGivesEachOperationItsTime(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	w := env.fundedWallet(t, alice, "USD", 100)
	store := postgres.New(env.pool, postgres.Options{})

	debit := func(key string, amount int64) ledger.Operation {
		return ledger.Operation{Type: ledger.TypeDebit, WalletID: w.ID, Currency: "USD", Amount: amount,
			IdempotencyKey: key, RequestHash: []byte(key), Actor: "alice"}
	}
	results := store.Apply(ctx, []ledger.Operation{debit("b1", 10), debit("b2", 500), debit("b3", 20)})

	if results[0].Err != nil || results[2].Err != nil {
		t.Fatalf("results = %+v, want the first and third to succeed", results)
	}
	if got := codeOf(results[1].Err); got != apperr.InsufficientFunds {
		t.Errorf("second operation: code = %q, want insufficient_funds", got)
	}
	for _, i := range []int{0, 2} {
		tx := results[i].Transaction
		at, err := env.svc.BalanceAt(ctx, alice, w.ID, tx.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if at.Balance != tx.BalanceAfter {
			t.Errorf("balance at operation %d's time = %d, want its balance_after %d", i, at.Balance, tx.BalanceAfter)
		}
	}
	if got := env.balance(t, w.ID); got != 70 {
		t.Errorf("balance = %d, want 70", got)
	}
	env.checkInvariants(t)
}
