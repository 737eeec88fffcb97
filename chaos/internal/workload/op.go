// Package workload drives the ledger's REST API the way a careful client
// does: every money-moving request carries a client-generated
// Idempotency-Key, and a retry reuses it. It records every operation's
// key and outcome so that the suite can check the database against them.
package workload

import "time"

// Kind is the type of an operation.
type Kind string

// Operation kinds. A hold placement is followed by a capture or a void of
// the same hold, each with its own key.
const (
	Credit        Kind = "credit"
	Debit         Kind = "debit"
	Transfer      Kind = "transfer"
	PlaceHold     Kind = "hold"
	Capture       Kind = "capture"
	Void          Kind = "void"
	WalletPayment Kind = "wallet-payment"
	CardPayment   Kind = "card-payment"
)

// Outcome is the client's knowledge of an operation's result.
type Outcome int

// Outcomes. Pending means no attempt has been made yet.
const (
	Pending Outcome = iota
	// Acknowledged is a 2xx response.
	Acknowledged
	// Rejected is a final 4xx response, such as 422 insufficient_funds.
	Rejected
	// Unknown is a time-out, a connection error, a 5xx, or a response that
	// calls for a retry (409 idempotency_key_in_use or wallet_busy, 429).
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Acknowledged:
		return "acknowledged"
	case Rejected:
		return "rejected"
	case Unknown:
		return "unknown"
	}
	return "pending"
}

// Op is one keyed request and what came of it. One goroutine at a time
// works on an Op.
type Op struct {
	Index int
	Kind  Kind
	Key   string
	// Actor is the subject of the token the request is sent with.
	Actor string
	token string
	// WalletID is the wallet the money leaves (or, for a credit or a card
	// payment, enters); ToWalletID receives a transfer or a payment.
	WalletID, ToWalletID string
	// Amount is the requested amount; 0 captures the whole hold.
	Amount int64
	// Resend sends the request once more after it is acknowledged, as a
	// client that lost the response does.
	Resend bool
	// FollowUp is the capture or void that ends a placed hold.
	FollowUp Kind
	// Parent is the hold placement that a capture or void ends.
	Parent *Op

	Outcome Outcome
	// WasUnknown is set when any attempt got an Unknown response.
	WasUnknown bool
	Attempts   int
	// Status, Code and Detail are the last response's HTTP status and
	// problem+json code and detail.
	Status         int
	Code, Detail   string
	Result         Result
	AcknowledgedAt time.Time
	// Violations are responses the retry contract does not allow, such as a
	// replay that returns another transaction.
	Violations []string
	// Duplicates counts replays that came back with another resource id.
	Duplicates int
}

// Result is the response of an acknowledged operation.
type Result struct {
	// ID is the transaction (credit, debit, transfer, capture), hold
	// (placement, void) or payment id.
	ID string
	// Amount is the amount of the returned transaction or payment.
	Amount int64
	// PaymentStatus is the status of a returned payment.
	PaymentStatus string
	// Replayed is the Idempotent-Replayed response header.
	Replayed bool
}

// Effects returns how an acknowledged operation changed each wallet's
// balance, by wallet id. Holds and voids move no money.
func (op *Op) Effects() map[string]int64 {
	if op.Outcome != Acknowledged {
		return nil
	}
	switch op.Kind {
	case Credit:
		return map[string]int64{op.WalletID: op.Amount}
	case Debit:
		return map[string]int64{op.WalletID: -op.Amount}
	case Transfer:
		return map[string]int64{op.WalletID: -op.Amount, op.ToWalletID: op.Amount}
	case Capture:
		return map[string]int64{op.WalletID: -op.Result.Amount}
	case WalletPayment:
		if op.Result.PaymentStatus == "succeeded" {
			return map[string]int64{op.WalletID: -op.Amount, op.ToWalletID: op.Amount}
		}
	case CardPayment:
		if op.Result.PaymentStatus == "succeeded" {
			return map[string]int64{op.ToWalletID: op.Amount}
		}
	}
	return nil
}

// MovesMoneyByTransaction reports whether an acknowledged operation is one
// wallet transaction under its own key.
func (op *Op) MovesMoneyByTransaction() bool {
	switch op.Kind {
	case Credit, Debit, Transfer, Capture:
		return true
	}
	return false
}

// IsPayment reports whether the operation is a payment.
func (op *Op) IsPayment() bool { return op.Kind == WalletPayment || op.Kind == CardPayment }
