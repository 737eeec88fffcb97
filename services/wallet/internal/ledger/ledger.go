// Package ledger holds the wallet service's domain: wallets, transactions,
// the operations that move money, and the Service that applies them with
// the Redis lock and the posting engine.
package ledger

import (
	"context"
	"time"
)

// Transaction types.
const (
	TypeCredit   = "credit"
	TypeDebit    = "debit"
	TypeTransfer = "transfer"
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
	MaxDescriptionLength    = 500
	MaxIdempotencyKeyLength = 255
	MaxPageSize             = 100
	DefaultPageSize         = 50
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
	CreatedAt            time.Time
}

// Operation is one request to move money, as the posting engine takes it.
type Operation struct {
	Type string
	// WalletID is the wallet the key is scoped to: the credited wallet of a
	// credit, the debited wallet of a debit or transfer.
	WalletID string
	// ToWalletID is the receiving wallet of a transfer.
	ToWalletID string
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
	if op.Type == TypeTransfer {
		return []string{op.WalletID, op.ToWalletID}
	}
	return []string{op.WalletID}
}

// Result is the outcome of one operation of a batch.
type Result struct {
	Transaction Transaction
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
}
