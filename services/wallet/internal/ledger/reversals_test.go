package ledger_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
	"github.com/advancia-pay/ledger/services/wallet/internal/postgres"
)

func (e *ledgerEnv) reverse(txID string, amount int64, key string) (ledger.Result, error) {
	return e.svc.Reverse(context.Background(), billing, ledger.Operation{
		TransactionID: txID, Amount: amount, Description: "refund",
		IdempotencyKey: key, RequestHash: []byte(fmt.Sprint("reverse", txID, amount, key)),
	})
}

func TestReversalAppliesOnlyOnce(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	a := env.fundedWallet(t, alice, "USD", 500)
	b := env.wallet(t, bob, "USD")
	paid, err := env.move(ledger.TypeTransfer, alice, a.ID, b.ID, 1, "pay")
	if err != nil {
		t.Fatal(err)
	}

	for i := range 3 {
		res, err := env.reverse(paid.Transaction.ID, 0, fmt.Sprintf("reverse-%d", i))
		switch {
		case i == 0 && err != nil:
			t.Fatalf("first reversal: %v", err)
		case i == 0 && (res.Transaction.Type != ledger.TypeReversal || res.Transaction.ReversesTransactionID != paid.Transaction.ID):
			t.Errorf("reversal = %+v", res.Transaction)
		case i > 0 && codeOf(err) != apperr.ReversalExceedsTransaction:
			t.Errorf("reversal %d: code = %q, want reversal_exceeds_transaction", i, codeOf(err))
		}
		if got := env.balance(t, a.ID); got != 500 {
			t.Errorf("after reversal %d: A = %d, want 500", i, got)
		}
		if got := env.balance(t, b.ID); got != 0 {
			t.Errorf("after reversal %d: B = %d, want 0", i, got)
		}
	}
	env.checkInvariants(t)
}

func TestConcurrentReversalsOnlyOneFits(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 500)
	paid, err := env.move(ledger.TypeDebit, alice, w.ID, "", 100, "pay")
	if err != nil {
		t.Fatal(err)
	}

	errs := parallel(4, func(i int) error {
		_, err := env.reverse(paid.Transaction.ID, 60, fmt.Sprintf("reverse-%d", i))
		return err
	})
	codes := countCodes(errs)
	if codes[""] != 1 || codes[apperr.ReversalExceedsTransaction] != 3 {
		t.Errorf("outcomes = %v, want one success and three reversal_exceeds_transaction", codes)
	}
	if got := env.balance(t, w.ID); got != 460 {
		t.Errorf("balance = %d, want 460", got)
	}
	env.checkInvariants(t)
}

func TestPartialReversalsStopAtAmount(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)
	paid, err := env.move(ledger.TypeDebit, alice, w.ID, "", 60, "pay")
	if err != nil {
		t.Fatal(err)
	}

	first, err := env.reverse(paid.Transaction.ID, 40, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if first.Transaction.BalanceAfter != 80 || first.Transaction.Direction != ledger.DirectionIn {
		t.Errorf("first reversal = %+v, want balance_after 80, direction in", first.Transaction)
	}
	if _, err := env.reverse(paid.Transaction.ID, 40, "r2"); codeOf(err) != apperr.ReversalExceedsTransaction {
		t.Errorf("second reversal of 40: code = %q, want reversal_exceeds_transaction", codeOf(err))
	}
	if _, err := env.reverse(first.Transaction.ID, 10, "r3"); codeOf(err) != apperr.InvalidRequest {
		t.Errorf("reversal of a reversal: code = %q, want invalid_request", codeOf(err))
	}
	_, err = env.svc.Reverse(context.Background(), alice, ledger.Operation{TransactionID: paid.Transaction.ID, Amount: 1, IdempotencyKey: "r4"})
	if codeOf(err) != apperr.PermissionDenied {
		t.Errorf("reversal by a user: code = %q, want permission_denied", codeOf(err))
	}
	if got := env.balance(t, w.ID); got != 80 {
		t.Errorf("balance = %d, want 80", got)
	}
	env.checkInvariants(t)
}

func TestReversingCreditNeedsFunds(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.wallet(t, alice, "USD")
	credit, err := env.move(ledger.TypeCredit, billing, w.ID, "", 100, "fund")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.move(ledger.TypeDebit, alice, w.ID, "", 70, "spend"); err != nil {
		t.Fatal(err)
	}

	if _, err := env.reverse(credit.Transaction.ID, 0, "claw-back"); codeOf(err) != apperr.InsufficientFunds {
		t.Errorf("reversing 100 with 30 left: code = %q, want insufficient_funds", codeOf(err))
	}
	if got := env.balance(t, w.ID); got != 30 {
		t.Errorf("balance = %d, want 30", got)
	}
}

