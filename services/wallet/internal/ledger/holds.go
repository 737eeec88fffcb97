package ledger

import (
	"context"
	"time"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
)

// PlaceHold reserves op.Amount of op.WalletID for op.ExpiresIn (zero: no
// expiry). The owner or a service may place a hold.
func (s *Service) PlaceHold(ctx context.Context, caller auth.Identity, op Operation) (Result, error) {
	op.Type = TypeHold
	if op.ExpiresIn < 0 || op.ExpiresIn > MaxHoldDuration {
		return Result{}, apperr.New(apperr.InvalidRequest, "expires_in_seconds must be between 0 and %d, got %d",
			int64(MaxHoldDuration/time.Second), int64(op.ExpiresIn/time.Second))
	}
	return s.Move(ctx, caller, op)
}

// CaptureHold posts op.Amount of hold op.HoldID (zero: all of it) to
// op.ToWalletID, or to the clearing wallet when that is empty.
func (s *Service) CaptureHold(ctx context.Context, caller auth.Identity, op Operation) (Result, error) {
	h, err := s.authorizedHold(ctx, caller, op.HoldID)
	if err != nil {
		return Result{}, err
	}
	if op.Amount < 0 {
		return Result{}, apperr.New(apperr.InvalidRequest, "amount must not be negative, got %d", op.Amount)
	}
	if op.Amount == 0 {
		op.Amount = h.Amount
	}
	op.Type, op.HoldID, op.WalletID = TypeCapture, h.ID, h.WalletID
	return s.Move(ctx, caller, op)
}

// VoidHold releases hold op.HoldID; voiding a voided hold returns it
// unchanged. Only services may void: a hold
// guarantees funds to the party that will capture it, so the payer must
// not be able to release it and spend the money.
func (s *Service) VoidHold(ctx context.Context, caller auth.Identity, op Operation) (Result, error) {
	if !caller.IsService() {
		return Result{}, apperr.New(apperr.PermissionDenied, "only services may void holds")
	}
	h, err := s.authorizedHold(ctx, caller, op.HoldID)
	if err != nil {
		return Result{}, err
	}
	op.Type, op.HoldID, op.WalletID, op.Amount = TypeVoid, h.ID, h.WalletID, h.Amount
	return s.Move(ctx, caller, op)
}

// GetHold returns a hold of one of the caller's wallets, or any hold for a
// service.
func (s *Service) GetHold(ctx context.Context, caller auth.Identity, id string) (Hold, error) {
	return s.authorizedHold(ctx, caller, id)
}

func (s *Service) authorizedHold(ctx context.Context, caller auth.Identity, id string) (Hold, error) {
	id, err := canonicalID(id, "hold_id")
	if err != nil {
		return Hold{}, err
	}
	h, err := s.store.GetHold(ctx, id)
	if err != nil {
		return Hold{}, err
	}
	if _, err := s.authorizedWallet(ctx, caller, h.WalletID, "wallet_id"); err != nil {
		return Hold{}, err
	}
	return h, nil
}

// Reverse posts the opposite of op.Amount (zero: the whole original amount)
// of transaction op.TransactionID. Only services may reverse.
func (s *Service) Reverse(ctx context.Context, caller auth.Identity, op Operation) (Result, error) {
	if !caller.IsService() {
		return Result{}, apperr.New(apperr.PermissionDenied, "only services may reverse transactions")
	}
	id, err := canonicalID(op.TransactionID, "transaction_id")
	if err != nil {
		return Result{}, err
	}
	original, err := s.store.GetTransaction(ctx, id, "")
	if err != nil {
		return Result{}, err
	}
	if op.Amount < 0 {
		return Result{}, apperr.New(apperr.InvalidRequest, "amount must not be negative, got %d", op.Amount)
	}
	if op.Amount == 0 {
		op.Amount = original.Amount
	}

	op.Type, op.TransactionID = TypeReversal, original.ID
	op.WalletID, op.ToWalletID = original.WalletID, original.CounterpartyWalletID
	return s.Move(ctx, caller, op)
}

// BalanceAt returns a wallet's posted balance at a point in time; a zero
// at means now.
func (s *Service) BalanceAt(ctx context.Context, caller auth.Identity, walletID string, at time.Time) (Balance, error) {
	w, err := s.authorizedWallet(ctx, caller, walletID, "wallet_id")
	if err != nil {
		return Balance{}, err
	}
	if at.IsZero() {
		at = time.Now().UTC()
	}
	balance, err := s.store.BalanceAt(ctx, w.ID, at)
	if err != nil {
		return Balance{}, err
	}
	return Balance{WalletID: w.ID, Currency: w.Currency, Balance: balance, At: at}, nil
}
