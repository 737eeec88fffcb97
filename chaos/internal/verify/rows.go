package verify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/chaos/internal/workload"
)

// payment is a row of payment.payments.
type payment struct {
	id, payerID, key, status, method, payerWallet, payeeWallet, intent string
	amount                                                             int64
}

// rowKey identifies a transaction or hold of the plan: the wallet it was
// written for and its idempotency key. Keys are unique within a plan.
type rowKey struct{ wallet, key string }

// expectation is one transaction or hold the database may hold.
type expectation struct {
	op *workload.Op
	// actor is the subject that must have written it.
	actor string
	// applied is true when the row must exist and false when it must not.
	applied bool
	what    string
	matched int
}

// checkPayments compares payment.payments with the payment operations and
// the fake Stripe's count. It returns the plan's payments.
func checkPayments(ctx context.Context, conn *pgx.Conn, in Input, r *Report) ([]payment, error) {
	rows, err := conn.Query(ctx, `SELECT id::text, payer_id, idempotency_key, status, method, amount,
			COALESCE(payer_wallet_id::text, ''), payee_wallet_id::text, COALESCE(stripe_payment_intent_id, '')
		FROM payment.payments WHERE payer_id = ANY($1)`, in.Plan.Subjects())
	if err != nil {
		return nil, fmt.Errorf("read payments: %w", err)
	}
	payments, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (payment, error) {
		var p payment
		err := row.Scan(&p.id, &p.payerID, &p.key, &p.status, &p.method, &p.amount, &p.payerWallet, &p.payeeWallet, &p.intent)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("read payments: %w", err)
	}

	byKey := map[rowKey]payment{}
	intents := map[string]bool{}
	for _, p := range payments {
		byKey[rowKey{p.payerID, p.key}] = p
		if p.intent != "" {
			intents[p.intent] = true
		}
		if p.status == "pending" {
			r.violate("payment %s (key %s) is still pending", p.id, p.key)
		}
	}
	explained := map[string]bool{}
	for _, op := range in.Plan.All() {
		if !op.IsPayment() {
			continue
		}
		p, found := byKey[rowKey{op.Actor, op.Key}]
		explained[p.id] = found
		checkPayment(op, p, found, r)
	}
	for _, p := range payments {
		if !explained[p.id] {
			r.Duplicated++
			r.violate("payment %s (payer %s, key %s) matches no operation", p.id, p.payerID, p.key)
		}
	}
	if extra := in.ChargesCreated - len(intents); extra != 0 {
		r.Duplicated += max(extra, 0)
		r.violate("the fake Stripe created %d PaymentIntents, the payments reference %d", in.ChargesCreated, len(intents))
	}
	return payments, nil
}

func checkPayment(op *workload.Op, p payment, found bool, r *Report) {
	switch op.Outcome {
	case workload.Acknowledged:
		switch {
		case !found:
			r.Lost++
			r.violate("acknowledged %s %s has no payment row", op.Kind, op.Key)
		case p.id != op.Result.ID || p.status != "succeeded":
			r.violate("acknowledged %s %s returned payment %s, the row is %s with status %s", op.Kind, op.Key, op.Result.ID, p.id, p.status)
		}
	case workload.Rejected:
		if found && p.status != "failed" {
			r.violate("rejected %s %s has payment %s with status %s", op.Kind, op.Key, p.id, p.status)
		}
	}
}

