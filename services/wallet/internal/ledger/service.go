package ledger

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	"github.com/advancia-pay/ledger/pkg/lock"
	"github.com/advancia-pay/ledger/pkg/money"
)

// busyRetryAfter is the Retry-After sent when a wallet stays locked by other
// requests for the whole lock-retry budget.
const busyRetryAfter = time.Second

// Service applies the wallet service's rules: input checks, who may touch
// which wallet, the Redis lock around each mutation, and the posting engine.
// It is safe for concurrent use.
type Service struct {
	store   Store
	locker  *lock.Locker
	logger  *slog.Logger
	metrics *metrics
}

// NewService returns a Service over store. locker may be nil, in which case
// mutations rely on PostgreSQL alone.
func NewService(store Store, locker *lock.Locker, logger *slog.Logger) *Service {
	return &Service{store: store, locker: locker, logger: logger, metrics: newMetrics()}
}

// CreateWallet returns the caller's wallet in currency, creating it when
// the caller has none.
func (s *Service) CreateWallet(ctx context.Context, caller auth.Identity, currency string) (Wallet, error) {
	cur, err := money.ParseCurrency(currency)
	if err != nil {
		return Wallet{}, apperr.Wrap(err, apperr.InvalidRequest, "currency %q is not an ISO 4217 code", currency)
	}

	w, created, err := s.store.CreateWallet(ctx, caller.Subject, cur.Code())
	if err != nil {
		return Wallet{}, err
	}
	if created {
		s.logger.InfoContext(ctx, "wallet created", "wallet_id", w.ID, "owner_id", w.OwnerID, "currency", w.Currency)
	}
	return w, nil
}

// GetWallet returns a wallet the caller owns, or any wallet for a service.
func (s *Service) GetWallet(ctx context.Context, caller auth.Identity, id string) (Wallet, error) {
	return s.authorizedWallet(ctx, caller, id, "wallet_id")
}

// ListWallets returns the caller's wallets, oldest first.
func (s *Service) ListWallets(ctx context.Context, caller auth.Identity) ([]Wallet, error) {
	return s.store.ListWallets(ctx, caller.Subject)
}

// Move applies one credit, debit or transfer. A repeated idempotency key
// with the same request returns the original transaction with Replayed set.
func (s *Service) Move(ctx context.Context, caller auth.Identity, op Operation) (res Result, err error) {
	// Every outcome is counted, the rejections before the transaction
	// (invalid input, permission, a busy wallet) included.
	defer func() { s.metrics.recordOperation(ctx, op.Type, Result{Replayed: res.Replayed, Err: err}) }()

	if err := s.prepare(ctx, caller, &op); err != nil {
		return Result{}, err
	}

	release, err := s.lock(ctx, op.WalletIDs())
	if err != nil {
		return Result{}, err
	}
	defer release()

	res = s.store.Apply(ctx, []Operation{op})[0]
	if res.Err != nil {
		return Result{}, res.Err
	}
	return res, nil
}

// prepare validates op, canonicalizes its wallet ids and checks that the
// caller may perform it.
func (s *Service) prepare(ctx context.Context, caller auth.Identity, op *Operation) error {
	if err := validateOperation(op); err != nil {
		return err
	}
	if op.Type == TypeCredit && !caller.IsService() {
		return apperr.New(apperr.PermissionDenied, "only services may credit wallets")
	}
	w, err := s.authorizedWallet(ctx, caller, op.WalletID, "wallet_id")
	if err != nil {
		return err
	}
	if op.ToWalletID != "" {
		if _, err := s.store.GetWallet(ctx, op.ToWalletID); err != nil {
			return err
		}
	}
	op.Currency = w.Currency
	op.Actor = caller.Subject
	return nil
}

func validateOperation(op *Operation) error {
	var err error
	if op.WalletID, err = canonicalID(op.WalletID, "wallet_id"); err != nil {
		return err
	}
	if op.Type == TypeTransfer || op.ToWalletID != "" {
		if op.ToWalletID, err = canonicalID(op.ToWalletID, "to_wallet_id"); err != nil {
			return err
		}
		if op.ToWalletID == op.WalletID {
			return apperr.New(apperr.InvalidRequest, "the receiving wallet must differ from the paying wallet")
		}
	}
	if op.Amount <= 0 {
		return apperr.New(apperr.InvalidRequest, "amount must be a positive whole number of minor units, got %d", op.Amount)
	}
	if n := len([]rune(op.Description)); n > MaxDescriptionLength {
		return apperr.New(apperr.InvalidRequest, "description is %d characters, at most %d are allowed", n, MaxDescriptionLength)
	}
	return ValidateIdempotencyKey(op.IdempotencyKey)
}

