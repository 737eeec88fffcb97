// Package payments holds the payment service's domain: payments from a
// payer to a payee by card or wallet, refunds, and the rules that keep
// them honest. Money moves only through the Ledger (the wallet service);
// card charges go through Stripe.
package payments

import (
	"context"
	"time"
)

// Payment statuses. A status only moves forward: pending to succeeded or
// failed.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Payment methods.
const (
	MethodWallet = "wallet"
	MethodCard   = "card"
)

// Payment is one charge from a payer to a payee.
type Payment struct {
	ID                    string
	Status                string
	Method                string
	Amount                int64
	RefundedAmount        int64
	Currency              string
	PayerID               string
	PayerWalletID         string
	PayeeWalletID         string
	PaymentMethod         string
	StripePaymentIntentID string
	LedgerTransactionID   string
	Description           string
	Metadata              map[string]string
	FailureReason         string
	Disputed              bool
	IdempotencyKey        string
	CreatedAt             time.Time
}

// Refund returns part of a succeeded payment.
type Refund struct {
	ID             string
	PaymentID      string
	Amount         int64
	Status         string
	Reason         string
	StripeRefundID string
	RequestedBy    string
	IdempotencyKey string
	CreatedAt      time.Time
}

// Outbox kinds: ledger calls the relay makes after a commit.
const (
	OutboxCreditPayee      = "credit_payee"
	OutboxReverseForRefund = "reverse_for_refund"
)

// OutboxEntry is one pending ledger call.
type OutboxEntry struct {
	ID        int64
	Kind      string
	PaymentID string
	RefundID  string
	Attempts  int
	CreatedAt time.Time
}

// Ledger is the wallet service as the payment service uses it. Every call
// carries an idempotency key derived from a payment or refund id, so a
// repeated call never moves money twice.
type Ledger interface {
	// Transfer moves money between wallets as the paying user, so that the
	// wallet service checks that the user owns the paying wallet. It
	// returns the wallet transaction id.
	Transfer(ctx context.Context, from, to string, amount int64, description, key string) (string, error)
	// Credit adds money to a wallet from the clearing wallet, as the
	// payment service.
	Credit(ctx context.Context, walletID string, amount int64, description, key string) (string, error)
	// Reverse reverses amount of a wallet transaction, as the payment
	// service.
	Reverse(ctx context.Context, transactionID string, amount int64, reason, key string) (string, error)
}

// Charge is the outcome of a card charge.
type Charge struct {
	PaymentIntentID string
	// Status is Stripe's PaymentIntent status, such as "succeeded".
	Status string
	// DeclineCode is set when the card was declined.
	DeclineCode string
}

// Cards is Stripe as the payment service uses it, with idempotency keys
// derived from our own ids.
type Cards interface {
	// Charge creates and confirms a PaymentIntent. A declined card is not
	// an error: it returns a Charge with DeclineCode set.
	Charge(ctx context.Context, p Payment, key string) (Charge, error)
	// Refund refunds amount of a PaymentIntent and returns Stripe's refund
	// id and status.
	Refund(ctx context.Context, paymentIntentID string, amount int64, reason, key string) (id, status string, err error)
}

// Event is the part of a verified Stripe event the service acts on.
type Event struct {
	ID   string
	Type string
	// PaymentIntentID and PaymentID identify the payment (the latter from
	// the PaymentIntent's metadata).
	PaymentIntentID string
	PaymentID       string
	// StripeRefundID and RefundStatus are set for refund events.
	StripeRefundID string
	RefundStatus   string
	// DisputeID, DisputeStatus and DisputeAmount are set for disputes.
	DisputeID     string
	DisputeStatus string
	DisputeAmount int64
	// DeclineCode is set for a failed PaymentIntent.
	DeclineCode string
}

// Page selects one page of a listing.
type Page struct {
	Size  int
	After string
}

// Store is the payment service's persistence, implemented by the postgres
// package. Every status change is forward-only.
type Store interface {
	// CreatePayment inserts p, or returns the payment the same payer
	// created with the same idempotency key (created is then false).
	CreatePayment(ctx context.Context, p Payment) (out Payment, created bool, err error)
	GetPayment(ctx context.Context, id string) (Payment, error)
	ListPayments(ctx context.Context, payerID string, page Page) ([]Payment, string, error)
	SetPaymentIntent(ctx context.Context, paymentID, intentID string) error
	// MarkSucceeded moves a pending payment to succeeded; with
	// creditPayee it also queues the payee's credit in the outbox, in the
	// same transaction. It reports whether the payment changed.
	MarkSucceeded(ctx context.Context, paymentID, ledgerTransactionID string, creditPayee bool) (bool, error)
	// MarkFailed moves a pending payment to failed.
	MarkFailed(ctx context.Context, paymentID, reason string) (bool, error)
	// CreateRefund records a pending refund after checking, with the
	// payment row locked, that the payment succeeded, is not disputed and
	// that the refunds that did not fail stay within its amount.
	CreateRefund(ctx context.Context, r Refund) (out Refund, created bool, err error)
	// CompleteRefund moves a pending refund to succeeded (queueing its
	// ledger reversal) or failed (releasing its amount).
	CompleteRefund(ctx context.Context, refundID, stripeRefundID, status string) error
	ListRefunds(ctx context.Context, paymentID string) ([]Refund, error)
	GetRefund(ctx context.Context, id string) (Refund, error)
	PendingOutbox(ctx context.Context, limit int) ([]OutboxEntry, error)
	// FinishOutbox marks an entry done, recording the ledger transaction
	// of a payee credit on its payment.
	FinishOutbox(ctx context.Context, e OutboxEntry, ledgerTransactionID string) error
	FailOutbox(ctx context.Context, e OutboxEntry, cause error) error
	// HandleEvent applies a Stripe event once: a repeated event id changes
	// nothing and returns false.
	HandleEvent(ctx context.Context, ev Event) (bool, error)
}