// checkTransactions matches every wallet transaction of the plan's
// wallets with exactly one expectation.
func checkTransactions(ctx context.Context, conn *pgx.Conn, plan *workload.Plan, payments []payment, r *Report) error {
	expected := map[rowKey]*expectation{}
	for _, op := range plan.All() {
		if !op.MovesMoneyByTransaction() || (op.Outcome != workload.Acknowledged && op.Outcome != workload.Rejected) {
			continue
		}
		expected[rowKey{op.WalletID, op.Key}] = &expectation{op: op, actor: op.Actor, applied: op.Outcome == workload.Acknowledged,
			what: fmt.Sprintf("%s %s %s", op.Outcome, op.Kind, op.Key)}
	}
	for _, p := range payments {
		succeeded := p.status == "succeeded"
		if p.method == "wallet" {
			expected[rowKey{p.payerWallet, "payment:" + p.id}] = &expectation{actor: p.payerID, applied: succeeded,
				what: fmt.Sprintf("transfer of %s wallet payment %s", p.status, p.id)}
		} else {
			expected[rowKey{p.payeeWallet, "payment:" + p.id + ":credit"}] = &expectation{applied: succeeded,
				what: fmt.Sprintf("payee credit of %s card payment %s", p.status, p.id)}
		}
	}

	rows, err := conn.Query(ctx, `SELECT id::text, wallet_id::text, actor, idempotency_key FROM wallet.transactions
		WHERE wallet_id = ANY($1::uuid[]) OR counterparty_wallet_id = ANY($1::uuid[]) ORDER BY created_at`, plan.WalletIDs())
	if err != nil {
		return fmt.Errorf("read transactions: %w", err)
	}
	var id, wallet, actor, key string
	_, err = pgx.ForEachRow(rows, []any{&id, &wallet, &actor, &key}, func() error {
		e, ok := expected[rowKey{wallet, key}]
		switch {
		case !ok:
			r.Duplicated++
			r.violate("transaction %s on wallet %s (actor %s, key %q) matches no operation", id, wallet, actor, key)
		case e.actor != "" && e.actor != actor:
			r.violate("transaction %s for %s was written by %s", id, e.what, actor)
		case e.op != nil && e.applied && e.op.Result.ID != id:
			r.violate("transaction %s for %s, which returned %s", id, e.what, e.op.Result.ID)
		}
		if ok {
			e.matched++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read transactions: %w", err)
	}
	tally(expected, r)
	return nil
}

// tally counts every expectation that matched the wrong number of rows.
func tally(expected map[rowKey]*expectation, r *Report) {
	for _, e := range expected {
		switch {
		case e.applied && e.matched == 0:
			r.Lost++
			r.violate("%s is missing from the database", e.what)
		case e.applied && e.matched > 1:
			r.Duplicated += e.matched - 1
			r.violate("%s is in the database %d times", e.what, e.matched)
		case !e.applied && e.matched > 0:
			r.violate("%s was applied %d times", e.what, e.matched)
		}
	}
}

// checkHolds matches the plan's holds with their placements and checks
// the state their capture or void left.
func checkHolds(ctx context.Context, conn *pgx.Conn, plan *workload.Plan, r *Report) error {
	expected := map[rowKey]*expectation{}
	ends := map[*workload.Op]*workload.Op{}
	for _, op := range plan.All() {
		switch {
		case op.Kind == workload.PlaceHold && (op.Outcome == workload.Acknowledged || op.Outcome == workload.Rejected):
			expected[rowKey{op.WalletID, op.Key}] = &expectation{op: op, actor: op.Actor, applied: op.Outcome == workload.Acknowledged,
				what: fmt.Sprintf("%s hold %s", op.Outcome, op.Key)}
		case op.Parent != nil && op.Outcome == workload.Acknowledged:
			ends[op.Parent] = op
		}
	}

	rows, err := conn.Query(ctx, `SELECT id::text, wallet_id::text, actor, idempotency_key, status, captured_amount
		FROM wallet.holds WHERE wallet_id = ANY($1::uuid[])`, plan.WalletIDs())
	if err != nil {
		return fmt.Errorf("read holds: %w", err)
	}
	var id, wallet, actor, key, status string
	var captured int64
	_, err = pgx.ForEachRow(rows, []any{&id, &wallet, &actor, &key, &status, &captured}, func() error {
		e, ok := expected[rowKey{wallet, key}]
		if !ok {
			r.Duplicated++
			r.violate("hold %s on wallet %s (key %q) matches no operation", id, wallet, key)
			return nil
		}
		e.matched++
		if e.applied {
			checkHoldState(e.op, ends[e.op], id, status, captured, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read holds: %w", err)
	}
	tally(expected, r)
	return nil
}

func checkHoldState(place, end *workload.Op, id, status string, captured int64, r *Report) {
	want, wantCaptured := "active", int64(0)
	if end != nil && end.Kind == workload.Capture {
		want, wantCaptured = "captured", end.Result.Amount
	} else if end != nil {
		want = "voided"
	}
	if id != place.Result.ID || status != want || captured != wantCaptured {
		r.violate("hold %s of %s is %s with %d captured, want %s %s with %d captured",
			id, place.Key, status, captured, place.Result.ID, want, wantCaptured)
	}
}
