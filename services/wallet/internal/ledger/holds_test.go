package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
	"github.com/advancia-pay/ledger/services/wallet/internal/postgres"
)

func (e *ledgerEnv) hold(caller auth.Identity, walletID string, amount int64, expiresIn time.Duration, key string) (ledger.Result, error) {
	return e.svc.PlaceHold(context.Background(), caller, ledger.Operation{
		WalletID: walletID, Amount: amount, ExpiresIn: expiresIn,
		IdempotencyKey: key, RequestHash: []byte("hold" + walletID + key),
	})
}

func (e *ledgerEnv) capture(caller auth.Identity, holdID string, amount int64, to, key string) (ledger.Result, error) {
	return e.svc.CaptureHold(context.Background(), caller, ledger.Operation{
		HoldID: holdID, Amount: amount, ToWalletID: to,
		IdempotencyKey: key, RequestHash: []byte("capture" + holdID + key),
	})
}

func (e *ledgerEnv) void(caller auth.Identity, holdID, key string) (ledger.Result, error) {
	return e.svc.VoidHold(context.Background(), caller, ledger.Operation{
		HoldID: holdID, IdempotencyKey: key, RequestHash: []byte("void" + holdID + key),
	})
}

func (e *ledgerEnv) available(t *testing.T, walletID string) int64 {
	t.Helper()
	w, err := e.svc.GetWallet(context.Background(), billing, walletID)
	if err != nil {
		t.Fatal(err)
	}
	return w.AvailableBalance
}

func TestSixthHoldIsRefused(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 5000)

	var holds []string
	for i := range 6 {
		res, err := env.hold(alice, w.ID, 1000, 0, fmt.Sprintf("hold-%d", i))
		if i < 5 {
			if err != nil {
				t.Fatalf("hold %d: %v", i, err)
			}
			holds = append(holds, res.Hold.ID)
			continue
		}
		if got := codeOf(err); got != apperr.InsufficientFunds {
			t.Errorf("sixth hold: code = %q, want insufficient_funds", got)
		}
	}
	if got := env.available(t, w.ID); got != 0 {
		t.Errorf("available after five holds = %d, want 0", got)
	}

	for i, id := range holds {
		res, err := env.capture(alice, id, 0, "", fmt.Sprintf("capture-%d", i))
		if err != nil {
			t.Fatalf("capture %d: %v", i, err)
		}
		if want := int64(5000 - 1000*(i+1)); res.Transaction.BalanceAfter != want {
			t.Errorf("capture %d balance_after = %d, want %d", i, res.Transaction.BalanceAfter, want)
		}
		if res.Hold.Status != ledger.HoldCaptured || res.Hold.CapturedAmount != 1000 {
			t.Errorf("capture %d hold = %+v, want captured 1000", i, res.Hold)
		}
	}
	if got := env.balance(t, w.ID); got != 0 {
		t.Errorf("balance = %d, want 0", got)
	}
	if got := env.count(t, "holds"); got != 5 {
		t.Errorf("holds = %d, want 5", got)
	}
	env.checkInvariants(t)
}

func TestConcurrentCapturesOnlyOneWins(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)
	placed, err := env.hold(alice, w.ID, 60, 0, "h1")
	if err != nil {
		t.Fatal(err)
	}
	transactions := env.count(t, "transactions")

	errs := parallel(2, func(i int) error {
		_, err := env.capture(billing, placed.Hold.ID, 0, "", fmt.Sprintf("capture-%d", i))
		return err
	})

	codes := countCodes(errs)
	if codes[""] != 1 || codes[apperr.HoldNotActive] != 1 {
		t.Errorf("outcomes = %v, want one success and one hold_not_active", codes)
	}
	if got := env.count(t, "transactions"); got != transactions+1 {
		t.Errorf("transactions = %d, want %d: the rejected capture wrote one", got, transactions+1)
	}
	if _, err := env.void(billing, placed.Hold.ID, "void-1"); codeOf(err) != apperr.HoldNotActive {
		t.Errorf("void after capture: code = %q, want hold_not_active", codeOf(err))
	}
	if got := env.balance(t, w.ID); got != 40 {
		t.Errorf("balance = %d, want 40", got)
	}
	if got := env.available(t, w.ID); got != 40 {
		t.Errorf("available = %d, want 40", got)
	}
	env.checkInvariants(t)
}

func TestRefusedHoldLeavesNothing(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)

	res, err := env.hold(alice, w.ID, 101, 0, "too-much")
	if codeOf(err) != apperr.InsufficientFunds {
		t.Fatalf("hold of 101: code = %q, want insufficient_funds", codeOf(err))
	}
	if res.Hold != nil {
		t.Errorf("refused hold returned %+v, want no hold", res.Hold)
	}
	if got := env.count(t, "holds"); got != 0 {
		t.Errorf("holds = %d, want 0", got)
	}
	const neverIssued = "0190c6a4-0000-7000-8000-000000000000"
	if _, err := env.capture(alice, neverIssued, 0, "", "capture"); codeOf(err) != apperr.NotFound {
		t.Errorf("capture of an id never issued: code = %q, want not_found", codeOf(err))
	}
	if got := env.balance(t, w.ID); got != 100 {
		t.Errorf("balance = %d, want 100", got)
	}
}

