// Package ledger holds the wallet service's domain: wallets, transactions,
// the operations that move money, and the Service that applies them with
// the Redis lock and the posting engine.
package ledger

import (
	"context"
	"time"
)

// Transaction types, and the operation types that write no transaction
// (holds placed and voided).
const (
	TypeCredit   = "credit"
	TypeDebit    = "debit"
	TypeTransfer = "transfer"
	TypeCapture  = "capture"
	TypeReversal = "reversal"
	TypeHold     = "hold"
	TypeVoid     = "void"
)

// Hold statuses. A hold ends exactly once: captured, voided or expired.
const (
	HoldActive   = "active"
	HoldCaptured = "captured"
	HoldVoided   = "voided"
	HoldExpired  = "expired"
)

// StatusPosted is the only transaction status so far: a transaction is
// written once it is final.
const StatusPosted = "posted"

// Directions of a transaction as seen from one wallet.
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// Limits on request fields.
const (
	MaxDescriptionLength = 500
	MaxPageSize          = 100
	DefaultPageSize      = 50
	// MaxHoldDuration bounds expires_in_seconds: 30 days.
	MaxHoldDuration = 30 * 24 * time.Hour
)

// Wallet is one owner's balance in one currency. Amounts are in the
// currency's minor unit.
type Wallet struct {
	ID               string
	OwnerID          string
	Currency         string
	Balance          int64
	AvailableBalance int64
	CreatedAt        time.Time
}

// Transaction is a posted movement of money as seen from WalletID.
type Transaction struct {
	ID                   string
	Type                 string
	Amount               int64
	Currency             string
	Status               string
	WalletID             string
	CounterpartyWalletID string
	BalanceAfter         int64
	IdempotencyKey       string
	Description          string
	Direction            string
	// HoldID is the hold a capture captured.
	HoldID string
	// ReversesTransactionID is the transaction a reversal reverses.
	ReversesTransactionID string
	CreatedAt             time.Time
}

// Hold reserves part of a wallet's available balance until it is captured,
// voided or expires.
type Hold struct {
	ID             string
	WalletID       string
	Amount         int64
	CapturedAmount int64
	Currency       string
	// Status is HoldExpired for an active hold past ExpiresAt, even before
	// the sweep records it.
	Status      string
	Description string
	// ExpiresAt is zero for a hold that never expires.
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Balance is a wallet's posted balance at a point in time.
type Balance struct {
	WalletID string
	Currency string
	Balance  int64
	At       time.Time
}

// Operation is one request to the posting engine: a money movement, or a
// hold placed or voided.
type Operation struct {
	Type string
	// WalletID is the wallet the key is scoped to. It is the credited
	// wallet of a credit and the debited wallet of a debit or transfer. For
	// a hold, capture or void it is the held wallet, and for a reversal the
	// source wallet of the reversed transaction.
	WalletID string
	// ToWalletID is the receiving wallet of a transfer, the optional
	// receiving wallet of a capture, and the counterparty of the
	// transaction a reversal reverses.
	ToWalletID string
	// HoldID names the hold of a capture or void.
	HoldID string
	// TransactionID names the transaction a reversal reverses.
	TransactionID string
	// ExpiresIn is the lifetime of a new hold; zero means no expiry.
	ExpiresIn time.Duration
	// Currency is WalletID's currency, filled in by the Service; the engine
	// checks it again against the locked rows.
	Currency       string
	Amount         int64
	Description    string
	IdempotencyKey string
	// RequestHash fingerprints the request, so that a key reused for a
	// different request is rejected instead of replayed.
	RequestHash []byte
	Actor       string
	RequestID   string
}

// WalletIDs returns the user wallets the operation changes.
func (op Operation) WalletIDs() []string {
	if op.ToWalletID != "" {
		return []string{op.WalletID, op.ToWalletID}
	}
	return []string{op.WalletID}
}

// Result is the outcome of one operation of a batch.
type Result struct {
	// Transaction is the posted transaction; zero for a hold placed or
	// voided.
	Transaction Transaction
	// Hold is the hold a hold, capture or void operation acted on, as it
	// is after the operation.
	Hold *Hold
	// Replayed is true when the idempotency key had already been used for
	// the same request and Transaction is the original one.
	Replayed bool
	Err      error
}

// Page selects one page of a listing.
type Page struct {
	Size int
	// After is the cursor of the last entry of the previous page; 0 starts
	// from the newest.
	After int64
}

// Store is the wallet service's persistence, implemented by the postgres
// package.
type Store interface {
	// CreateWallet inserts a user wallet, or returns the owner's existing
	// wallet in that currency (created is then false).
	CreateWallet(ctx context.Context, ownerID, currency string) (w Wallet, created bool, err error)
	GetWallet(ctx context.Context, id string) (Wallet, error)
	ListWallets(ctx context.Context, ownerID string) ([]Wallet, error)
	// Apply is the posting engine: it applies a batch of operations in one
	// SERIALIZABLE transaction and returns one result per operation, in
	// order. An operation rejected for a domain reason fails alone. An
	// infrastructure failure fails every operation with the same error.
	Apply(ctx context.Context, ops []Operation) []Result
	// GetTransaction returns a transaction as seen from its source wallet,
	// or from viewerWalletID when that is its counterparty.
	GetTransaction(ctx context.Context, id, viewerWalletID string) (Transaction, error)
	// ListTransactions returns up to page.Size transactions that touched a
	// wallet, newest first, and the cursor of the next page (0 at the end).
	ListTransactions(ctx context.Context, walletID string, page Page) ([]Transaction, int64, error)
	GetHold(ctx context.Context, id string) (Hold, error)
	// BalanceAt sums a wallet's postings created at or before at.
	BalanceAt(ctx context.Context, walletID string, at time.Time) (int64, error)
}
