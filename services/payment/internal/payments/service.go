package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/status"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	"github.com/advancia-pay/ledger/pkg/money"
)

// Limits on request fields.
const (
	maxMetadataEntries = 20
	maxMetadataLength  = 500
	maxDescription     = 500
)

// Service applies the payment rules. It is safe for concurrent use.
type Service struct {
	store  Store
	ledger Ledger
	cards  Cards
	relay  *Relay
	logger *slog.Logger
}

// NewService returns a Service. relay, when set, is woken after each
// commit that queues a ledger call, so the payee is credited at once
// rather than at the relay's next tick.
func NewService(store Store, ledger Ledger, cards Cards, relay *Relay, logger *slog.Logger) *Service {
	return &Service{store: store, ledger: ledger, cards: cards, relay: relay, logger: logger}
}

// CreatePayment records p and charges it. A retry with the same key
// resumes the same payment, so the wallet transfer or the Stripe charge
// (keyed by the payment id) happens once.
func (s *Service) CreatePayment(ctx context.Context, caller auth.Identity, p Payment) (out Payment, err error) {
	defer func(start time.Time) { recordPayment(ctx, p.Method, start, out, err) }(time.Now())
	if err := validatePayment(&p); err != nil {
		return Payment{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Payment{}, fmt.Errorf("generate payment id: %w", err)
	}
	p.ID, p.PayerID = id.String(), caller.Subject

	stored, created, err := s.store.CreatePayment(ctx, p)
	if err != nil {
		return Payment{}, err
	}
	if !created && !samePayment(stored, p) {
		return Payment{}, apperr.New(apperr.IdempotencyKeyReused, "idempotency key %q was already used for another payment", p.IdempotencyKey)
	}
	if stored.Status == StatusFailed && stored.Method == MethodWallet && isLedgerRefusal(apperr.Code(stored.FailureReason)) {
		// A retry gets the error the first request got, not the record.
		return Payment{}, apperr.New(apperr.Code(stored.FailureReason),
			"payment %s failed: the wallet service refused the transfer with %s", stored.ID, stored.FailureReason)
	}
	if stored.Status != StatusPending {
		return stored, nil
	}
	if stored.Method == MethodWallet {
		return s.payFromWallet(ctx, stored)
	}
	return s.payByCard(ctx, stored)
}

func samePayment(a, b Payment) bool {
	return a.Method == b.Method && a.Amount == b.Amount && a.Currency == b.Currency &&
		a.PayerWalletID == b.PayerWalletID && a.PayeeWalletID == b.PayeeWalletID && a.PaymentMethod == b.PaymentMethod
}

// payFromWallet transfers the money as the payer, so that the wallet
// service checks that the payer owns the paying wallet.
func (s *Service) payFromWallet(ctx context.Context, p Payment) (Payment, error) {
	txID, err := s.ledger.Transfer(ctx, p.PayerWalletID, p.PayeeWalletID, p.Amount, p.Description, "payment:"+p.ID)
	if err != nil {
		return s.failIfFinal(ctx, p, err)
	}
	if _, err := s.store.MarkSucceeded(ctx, p.ID, txID, false); err != nil {
		return Payment{}, err
	}
	return s.store.GetPayment(ctx, p.ID)
}

// failIfFinal marks the payment failed when the ledger refused it for a
// reason a retry would meet again, and returns the error either way.
func (s *Service) failIfFinal(ctx context.Context, p Payment, cause error) (Payment, error) {
	if code := codeOf(cause); isLedgerRefusal(code) {
		if _, err := s.store.MarkFailed(ctx, p.ID, string(code)); err != nil {
			return Payment{}, errors.Join(cause, err)
		}
	}
	return Payment{}, cause
}

// isLedgerRefusal reports whether the wallet service refused a transfer
// for a reason a retry would meet again.
func isLedgerRefusal(code apperr.Code) bool {
	switch code {
	case apperr.InsufficientFunds, apperr.CurrencyMismatch, apperr.PermissionDenied, apperr.NotFound, apperr.InvalidRequest:
		return true
	}
	return false
}

// payByCard charges the card with a Stripe key derived from the payment
// id. A success queues the payee's credit in the same transaction that
// records it.
func (s *Service) payByCard(ctx context.Context, p Payment) (Payment, error) {
	charge, err := s.cards.Charge(ctx, p, "payment:"+p.ID)
	if err != nil {
		return Payment{}, err
	}
	if charge.PaymentIntentID != "" {
		if err := s.store.SetPaymentIntent(ctx, p.ID, charge.PaymentIntentID); err != nil {
			return Payment{}, err
		}
	}
	switch {
	case charge.DeclineCode != "":
		if _, err := s.store.MarkFailed(ctx, p.ID, "card_"+charge.DeclineCode); err != nil {
			return Payment{}, err
		}
	case charge.Status == "succeeded":
		if _, err := s.store.MarkSucceeded(ctx, p.ID, "", true); err != nil {
			return Payment{}, err
		}
		s.relay.Wake()
	}
	// Any other status (processing, requires_action) stays pending until
	// Stripe's webhook reports the outcome.
	return s.store.GetPayment(ctx, p.ID)
}

func validatePayment(p *Payment) error {
	var errs []string
	if p.Amount <= 0 {
		errs = append(errs, fmt.Sprintf("amount must be a positive whole number of minor units, got %d", p.Amount))
	}
	if _, err := money.ParseCurrency(p.Currency); err != nil {
		errs = append(errs, fmt.Sprintf("currency %q is not an ISO 4217 code", p.Currency))
	}
	if _, err := uuid.Parse(p.PayeeWalletID); err != nil {
		errs = append(errs, "payee_wallet_id must be a UUID")
	}

	switch p.Method {
	case MethodWallet:
		if _, err := uuid.Parse(p.PayerWalletID); err != nil {
			errs = append(errs, "payer_wallet_id must be a UUID for method wallet")
		}
	case MethodCard:
		if p.PaymentMethod == "" || len(p.PaymentMethod) > 255 {
			errs = append(errs, "payment_method is required for method card, such as pm_card_visa")
		}
	default:
		errs = append(errs, fmt.Sprintf("method must be wallet or card, got %q", p.Method))
	}

	if len([]rune(p.Description)) > maxDescription {
		errs = append(errs, fmt.Sprintf("description must be at most %d characters", maxDescription))
	}
	if len(p.Metadata) > maxMetadataEntries {
		errs = append(errs, fmt.Sprintf("metadata may have at most %d entries", maxMetadataEntries))
	}
	for k, v := range p.Metadata {
		if k == "" || len(k) > 40 || len(v) > maxMetadataLength {
			errs = append(errs, fmt.Sprintf("metadata key %q: keys are 1 to 40 bytes and values at most %d", k, maxMetadataLength))
		}
	}

	switch err := idempotency.ValidateKey(p.IdempotencyKey); {
	case errors.Is(err, idempotency.ErrMissing):
		return apperr.Wrap(err, apperr.IdempotencyKeyMissing, "%s", err.Error())
	case err != nil:
		return apperr.Wrap(err, apperr.InvalidRequest, "%s", err.Error())
	}
	if len(errs) > 0 {
		return apperr.New(apperr.InvalidRequest, "%s", strings.Join(errs, "; "))
	}
	return nil
}

// GetPayment returns a payment the caller made, or any payment for a
// service.
func (s *Service) GetPayment(ctx context.Context, caller auth.Identity, id string) (Payment, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Payment{}, apperr.New(apperr.InvalidRequest, "payment_id must be a UUID")
	}
	p, err := s.store.GetPayment(ctx, id)
	if err != nil {
		return Payment{}, err
	}
	if !caller.IsService() && p.PayerID != caller.Subject {
		return Payment{}, apperr.New(apperr.PermissionDenied, "payment %s belongs to another payer", id)
	}
	return p, nil
}

// ListPayments returns the caller's payments, newest first.
func (s *Service) ListPayments(ctx context.Context, caller auth.Identity, page Page) ([]Payment, string, error) {
	if page.Size < 0 || page.Size > 100 {
		return nil, "", apperr.New(apperr.InvalidRequest, "page_size must be between 0 and 100, got %d", page.Size)
	}
	if page.Size == 0 {
		page.Size = 50
	}
	if page.After != "" {
		if _, err := uuid.Parse(page.After); err != nil {
			return nil, "", apperr.New(apperr.InvalidRequest, "page_token is not a token returned by this API")
		}
	}
	return s.store.ListPayments(ctx, caller.Subject, page)
}

// codeOf returns the client-visible code of a domain error or of a gRPC
// status from another service.
func codeOf(err error) apperr.Code {
	var appErr *apperr.Error
	if errors.As(err, &appErr) {
		return appErr.Code
	}
	if st, ok := status.FromError(err); ok {
		code, _, _ := apperr.FromStatus(st)
		return code
	}
	return apperr.Internal
}
