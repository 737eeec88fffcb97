package workload

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// request is the HTTP form of an operation.
type request struct {
	method, path, body string
}

// expectedCodes are the business rejections each kind may meet in the
// workload. Any other rejection breaks the retry contract or the suite.
var expectedCodes = map[Kind][]string{
	Debit:         {"insufficient_funds"},
	Transfer:      {"insufficient_funds"},
	PlaceHold:     {"insufficient_funds"},
	WalletPayment: {"insufficient_funds"},
}

// request builds op's request. A capture or void needs its placement's
// hold id, so it is built only once the placement is acknowledged.
func (op *Op) request() request {
	amount := strconv.FormatInt(op.Amount, 10)
	switch op.Kind {
	case Credit:
		return request{http.MethodPost, "/v1/wallets/" + op.WalletID + "/credit", jsonBody(map[string]string{"amount": amount, "description": "chaos funding"})}
	case Debit:
		return request{http.MethodPost, "/v1/wallets/" + op.WalletID + "/debit", jsonBody(map[string]string{"amount": amount})}
	case Transfer:
		return request{http.MethodPost, "/v1/transfers", jsonBody(map[string]string{
			"from_wallet_id": op.WalletID, "to_wallet_id": op.ToWalletID, "amount": amount})}
	case PlaceHold:
		return request{http.MethodPost, "/v1/wallets/" + op.WalletID + "/holds", jsonBody(map[string]string{"amount": amount})}
	case Capture:
		body := map[string]string{}
		if op.Amount > 0 {
			body["amount"] = amount
		}
		return request{http.MethodPost, "/v1/holds/" + op.Parent.Result.ID + "/capture", jsonBody(body)}
	case Void:
		return request{http.MethodPost, "/v1/holds/" + op.Parent.Result.ID + "/void", ""}
	case WalletPayment:
		return request{http.MethodPost, "/v1/payments", jsonBody(map[string]string{
			"payee_wallet_id": op.ToWalletID, "amount": amount, "currency": "USD", "method": "wallet", "payer_wallet_id": op.WalletID})}
	case CardPayment:
		return request{http.MethodPost, "/v1/payments", jsonBody(map[string]string{
			"payee_wallet_id": op.ToWalletID, "amount": amount, "currency": "USD", "method": "card", "payment_method": "pm_card_visa"})}
	}
	panic("workload: unknown kind " + string(op.Kind))
}

func jsonBody(fields map[string]string) string {
	raw, err := json.Marshal(fields)
	if err != nil {
		panic("workload: encode request body: " + err.Error())
	}
	return string(raw)
}

// parseResult reads the resource an acknowledged response returned.
func parseResult(kind Kind, a response) (Result, error) {
	var body struct {
		ID          string `json:"id"`
		Amount      string `json:"amount"`
		Status      string `json:"status"`
		Transaction struct {
			ID     string `json:"id"`
			Amount string `json:"amount"`
		} `json:"transaction"`
	}
	if err := json.Unmarshal(a.body, &body); err != nil {
		return Result{}, fmt.Errorf("decode %s response %s: %w", kind, a.body, err)
	}
	r := Result{ID: body.ID, Replayed: a.replayed}
	amount := body.Amount
	switch kind {
	case Capture:
		r.ID, amount = body.Transaction.ID, body.Transaction.Amount
	case WalletPayment, CardPayment:
		r.PaymentStatus = body.Status
	}
	if amount != "" {
		n, err := strconv.ParseInt(amount, 10, 64)
		if err != nil {
			return Result{}, fmt.Errorf("decode %s response %s: amount %q: %w", kind, a.body, amount, err)
		}
		r.Amount = n
	}
	if r.ID == "" {
		return Result{}, fmt.Errorf("%s response %s has no id", kind, a.body)
	}
	return r, nil
}

// checkAcknowledged returns what is wrong with an acknowledged result.
func (op *Op) checkAcknowledged(r Result) string {
	if op.IsPayment() && r.PaymentStatus != "succeeded" {
		return fmt.Sprintf("%s %s acknowledged with payment status %q, want succeeded", op.Kind, op.Key, r.PaymentStatus)
	}
	return ""
}

// checkRejected returns what is wrong with a rejection.
func (op *Op) checkRejected(a response) string {
	if slices.Contains(expectedCodes[op.Kind], a.code) {
		return ""
	}
	return fmt.Sprintf("%s %s rejected unexpectedly: %s", op.Kind, op.Key, a.describe())
}
