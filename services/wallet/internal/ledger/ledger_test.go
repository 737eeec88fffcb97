package ledger_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/pgtx"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

func TestCreateWalletIsIdempotent(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()

	usd := env.wallet(t, alice, "USD")
	again := env.wallet(t, alice, "USD")
	eur := env.wallet(t, alice, "EUR")
	env.wallet(t, bob, "USD")

	if again.ID != usd.ID {
		t.Errorf("second USD wallet id = %s, want the existing %s", again.ID, usd.ID)
	}
	list, err := env.svc.ListWallets(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != usd.ID || list[1].ID != eur.ID {
		t.Errorf("alice's wallets = %+v, want USD then EUR", list)
	}
	if usd.Balance != 0 || usd.AvailableBalance != 0 || usd.OwnerID != "alice" || usd.Currency != "USD" {
		t.Errorf("new wallet = %+v", usd)
	}
}

func TestRejectedInputWritesNothing(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	usd := env.fundedWallet(t, alice, "USD", 100)
	eur := env.fundedWallet(t, bob, "EUR", 100)
	bobUSD := env.fundedWallet(t, bob, "USD", 100)
	const unknown = "0190c6a4-0000-7000-8000-000000000000"

	cases := []struct {
		name   string
		caller auth.Identity
		op     ledger.Operation
		want   apperr.Code
	}{
		{"zero amount", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: usd.ID, Amount: 0}, apperr.InvalidRequest},
		{"negative amount", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: usd.ID, Amount: -5}, apperr.InvalidRequest},
		{"negative transfer", alice, ledger.Operation{Type: ledger.TypeTransfer, WalletID: usd.ID, ToWalletID: bobUSD.ID, Amount: -1}, apperr.InvalidRequest},
		{"overflowing credit", billing, ledger.Operation{Type: ledger.TypeCredit, WalletID: usd.ID, Amount: math.MaxInt64}, apperr.InvalidRequest},
		{"overflowing transfer", billing, ledger.Operation{Type: ledger.TypeTransfer, WalletID: usd.ID, ToWalletID: bobUSD.ID, Amount: math.MaxInt64}, apperr.InsufficientFunds},
		{"currency mismatch", alice, ledger.Operation{Type: ledger.TypeTransfer, WalletID: usd.ID, ToWalletID: eur.ID, Amount: 10}, apperr.CurrencyMismatch},
		{"missing key", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: usd.ID, Amount: 10, IdempotencyKey: "-"}, apperr.IdempotencyKeyMissing},
		{"key too long", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: usd.ID, Amount: 10, IdempotencyKey: strings.Repeat("k", 256)}, apperr.InvalidRequest},
		{"key not ASCII", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: usd.ID, Amount: 10, IdempotencyKey: "clé"}, apperr.InvalidRequest},
		{"unknown wallet", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: unknown, Amount: 10}, apperr.NotFound},
		{"unknown recipient", alice, ledger.Operation{Type: ledger.TypeTransfer, WalletID: usd.ID, ToWalletID: unknown, Amount: 10}, apperr.NotFound},
		{"malformed wallet id", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: "wallet-1", Amount: 10}, apperr.InvalidRequest},
		{"transfer to itself", alice, ledger.Operation{Type: ledger.TypeTransfer, WalletID: usd.ID, ToWalletID: usd.ID, Amount: 10}, apperr.InvalidRequest},
		{"another user's wallet", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: bobUSD.ID, Amount: 10}, apperr.PermissionDenied},
		{"transfer from another user's wallet", alice, ledger.Operation{Type: ledger.TypeTransfer, WalletID: bobUSD.ID, ToWalletID: usd.ID, Amount: 10}, apperr.PermissionDenied},
		{"credit by a user", alice, ledger.Operation{Type: ledger.TypeCredit, WalletID: usd.ID, Amount: 10}, apperr.PermissionDenied},
		{"overdraft", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: usd.ID, Amount: 101}, apperr.InsufficientFunds},
		{"description too long", alice, ledger.Operation{Type: ledger.TypeDebit, WalletID: usd.ID, Amount: 10, Description: strings.Repeat("x", 501)}, apperr.InvalidRequest},
	}

	transactions, postings := env.count(t, "transactions"), env.count(t, "postings")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op := tc.op
			switch op.IdempotencyKey {
			case "":
				op.IdempotencyKey = "bad-input-" + tc.name
			case "-":
				op.IdempotencyKey = ""
			}
			op.RequestHash = []byte(tc.name)
			_, err := env.svc.Move(ctx, tc.caller, op)
			if got := codeOf(err); got != tc.want {
				t.Errorf("code = %q, want %q", got, tc.want)
			}
		})
	}

	if got := env.count(t, "transactions"); got != transactions {
		t.Errorf("transactions = %d, want %d: a rejected request wrote one", got, transactions)
	}
	if got := env.count(t, "postings"); got != postings {
		t.Errorf("postings = %d, want %d", got, postings)
	}
	for _, w := range []string{usd.ID, eur.ID, bobUSD.ID} {
		if got := env.balance(t, w); got != 100 {
			t.Errorf("balance of %s = %d, want 100", w, got)
		}
	}
}