func TestBalanceAtTransactionTimes(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	a := env.wallet(t, alice, "USD")
	b := env.wallet(t, bob, "USD")
	start := time.Now().Add(-time.Second)

	var posted []ledger.Transaction
	steps := []func() (ledger.Result, error){
		func() (ledger.Result, error) { return env.move(ledger.TypeCredit, billing, a.ID, "", 500, "k1") },
		func() (ledger.Result, error) { return env.move(ledger.TypeDebit, alice, a.ID, "", 120, "k2") },
		func() (ledger.Result, error) { return env.move(ledger.TypeTransfer, alice, a.ID, b.ID, 30, "k3") },
		func() (ledger.Result, error) { return env.move(ledger.TypeCredit, billing, a.ID, "", 7, "k4") },
	}
	for i, step := range steps {
		res, err := step()
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		posted = append(posted, res.Transaction)
	}

	before, err := env.svc.BalanceAt(ctx, alice, a.ID, start)
	if err != nil || before.Balance != 0 {
		t.Errorf("balance before the first credit = %+v, %v; want 0", before, err)
	}
	for i, tx := range posted {
		got, err := env.svc.BalanceAt(ctx, alice, a.ID, tx.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if got.Balance != tx.BalanceAfter {
			t.Errorf("balance at transaction %d (%s) = %d, want its balance_after %d", i, tx.CreatedAt, got.Balance, tx.BalanceAfter)
		}
	}
	now, err := env.svc.BalanceAt(ctx, alice, a.ID, time.Time{})
	if err != nil || now.Balance != 357 {
		t.Errorf("balance now = %+v, %v; want 357", now, err)
	}
	if _, err := env.svc.BalanceAt(ctx, bob, a.ID, time.Time{}); codeOf(err) != apperr.PermissionDenied {
		t.Errorf("bob reading alice's balance: code = %q, want permission_denied", codeOf(err))
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	store := postgres.New(env.pool, postgres.Options{})
	a := env.fundedWallet(t, alice, "USD", 1000)
	b := env.fundedWallet(t, bob, "USD", 1000)
	for i := range 20 {
		if _, err := env.move(ledger.TypeTransfer, billing, a.ID, b.ID, int64(i+1), fmt.Sprintf("t%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	held, err := env.hold(bob, b.ID, 100, 0, "h")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.capture(bob, held.Hold.ID, 40, a.ID, "c"); err != nil {
		t.Fatal(err)
	}

	if found, err := store.Verify(ctx); err != nil || len(found) != 0 {
		t.Fatalf("Verify on an untouched ledger = %v, %v; want no violations", found, err)
	}

	// A superuser can switch the append-only triggers off; the chain and
	// the balance checks still catch what it changes.
	tamper(t, env, `UPDATE audit_events SET amount = amount + 1 WHERE wallet_id = $1 AND seq = 5`, a.ID)
	tamper(t, env, `UPDATE wallets SET balance = balance + 3 WHERE id = $1`, b.ID)

	found, err := store.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	report := fmt.Sprint(found)
	if len(found) != 2 {
		t.Errorf("violations = %d, want 2: %s", len(found), report)
	}
	if !strings.Contains(report, "wallet "+a.ID+" event seq 5") || !strings.Contains(report, "does not match the event's content") {
		t.Errorf("report %q does not name event seq 5 of wallet %s", report, a.ID)
	}
	if !strings.Contains(report, "wallet "+b.ID+" has balance") {
		t.Errorf("report %q does not name wallet %s's balance", report, b.ID)
	}
}

func TestVerifyFindsRemovedEvent(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	store := postgres.New(env.pool, postgres.Options{})
	w := env.fundedWallet(t, alice, "USD", 100)
	for i := range 3 {
		if _, err := env.move(ledger.TypeDebit, alice, w.ID, "", 1, fmt.Sprintf("d%d", i)); err != nil {
			t.Fatal(err)
		}
	}

	tamper(t, env, `DELETE FROM audit_events WHERE wallet_id = $1 AND seq = 2`, w.ID)

	found, err := store.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || !strings.Contains(found[0].Detail, "event seq 3") || !strings.Contains(found[0].Detail, "missing") {
		t.Errorf("violations = %v, want one naming seq 3 after a missing event", found)
	}
}

// tamper runs stmt with triggers disabled, as a superuser could.
func tamper(t *testing.T, env *ledgerEnv, stmt string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := env.admin(t).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `SET session_replication_role = origin`)
	if tag, err := conn.Exec(ctx, stmt, args...); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("%s: %v (%d rows)", stmt, err, tag.RowsAffected())
	}
}
