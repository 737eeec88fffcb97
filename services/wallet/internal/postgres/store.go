// Package postgres implements the wallet service's ledger.Store on
// PostgreSQL: wallets, the posting engine, and transaction queries.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
	"github.com/advancia-pay/ledger/pkg/pgtx"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
	"github.com/advancia-pay/ledger/services/wallet/migrations"
)

// unavailableRetryAfter is the Retry-After sent when PostgreSQL cannot be
// reached.
const unavailableRetryAfter = 2 * time.Second

// Options tune a Store. The zero value is usable.
type Options struct {
	// Now returns the current time; one value is taken per transaction.
	Now func() time.Time
	// Tx sets the retry budget of serialization failures. Isolation is
	// always SERIALIZABLE.
	Tx pgtx.Options
	// InTxHook, when set, runs inside every transaction attempt of Apply
	// right after the wallet rows are locked. Tests use it to hold a
	// transaction open.
	InTxHook func(ctx context.Context)
}

// Store is the PostgreSQL ledger.Store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	opts Options

	// clearing caches the id of each currency's external clearing wallet;
	// those rows never change once created.
	clearing sync.Map
}

var _ ledger.Store = (*Store)(nil)

// New returns a Store over pool, which must use the wallet schema (see
// NewPool).
func New(pool *pgxpool.Pool, opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Tx.Isolation = pgx.Serializable
	return &Store{pool: pool, opts: opts}
}

// NewPool connects to databaseURL with search_path set to the wallet
// schema. It does not wait for a connection to succeed.
func NewPool(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	return pgmigrate.NewPool(ctx, databaseURL, migrations.Schema)
}

// now returns the store's clock rounded to PostgreSQL's microsecond
// precision, so that a replayed transaction equals the original.
func (s *Store) now() time.Time {
	return s.opts.Now().UTC().Truncate(time.Microsecond)
}

// walletColumns selects a wallet with what its active, unexpired holds
// reserve.
const walletColumns = `id, owner_id, currency, balance, created_at,
	(SELECT coalesce(sum(h.amount - h.captured_amount), 0) FROM holds h
	 WHERE h.wallet_id = wallets.id AND h.status = 'active'
	   AND (h.expires_at IS NULL OR h.expires_at > clock_timestamp()))`

func scanWallet(row pgx.Row) (ledger.Wallet, error) {
	var w ledger.Wallet
	var id uuid.UUID
	var reserved int64
	if err := row.Scan(&id, &w.OwnerID, &w.Currency, &w.Balance, &w.CreatedAt, &reserved); err != nil {
		return ledger.Wallet{}, err
	}
	w.ID = id.String()
	w.CreatedAt = w.CreatedAt.UTC()
	w.AvailableBalance = w.Balance - reserved
	return w, nil
}

// CreateWallet inserts a user wallet or returns the existing one of that
// owner and currency.
func (s *Store) CreateWallet(ctx context.Context, ownerID, currency string) (ledger.Wallet, bool, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return ledger.Wallet{}, false, fmt.Errorf("generate wallet id: %w", err)
	}
	row := s.pool.QueryRow(ctx, `
		INSERT INTO wallets (id, owner_id, kind, currency, balance, created_at)
		VALUES ($1, $2, 'user', $3, 0, $4)
		ON CONFLICT (owner_id, currency) WHERE kind = 'user' DO NOTHING
		RETURNING `+walletColumns, id, ownerID, currency, s.now())
	w, err := scanWallet(row)
	if err == nil {
		return w, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return ledger.Wallet{}, false, translate(err, "create wallet")
	}

	row = s.pool.QueryRow(ctx, `SELECT `+walletColumns+` FROM wallets
		WHERE owner_id = $1 AND currency = $2 AND kind = 'user'`, ownerID, currency)
	w, err = scanWallet(row)
	if err != nil {
		return ledger.Wallet{}, false, translate(err, "read existing wallet")
	}
	return w, false, nil
}

// GetWallet returns a user wallet. System wallets are not visible.
func (s *Store) GetWallet(ctx context.Context, id string) (ledger.Wallet, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+walletColumns+` FROM wallets
		WHERE id = $1 AND kind = 'user'`, id)
	w, err := scanWallet(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Wallet{}, apperr.New(apperr.NotFound, "wallet %s not found", id)
	}
	if err != nil {
		return ledger.Wallet{}, translate(err, "read wallet")
	}
	return w, nil
}

// ListWallets returns an owner's wallets, oldest first.
func (s *Store) ListWallets(ctx context.Context, ownerID string) ([]ledger.Wallet, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+walletColumns+` FROM wallets
		WHERE owner_id = $1 AND kind = 'user' ORDER BY created_at, id`, ownerID)
	if err != nil {
		return nil, translate(err, "list wallets")
	}
	wallets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Wallet, error) {
		return scanWallet(r)
	})
	if err != nil {
		return nil, translate(err, "list wallets")
	}
	return wallets, nil
}

// clearingWallet returns the id of currency's external clearing wallet,
// creating it on first use.
func (s *Store) clearingWallet(ctx context.Context, currency string) (string, error) {
	if id, ok := s.clearing.Load(currency); ok {
		return id.(string), nil
	}

	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("generate wallet id: %w", err)
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO wallets (id, owner_id, kind, currency, balance, created_at)
		VALUES ($1, 'system', 'system', $2, 0, $3)
		ON CONFLICT (currency) WHERE kind = 'system' DO NOTHING`, id, currency, s.now())
	if err != nil {
		return "", translate(err, "create clearing wallet")
	}
	var existing uuid.UUID
	err = s.pool.QueryRow(ctx, `SELECT id FROM wallets WHERE kind = 'system' AND currency = $1`, currency).Scan(&existing)
	if err != nil {
		return "", translate(err, "read clearing wallet")
	}
	s.clearing.Store(currency, existing.String())
	return existing.String(), nil
}

// translate turns a driver error into a domain error where one applies and
// otherwise wraps it with the step that failed.
func translate(err error, step string) error {
	var appErr *apperr.Error
	switch {
	case errors.As(err, &appErr):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, pgtx.ErrRetriesExhausted):
		return apperr.Wrap(err, apperr.WalletBusy, "the wallet is busy with concurrent requests, retry shortly").WithRetryAfter(time.Second)
	case pgtx.IsCheckViolation(err, "wallets_user_balance_non_negative"):
		return apperr.Wrap(err, apperr.InsufficientFunds, "insufficient funds")
	case pgtx.IsConnectionError(err):
		return apperr.Wrap(err, apperr.Unavailable, "the ledger database is unavailable, retry shortly").WithRetryAfter(unavailableRetryAfter)
	}
	return fmt.Errorf("%s: %w", step, err)
}