// ValidateIdempotencyKey checks that key is 1 to 255 printable ASCII
// characters.
func ValidateIdempotencyKey(key string) error {
	err := idempotency.ValidateKey(key)
	switch {
	case errors.Is(err, idempotency.ErrMissing):
		return apperr.Wrap(err, apperr.IdempotencyKeyMissing, "%s", err.Error())
	case err != nil:
		return apperr.Wrap(err, apperr.InvalidRequest, "%s", err.Error())
	}
	return nil
}

// canonicalID parses a UUID and returns its lower-case hyphenated form.
func canonicalID(id, field string) (string, error) {
	parsed, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil || len(id) != 36 {
		return "", apperr.New(apperr.InvalidRequest, "%s must be a UUID such as 0190c6a4-0000-7000-8000-000000000000", field)
	}
	return parsed.String(), nil
}

// authorizedWallet loads a wallet and checks that the caller owns it or is
// a service.
func (s *Service) authorizedWallet(ctx context.Context, caller auth.Identity, id, field string) (Wallet, error) {
	id, err := canonicalID(id, field)
	if err != nil {
		return Wallet{}, err
	}
	w, err := s.store.GetWallet(ctx, id)
	if err != nil {
		return Wallet{}, err
	}
	if !caller.IsService() && w.OwnerID != caller.Subject {
		return Wallet{}, apperr.New(apperr.PermissionDenied, "wallet %s belongs to another owner", id)
	}
	return w, nil
}

// lock takes the Redis locks of the wallets. The lock only spares
// PostgreSQL from contention, so when Redis fails the mutation goes ahead
// unlocked and relies on SERIALIZABLE isolation and row locks.
func (s *Service) lock(ctx context.Context, walletIDs []string) (release func(), err error) {
	if s.locker == nil {
		return func() {}, nil
	}

	lk, err := s.locker.Acquire(ctx, walletIDs...)
	switch {
	case errors.Is(err, lock.ErrNotAcquired):
		return nil, apperr.Wrap(err, apperr.WalletBusy, "the wallet is busy with other requests, retry shortly").WithRetryAfter(busyRetryAfter)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		s.metrics.lockUnavailable.Add(ctx, 1)
		s.logger.WarnContext(ctx, "wallet lock unavailable, continuing without it", "wallet_ids", walletIDs, "error", err)
		return func() {}, nil
	}

	return func() {
		if err := lk.Release(ctx); err != nil {
			s.logger.WarnContext(ctx, "wallet lock release failed", "wallet_ids", walletIDs, "error", err)
		}
	}, nil
}

// GetTransaction returns a transaction that touched one of the caller's
// wallets, as seen from that wallet.
func (s *Service) GetTransaction(ctx context.Context, caller auth.Identity, id string) (Transaction, error) {
	id, err := canonicalID(id, "transaction_id")
	if err != nil {
		return Transaction{}, err
	}
	tx, err := s.store.GetTransaction(ctx, id, "")
	if err != nil || caller.IsService() || s.owns(ctx, caller, tx.WalletID) {
		return tx, err
	}
	if tx.CounterpartyWalletID != "" && s.owns(ctx, caller, tx.CounterpartyWalletID) {
		return s.store.GetTransaction(ctx, id, tx.CounterpartyWalletID)
	}
	return Transaction{}, apperr.New(apperr.PermissionDenied, "transaction %s belongs to another owner", id)
}

func (s *Service) owns(ctx context.Context, caller auth.Identity, walletID string) bool {
	w, err := s.store.GetWallet(ctx, walletID)
	return err == nil && w.OwnerID == caller.Subject
}

// ListTransactions returns one page of a wallet's transactions, newest
// first, and the cursor of the next page (0 on the last page).
func (s *Service) ListTransactions(ctx context.Context, caller auth.Identity, walletID string, page Page) ([]Transaction, int64, error) {
	w, err := s.authorizedWallet(ctx, caller, walletID, "wallet_id")
	if err != nil {
		return nil, 0, err
	}
	if page.Size < 0 || page.Size > MaxPageSize {
		return nil, 0, apperr.New(apperr.InvalidRequest, "page_size must be between 0 and %d, got %d", MaxPageSize, page.Size)
	}
	if page.Size == 0 {
		page.Size = DefaultPageSize
	}
	return s.store.ListTransactions(ctx, w.ID, page)
}