func TestExpiredHoldCannotBeCaptured(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)
	placed, err := env.hold(alice, w.ID, 70, time.Second, "short")
	if err != nil {
		t.Fatal(err)
	}
	if got := env.available(t, w.ID); got != 30 {
		t.Errorf("available while held = %d, want 30", got)
	}
	transactions := env.count(t, "transactions")

	time.Sleep(2 * time.Second)

	if got := env.available(t, w.ID); got != 100 {
		t.Errorf("available after expiry, before the sweep = %d, want 100", got)
	}
	_, err = env.capture(alice, placed.Hold.ID, 0, "", "late")
	if codeOf(err) != apperr.HoldNotActive {
		t.Errorf("capture after expiry: code = %q, want hold_not_active", codeOf(err))
	}
	if got := env.count(t, "transactions"); got != transactions {
		t.Errorf("transactions = %d, want %d", got, transactions)
	}
	h, err := env.svc.GetHold(context.Background(), alice, placed.Hold.ID)
	if err != nil || h.Status != ledger.HoldExpired {
		t.Errorf("hold = %+v, %v; want status expired", h, err)
	}

	expired, err := postgres.New(env.pool, postgres.Options{}).ExpireHolds(context.Background(), 10)
	if err != nil || expired != 1 {
		t.Errorf("ExpireHolds = %d, %v; want 1", expired, err)
	}
	if got := env.balance(t, w.ID); got != 100 {
		t.Errorf("balance = %d, want 100", got)
	}
	env.checkInvariants(t)
}

func TestPartialCaptureToWallet(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	a := env.fundedWallet(t, alice, "USD", 100)
	b := env.wallet(t, bob, "USD")
	placed, err := env.hold(alice, a.ID, 60, time.Hour, "h1")
	if err != nil {
		t.Fatal(err)
	}

	res, err := env.capture(billing, placed.Hold.ID, 50, b.ID, "c1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := env.capture(billing, placed.Hold.ID, 50, b.ID, "c1")
	if err != nil || again.Transaction.ID != res.Transaction.ID || !again.Replayed {
		t.Errorf("retried capture = %+v, %v; want the original transaction replayed", again.Transaction, err)
	}

	if res.Transaction.Type != ledger.TypeCapture || res.Transaction.HoldID != placed.Hold.ID ||
		res.Transaction.CounterpartyWalletID != b.ID || res.Transaction.BalanceAfter != 50 {
		t.Errorf("capture transaction = %+v", res.Transaction)
	}
	if got := env.balance(t, a.ID); got != 50 {
		t.Errorf("payer balance = %d, want 50", got)
	}
	if got := env.available(t, a.ID); got != 50 {
		t.Errorf("payer available = %d, want 50: the uncaptured 10 must be released", got)
	}
	if got := env.balance(t, b.ID); got != 50 {
		t.Errorf("payee balance = %d, want 50", got)
	}
	if _, err := env.capture(billing, placed.Hold.ID, 10, "", "c2"); codeOf(err) != apperr.HoldNotActive {
		t.Errorf("second capture: code = %q, want hold_not_active", codeOf(err))
	}
	env.checkInvariants(t)
}

func TestVoidReleasesHold(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)
	placed, err := env.hold(alice, w.ID, 80, 0, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.move(ledger.TypeDebit, alice, w.ID, "", 30, "blocked"); codeOf(err) != apperr.InsufficientFunds {
		t.Errorf("debit of 30 with 20 available: code = %q, want insufficient_funds", codeOf(err))
	}

	if _, err := env.void(alice, placed.Hold.ID, "by-payer"); codeOf(err) != apperr.PermissionDenied {
		t.Errorf("void by the payer: code = %q, want permission_denied", codeOf(err))
	}
	for i := range 2 {
		res, err := env.void(billing, placed.Hold.ID, fmt.Sprintf("void-%d", i))
		if err != nil || res.Hold.Status != ledger.HoldVoided {
			t.Errorf("void %d = %+v, %v; want voided", i, res.Hold, err)
		}
	}
	if _, err := env.capture(alice, placed.Hold.ID, 0, "", "after-void"); codeOf(err) != apperr.HoldNotActive {
		t.Errorf("capture after void: code = %q, want hold_not_active", codeOf(err))
	}
	if got := env.available(t, w.ID); got != 100 {
		t.Errorf("available = %d, want 100", got)
	}
}
