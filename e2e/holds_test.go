package e2e

import (
	"net/http"
	"net/url"
	"testing"
)

type holdJSON struct {
	ID             string `json:"id"`
	WalletID       string `json:"wallet_id"`
	Amount         string `json:"amount"`
	CapturedAmount string `json:"captured_amount"`
	Currency       string `json:"currency"`
	Status         string `json:"status"`
	Description    string `json:"description"`
	ExpiresAt      string `json:"expires_at"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

type captureJSON struct {
	Hold        holdJSON        `json:"hold"`
	Transaction transactionJSON `json:"transaction"`
}

type balanceJSON struct {
	WalletID string `json:"wallet_id"`
	Currency string `json:"currency"`
	Balance  string `json:"balance"`
	At       string `json:"at"`
}

// TestHoldsAndReversals runs the two-phase and correction routes over
// REST: place, capture to another wallet, void, reverse, and the balance
// at a past time.
func TestHoldsAndReversals(t *testing.T) {
	t.Parallel()

	s := startStack(t)
	payer, payee, service := s.token(t, "patient-1"), s.token(t, "clinic-1"), s.serviceToken(t)
	from := s.createWallet(t, payer, "USD")
	to := s.createWallet(t, payee, "USD")
	funded, _ := s.moveMoney(t, service, "fund", "/v1/wallets/"+from.ID+"/credit", `{"amount":"100"}`)

	resp := s.send(t, call{method: http.MethodPost, path: "/v1/wallets/" + from.ID + "/holds", token: payer,
		idempotencyKey: "hold-1", body: `{"amount":"60","description":"visit","expires_in_seconds":300}`})
	hold := decodeOK[holdJSON](t, resp, "place hold")
	if hold.Status != "active" || hold.Amount != "60" || hold.CapturedAmount != "0" || hold.ExpiresAt == "" {
		t.Errorf("hold = %+v, want active 60 with an expiry", hold)
	}
	if w := s.wallet(t, payer, from.ID); w.Balance != "100" || w.AvailableBalance != "40" {
		t.Errorf("payer wallet = %+v, want balance 100, available 40", w)
	}

	resp = s.send(t, call{method: http.MethodPost, path: "/v1/holds/" + hold.ID + "/capture", token: service,
		idempotencyKey: "capture-1", body: `{"amount":"50","to_wallet_id":"` + to.ID + `"}`})
	captured := decodeOK[captureJSON](t, resp, "capture hold")
	if captured.Hold.Status != "captured" || captured.Hold.CapturedAmount != "50" ||
		captured.Transaction.Type != "capture" || captured.Transaction.BalanceAfter != "50" {
		t.Errorf("capture = %+v", captured)
	}

	resp = s.send(t, call{method: http.MethodPost, path: "/v1/holds/" + hold.ID + "/void", token: service, idempotencyKey: "void-1"})
	expectProblem(t, resp, http.StatusUnprocessableEntity, "hold_not_active")

	resp = s.send(t, call{method: http.MethodGet, path: "/v1/holds/" + hold.ID, token: payer})
	if got := decodeOK[holdJSON](t, resp, "get hold"); got.Status != "captured" {
		t.Errorf("hold status = %q, want captured", got.Status)
	}

	reverse := "/v1/transactions/" + captured.Transaction.ID + "/reverse"
	reversal, _ := s.moveMoney(t, service, "reverse-1", reverse, `{"amount":"50","reason":"cancelled visit"}`)
	if reversal.Type != "reversal" || reversal.BalanceAfter != "100" || reversal.ReversesTransaction != captured.Transaction.ID {
		t.Errorf("reversal = %+v", reversal)
	}
	resp = s.send(t, call{method: http.MethodPost, path: reverse, token: service, idempotencyKey: "reverse-2", body: `{"amount":"1"}`})
	expectProblem(t, resp, http.StatusUnprocessableEntity, "reversal_exceeds_transaction")
	resp = s.send(t, call{method: http.MethodPost, path: reverse, token: payer, idempotencyKey: "reverse-3", body: `{"amount":"1"}`})
	expectProblem(t, resp, http.StatusForbidden, "permission_denied")

	if w := s.wallet(t, payee, to.ID); w.Balance != "0" {
		t.Errorf("payee balance = %s, want 0 after the reversal", w.Balance)
	}
	resp = s.send(t, call{method: http.MethodGet, token: payer,
		path: "/v1/wallets/" + from.ID + "/balance?at=" + url.QueryEscape(funded.CreatedAt)})
	if b := decodeOK[balanceJSON](t, resp, "balance at the credit"); b.Balance != "100" || b.Currency != "USD" {
		t.Errorf("balance at the credit = %+v, want 100 USD", b)
	}
}
