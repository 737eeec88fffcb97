package payments_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/services/payment/internal/payments"
	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
	"github.com/advancia-pay/ledger/services/payment/internal/webhook"
)

func TestWalletPaymentMovesMoneyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	first, err := e.svc.CreatePayment(ctx, patient, walletPayment("pay-1", 300))
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.CreatePayment(ctx, patient, walletPayment("pay-1", 300))
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != payments.StatusSucceeded || again.ID != first.ID {
		t.Errorf("payment %+v then %+v, want one succeeded payment", first, again)
	}
	if e.ledger.balance(payerWallet) != 700 || e.ledger.balance(payeeWallet) != 300 {
		t.Errorf("balances %d / %d, want 700 / 300", e.ledger.balance(payerWallet), e.ledger.balance(payeeWallet))
	}
}

func TestWalletPaymentWithoutFundsFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	_, err := e.svc.CreatePayment(ctx, patient, walletPayment("too-much", 5000))
	if got := codeOf(err); got != apperr.InsufficientFunds {
		t.Fatalf("code = %q, want insufficient_funds", got)
	}
	if e.ledger.balance(payerWallet) != 1000 || e.ledger.effectCount() != 0 {
		t.Errorf("payer balance %d with %d ledger effects, want 1000 and none", e.ledger.balance(payerWallet), e.ledger.effectCount())
	}
	if n := e.count(t, `SELECT count(*) FROM payments WHERE status = 'failed' AND failure_reason = 'insufficient_funds'`); n != 1 {
		t.Errorf("failed payments = %d, want 1", n)
	}
}

func TestRefusedWalletPaymentRetryGetsSameError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	for attempt := 1; attempt <= 2; attempt++ {
		_, err := e.svc.CreatePayment(ctx, patient, walletPayment("too-much", 5000))
		if got := codeOf(err); got != apperr.InsufficientFunds {
			t.Errorf("attempt %d: code = %q, want insufficient_funds", attempt, got)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM payments`); n != 1 {
		t.Errorf("payments = %d, want 1", n)
	}
	if e.ledger.effectCount() != 0 {
		t.Errorf("ledger effects = %d, want none", e.ledger.effectCount())
	}
}

func TestConcurrentRefundsStayWithinPayment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.svc.CreatePayment(ctx, patient, walletPayment("pay", 100))
	if err != nil {
		t.Fatal(err)
	}

	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.svc.CreateRefund(ctx, billing, payments.Refund{PaymentID: p.ID, Amount: 60, IdempotencyKey: fmt.Sprintf("r%d", i)})
		})
	}
	wg.Wait()

	ok, exceeded := 0, 0
	for _, err := range errs {
		switch codeOf(err) {
		case "":
			ok++
		case apperr.RefundExceedsPayment:
			exceeded++
		default:
			t.Errorf("refund: %v", err)
		}
	}
	if ok != 1 || exceeded != 1 {
		t.Errorf("succeeded %d, refund_exceeds_payment %d; want 1 and 1", ok, exceeded)
	}
	got, _ := e.svc.GetPayment(ctx, billing, p.ID)
	if got.RefundedAmount != 60 {
		t.Errorf("refunded_amount = %d, want 60", got.RefundedAmount)
	}
	if _, err := e.relay.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if e.ledger.balance(payeeWallet) != 40 {
		t.Errorf("payee balance after the reversal = %d, want 40", e.ledger.balance(payeeWallet))
	}
	if _, err := e.svc.CreateRefund(ctx, patient, payments.Refund{PaymentID: p.ID, Amount: 1, IdempotencyKey: "r9"}); codeOf(err) != apperr.PermissionDenied {
		t.Errorf("refund by the payer: code = %q, want permission_denied", codeOf(err))
	}
}

func TestCardPaymentCreditsPayeeOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	p, err := e.svc.CreatePayment(ctx, patient, cardPayment("card-1", "pm_card_visa", 2500))
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != payments.StatusSucceeded || p.StripePaymentIntentID == "" {
		t.Fatalf("payment = %+v, want succeeded with a PaymentIntent", p)
	}
	// The process "died" before the relay ran: the credit waits in the
	// outbox. Two relays (a restart and another replica) run it.
	if n := e.count(t, `SELECT count(*) FROM outbox WHERE processed_at IS NULL`); n != 1 {
		t.Fatalf("pending outbox entries = %d, want 1", n)
	}
	for range 2 {
		if _, err := e.relay.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if e.ledger.balance(payeeWallet) != 2500 || e.ledger.effectCount() != 1 {
		t.Errorf("payee balance %d with %d effects, want 2500 and 1", e.ledger.balance(payeeWallet), e.ledger.effectCount())
	}
	// Replaying the finished entry moves nothing either: the ledger key is
	// derived from the payment id.
	if _, err := e.pool.Exec(ctx, `UPDATE outbox SET processed_at = NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.relay.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if e.ledger.balance(payeeWallet) != 2500 {
		t.Errorf("payee balance after a repeated relay = %d, want 2500", e.ledger.balance(payeeWallet))
	}
}

func TestStripeTimeoutRetryMakesOneIntent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.stripe.FailNext("/v1/payment_intents", stripetest.FaultTimeout, 1)

	_, err := e.svc.CreatePayment(ctx, patient, cardPayment("card-1", "pm_card_visa", 900))
	if codeOf(err) != apperr.Unavailable {
		t.Fatalf("first attempt: code = %q (%v), want unavailable", codeOf(err), err)
	}
	p, err := e.svc.CreatePayment(ctx, patient, cardPayment("card-1", "pm_card_visa", 900))
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != payments.StatusSucceeded || e.stripe.PaymentIntentCount() != 1 {
		t.Errorf("payment %s after the retry with %d PaymentIntents, want succeeded and 1", p.Status, e.stripe.PaymentIntentCount())
	}
}

func TestDeclinedCardFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.svc.CreatePayment(ctx, patient, cardPayment("card-1", "pm_card_chargeDeclined", 900))
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != payments.StatusFailed || p.FailureReason == "" {
		t.Errorf("payment = %+v, want failed with a reason", p)
	}
	if n := e.count(t, `SELECT count(*) FROM outbox`); n != 0 {
		t.Errorf("outbox entries = %d, want 0", n)
	}
}

func TestWebhookAppliesEventOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _, err := e.store.CreatePayment(ctx, payments.Payment{ID: "0190c6a4-0000-7000-8000-0000000000c1", Method: payments.MethodCard,
		Amount: 700, Currency: "USD", PayerID: "patient-1", PayeeWalletID: payeeWallet, PaymentMethod: "pm_card_visa", IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetPaymentIntent(ctx, p.ID, "pi_123"); err != nil {
		t.Fatal(err)
	}

	payload := event(t, "evt_1", "payment_intent.succeeded", map[string]any{"id": "pi_123", "object": "payment_intent", "status": "succeeded"})
	header := signature(payload, webhookSecret, time.Now())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			ev, err := webhook.Verify(payload, header, webhookSecret, time.Now())
			if err == nil {
				_, err = e.svc.HandleEvent(ctx, ev)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.count(t, `SELECT count(*) FROM outbox WHERE payment_id = $1`, p.ID); n != 1 {
		t.Errorf("outbox entries = %d, want 1", n)
	}

	late := event(t, "evt_2", "payment_intent.payment_failed", map[string]any{"id": "pi_123", "object": "payment_intent", "status": "requires_payment_method"})
	ev, err := webhook.Verify(late, signature(late, webhookSecret, time.Now()), webhookSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.HandleEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.GetPayment(ctx, billing, p.ID); got.Status != payments.StatusSucceeded {
		t.Errorf("status after a late payment_failed = %s, want succeeded", got.Status)
	}
}

func TestWebhookRejectsBadDeliveries(t *testing.T) {
	t.Parallel()
	payload := event(t, "evt_1", "payment_intent.succeeded", map[string]any{"id": "pi_1", "object": "payment_intent"})
	now := time.Now()
	cases := map[string]string{
		"bad signature":    signature(payload, "whsec_other", now),
		"missing header":   "",
		"stale timestamp":  signature(payload, webhookSecret, now.Add(-6*time.Minute)),
		"future timestamp": signature(payload, webhookSecret, now.Add(6*time.Minute)),
	}
	for name, header := range cases {
		if _, err := webhook.Verify(payload, header, webhookSecret, now); err == nil {
			t.Errorf("%s: accepted, want rejected", name)
		}
	}
	if _, err := webhook.Verify(payload, signature(payload, webhookSecret, now), webhookSecret, now); err != nil {
		t.Errorf("valid delivery rejected: %v", err)
	}
}

func TestDisputeBlocksRefunds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.svc.CreatePayment(ctx, patient, cardPayment("card-1", "pm_card_visa", 500))
	if err != nil {
		t.Fatal(err)
	}
	dispute := event(t, "evt_d", "charge.dispute.created", map[string]any{
		"id": "dp_1", "object": "dispute", "status": "needs_response", "amount": 500, "payment_intent": p.StripePaymentIntentID})
	ev, err := webhook.Verify(dispute, signature(dispute, webhookSecret, time.Now()), webhookSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.HandleEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.CreateRefund(ctx, billing, payments.Refund{PaymentID: p.ID, Amount: 100, IdempotencyKey: "r1"})
	if codeOf(err) != apperr.PaymentNotRefundable {
		t.Errorf("refund of a disputed payment: code = %q, want payment_not_refundable", codeOf(err))
	}
}

func TestCardRefundGoesThroughStripeAndLedger(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.svc.CreatePayment(ctx, patient, cardPayment("card-1", "pm_card_visa", 2500))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.relay.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}

	r, err := e.svc.CreateRefund(ctx, billing, payments.Refund{PaymentID: p.ID, Amount: 1000, Reason: "requested_by_customer", IdempotencyKey: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != payments.StatusSucceeded || r.StripeRefundID == "" || e.stripe.RefundCount() != 1 {
		t.Errorf("refund = %+v with %d Stripe refunds, want succeeded with one Stripe refund", r, e.stripe.RefundCount())
	}
	again, err := e.svc.CreateRefund(ctx, billing, payments.Refund{PaymentID: p.ID, Amount: 1000, Reason: "requested_by_customer", IdempotencyKey: "r1"})
	if err != nil || again.ID != r.ID || e.stripe.RefundCount() != 1 {
		t.Errorf("retried refund = %+v, %v with %d Stripe refunds, want the same refund and one Stripe refund", again, err, e.stripe.RefundCount())
	}
	if _, err := e.relay.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.ledger.balance(payeeWallet); got != 1500 {
		t.Errorf("payee balance after the refund's reversal = %d, want 1500", got)
	}
	if _, err := e.svc.CreateRefund(ctx, billing, payments.Refund{PaymentID: p.ID, Amount: 1501, IdempotencyKey: "r2"}); codeOf(err) != apperr.RefundExceedsPayment {
		t.Errorf("refund over the rest: code = %q, want refund_exceeds_payment", codeOf(err))
	}
}

func TestFailingOutboxEntriesDoNotBlockNewOnes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.svc.CreatePayment(ctx, patient, cardPayment("card-1", "pm_card_visa", 100))
	if err != nil {
		t.Fatal(err)
	}
	// The first entry has failed 50 times already; a newer, untried entry
	// must come before it.
	if _, err := e.pool.Exec(ctx, `UPDATE outbox SET attempts = 50`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `INSERT INTO outbox (kind, payment_id, created_at) VALUES ('credit_payee', $1, now())`, p.ID); err != nil {
		t.Fatal(err)
	}
	entries, err := e.store.PendingOutbox(ctx, 1)
	if err != nil || len(entries) != 1 || entries[0].Attempts != 0 {
		t.Errorf("first pending entry = %+v, %v; want the untried one", entries, err)
	}
}