func TestCreateWalletRejectsUnknownCurrency(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, currency := range []string{"", "usd", "ZZZ", "US", "USDT", "XXX"} {
		_, err := env.svc.CreateWallet(context.Background(), alice, currency)
		if got := codeOf(err); got != apperr.InvalidRequest {
			t.Errorf("currency %q: code = %q, want invalid_request", currency, got)
		}
	}
	if got := env.count(t, "wallets"); got != 0 {
		t.Errorf("wallets = %d, want 0", got)
	}
}

func TestReusedKeyWithOtherRequestIsRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)
	ctx := context.Background()

	op := ledger.Operation{Type: ledger.TypeDebit, WalletID: w.ID, Amount: 10, IdempotencyKey: "k1", RequestHash: []byte("first")}
	if _, err := env.svc.Move(ctx, alice, op); err != nil {
		t.Fatal(err)
	}
	op.Amount, op.RequestHash = 20, []byte("second")
	_, err := env.svc.Move(ctx, alice, op)
	if got := codeOf(err); got != apperr.IdempotencyKeyReused {
		t.Errorf("code = %q, want idempotency_key_reused", got)
	}
	if got := env.balance(t, w.ID); got != 90 {
		t.Errorf("balance = %d, want 90", got)
	}
}

func TestNegativeBalanceRejectedByDatabase(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)

	_, err := env.pool.Exec(context.Background(), `UPDATE wallets SET balance = -1 WHERE id = $1`, w.ID)
	if !pgtx.IsCheckViolation(err, "wallets_user_balance_non_negative") {
		t.Errorf("direct negative update: err = %v, want the wallets_user_balance_non_negative check violation", err)
	}
	if got := env.balance(t, w.ID); got != 100 {
		t.Errorf("balance = %d, want 100", got)
	}
}

func TestLedgerTablesAreAppendOnly(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.fundedWallet(t, alice, "USD", 100)
	ctx := context.Background()
	owner := env.admin(t)

	for _, stmt := range []string{
		`UPDATE postings SET amount = amount * 2`,
		`DELETE FROM postings`,
		`UPDATE transactions SET amount = 1`,
		`DELETE FROM transactions`,
		`UPDATE audit_events SET actor = 'someone-else'`,
		`DELETE FROM audit_events`,
		`TRUNCATE postings, transactions, audit_events`,
	} {
		if _, err := owner.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want an append-only rejection", stmt, err)
		}
	}
	if got := env.count(t, "postings"); got != 2 {
		t.Errorf("postings = %d, want 2", got)
	}
}

