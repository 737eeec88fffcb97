package workload

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"reflect"
	"testing"
)

func testPlan() *Plan {
	p := &Plan{Name: "t", Payee: Party{Subject: "payee", WalletID: "w-payee"}, Service: Party{Subject: "billing"}}
	for i, id := range []string{"w0", "w1", "w2", "w3"} {
		p.Users = append(p.Users, Party{Subject: "user-" + string(rune('0'+i)), WalletID: id})
	}
	return p
}

// summary returns the fields that generate sets, for comparison.
func summary(ops []*Op) []Op {
	out := make([]Op, len(ops))
	for i, op := range ops {
		out[i] = Op{Index: op.Index, Kind: op.Kind, Key: op.Key, Actor: op.Actor, WalletID: op.WalletID,
			ToWalletID: op.ToWalletID, Amount: op.Amount, Resend: op.Resend, FollowUp: op.FollowUp}
	}
	return out
}

func TestGenerateSameSeedSameOperations(t *testing.T) {
	a, b, c := testPlan(), testPlan(), testPlan()
	a.generate(rand.New(rand.NewPCG(7, 1)), 200, false)
	b.generate(rand.New(rand.NewPCG(7, 1)), 200, false)
	c.generate(rand.New(rand.NewPCG(7, 2)), 200, false)

	if !reflect.DeepEqual(summary(a.Ops), summary(b.Ops)) {
		t.Error("two plans with seed 7, stream 1 differ")
	}
	if reflect.DeepEqual(summary(a.Ops), summary(c.Ops)) {
		t.Error("streams 1 and 2 gave the same operations")
	}
}

func TestGenerateKeysUniqueAndKindsMixed(t *testing.T) {
	p := testPlan()
	p.generate(rand.New(rand.NewPCG(1, 1)), 300, false)

	keys := map[string]bool{}
	kinds := map[Kind]int{}
	for _, op := range p.Ops {
		if keys[op.Key] {
			t.Errorf("key %s used twice", op.Key)
		}
		keys[op.Key] = true
		kinds[op.Kind]++
		if op.Amount < 1 || op.Amount > 500 {
			t.Errorf("%s amount %d, want 1 to 500", op.Key, op.Amount)
		}
		if op.Kind == Transfer && op.ToWalletID == op.WalletID {
			t.Errorf("%s transfers to its own wallet", op.Key)
		}
	}
	for _, kind := range []Kind{Transfer, Debit, PlaceHold, WalletPayment, CardPayment} {
		if kinds[kind] == 0 {
			t.Errorf("no %s among 300 operations", kind)
		}
	}
}

func TestGenerateHotTouchesHotWallet(t *testing.T) {
	p := testPlan()
	p.generate(rand.New(rand.NewPCG(1, 1)), 200, true)

	for _, op := range p.Ops {
		if op.WalletID != "w0" && op.ToWalletID != "w0" {
			t.Errorf("%s (%s from %s to %s) does not touch the hot wallet w0", op.Key, op.Kind, op.WalletID, op.ToWalletID)
		}
	}
}

func TestAnswerOutcome(t *testing.T) {
	cases := []struct {
		name string
		a    response
		want Outcome
	}{
		{"connection error", response{err: errors.New("connection refused")}, Unknown},
		{"created", response{status: http.StatusOK}, Acknowledged},
		{"key in use", response{status: http.StatusConflict, code: "idempotency_key_in_use"}, Unknown},
		{"wallet busy", response{status: http.StatusConflict, code: "wallet_busy"}, Unknown},
		{"rate limited", response{status: http.StatusTooManyRequests, code: "rate_limited"}, Unknown},
		{"unavailable", response{status: http.StatusServiceUnavailable, code: "unavailable"}, Unknown},
		{"gateway time-out", response{status: http.StatusGatewayTimeout}, Unknown},
		{"internal", response{status: http.StatusInternalServerError, code: "internal"}, Unknown},
		{"insufficient funds", response{status: http.StatusUnprocessableEntity, code: "insufficient_funds"}, Rejected},
		{"key reused", response{status: http.StatusUnprocessableEntity, code: "idempotency_key_reused"}, Rejected},
		{"bad request", response{status: http.StatusBadRequest, code: "invalid_request"}, Rejected},
	}
	for _, c := range cases {
		if got := c.a.outcome(); got != c.want {
			t.Errorf("%s: outcome %s, want %s", c.name, got, c.want)
		}
	}
}

func TestEffectsOfAcknowledgedOnly(t *testing.T) {
	transfer := &Op{Kind: Transfer, WalletID: "a", ToWalletID: "b", Amount: 30, Outcome: Acknowledged}
	if got := transfer.Effects(); !reflect.DeepEqual(got, map[string]int64{"a": -30, "b": 30}) {
		t.Errorf("transfer effects %v", got)
	}
	capture := &Op{Kind: Capture, WalletID: "a", Outcome: Acknowledged, Result: Result{Amount: 12}}
	if got := capture.Effects(); !reflect.DeepEqual(got, map[string]int64{"a": -12}) {
		t.Errorf("capture effects %v, want the captured amount out of a", got)
	}
	card := &Op{Kind: CardPayment, WalletID: "a", ToWalletID: "p", Amount: 40, Outcome: Acknowledged, Result: Result{PaymentStatus: "succeeded"}}
	if got := card.Effects(); !reflect.DeepEqual(got, map[string]int64{"p": 40}) {
		t.Errorf("card payment effects %v, want only the payee credited", got)
	}
	rejected := &Op{Kind: Debit, WalletID: "a", Amount: 5, Outcome: Rejected}
	if got := rejected.Effects(); got != nil {
		t.Errorf("rejected debit effects %v, want none", got)
	}
}