func TestUnbalancedPostingsRejectedAtCommit(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.fundedWallet(t, alice, "USD", 100)
	ctx := context.Background()

	var txID string
	err := env.pool.QueryRow(ctx, `SELECT transaction_id FROM postings WHERE wallet_id = $1`, w.ID).Scan(&txID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.pool.Exec(ctx, `INSERT INTO postings (transaction_id, wallet_id, amount, currency, balance_after, created_at)
		VALUES ($1, $2, 5, 'USD', 105, now())`, txID, w.ID)
	if err == nil || !strings.Contains(err.Error(), "do not sum to zero") {
		t.Errorf("unbalanced posting: err = %v, want a rejection", err)
	}
}

func TestListTransactionsPages(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	a := env.fundedWallet(t, alice, "USD", 1000)
	b := env.wallet(t, bob, "USD")
	for i, key := range []string{"d1", "d2", "d3", "d4", "d5"} {
		if _, err := env.move(ledger.TypeDebit, alice, a.ID, "", int64(i+1), key); err != nil {
			t.Fatal(err)
		}
	}
	sent, err := env.move(ledger.TypeTransfer, alice, a.ID, b.ID, 50, "t1")
	if err != nil {
		t.Fatal(err)
	}

	var seen []ledger.Transaction
	var after int64
	for range 10 {
		page, next, err := env.svc.ListTransactions(ctx, alice, a.ID, ledger.Page{Size: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, page...)
		if after = next; after == 0 {
			break
		}
	}
	if len(seen) != 7 {
		t.Fatalf("listed %d transactions, want 7", len(seen))
	}
	if seen[0].ID != sent.Transaction.ID || seen[0].BalanceAfter != 1000-15-50 || seen[0].Direction != ledger.DirectionOut {
		t.Errorf("newest = %+v, want the transfer out with balance_after 935", seen[0])
	}
	if seen[6].Type != ledger.TypeCredit || seen[6].BalanceAfter != 1000 {
		t.Errorf("oldest = %+v, want the funding credit", seen[6])
	}

	received, _, err := env.svc.ListTransactions(ctx, bob, b.ID, ledger.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(received) != 1 || received[0].Direction != ledger.DirectionIn || received[0].CounterpartyWalletID != a.ID ||
		received[0].BalanceAfter != 50 || received[0].IdempotencyKey != "" {
		t.Errorf("bob's view = %+v, want the transfer in from alice, balance_after 50, no key", received)
	}

	if _, _, err := env.svc.ListTransactions(ctx, alice, a.ID, ledger.Page{Size: 101}); codeOf(err) != apperr.InvalidRequest {
		t.Errorf("page size 101: code = %q, want invalid_request", codeOf(err))
	}
	if _, _, err := env.svc.ListTransactions(ctx, bob, a.ID, ledger.Page{}); codeOf(err) != apperr.PermissionDenied {
		t.Errorf("bob listing alice's wallet: code = %q, want permission_denied", codeOf(err))
	}
}

func TestGetTransactionViews(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	a := env.fundedWallet(t, alice, "USD", 100)
	b := env.wallet(t, bob, "USD")
	sent, err := env.move(ledger.TypeTransfer, alice, a.ID, b.ID, 15, "t1")
	if err != nil {
		t.Fatal(err)
	}

	mine, err := env.svc.GetTransaction(ctx, alice, sent.Transaction.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mine != sent.Transaction {
		t.Errorf("sender's view = %+v, want %+v", mine, sent.Transaction)
	}
	theirs, err := env.svc.GetTransaction(ctx, bob, sent.Transaction.ID)
	if err != nil {
		t.Fatal(err)
	}
	if theirs.WalletID != b.ID || theirs.BalanceAfter != 15 || theirs.Direction != ledger.DirectionIn {
		t.Errorf("recipient's view = %+v", theirs)
	}
	_, err = env.svc.GetTransaction(ctx, auth.Identity{Subject: "mallory"}, sent.Transaction.ID)
	if got := codeOf(err); got != apperr.PermissionDenied {
		t.Errorf("stranger: code = %q, want permission_denied", got)
	}
}
