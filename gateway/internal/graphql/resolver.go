package graphql

import (
	"context"
	"log/slog"

	"github.com/advancia-pay/ledger/gateway/internal/graphql/generated"
	"github.com/advancia-pay/ledger/gateway/internal/graphql/model"
	"github.com/advancia-pay/ledger/pkg/apperr"
	paymentv1 "github.com/advancia-pay/ledger/proto/gen/ledger/payment/v1"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// resolver implements the schema with calls to the services. The calls
// carry the outgoing metadata that the transport put in the context.
// Errors are the services' gRPC errors or *apperr.Error values, which
// presentError turns into extensions.code.
type resolver struct {
	wallets walletv1.WalletServiceClient
	// payments is nil when the gateway has no payment service.
	payments paymentv1.PaymentServiceClient
	logger   *slog.Logger
}

var _ generated.ResolverRoot = (*resolver)(nil)

func (r *resolver) Query() generated.QueryResolver             { return queryResolver{r} }
func (r *resolver) Mutation() generated.MutationResolver       { return mutationResolver{r} }
func (r *resolver) Wallet() generated.WalletResolver           { return walletResolver{r} }
func (r *resolver) Transaction() generated.TransactionResolver { return transactionResolver{r} }
func (r *resolver) Hold() generated.HoldResolver               { return holdResolver{r} }

// paymentService returns the payment client, or an error when the gateway
// has none.
func (r *resolver) paymentService() (paymentv1.PaymentServiceClient, error) {
	if r.payments == nil {
		return nil, apperr.New(apperr.Unavailable, "payments are not served by this gateway: it has no payment service configured")
	}
	return r.payments, nil
}

// pageSize returns the page size to request, 0 for the service's default.
func pageSize(size *int32) (int32, error) {
	if size == nil {
		return 0, nil
	}
	if *size < 1 || *size > maxPageSize {
		return 0, apperr.New(apperr.InvalidRequest, "pageSize must be between 1 and %d, got %d", maxPageSize, *size)
	}
	return *size, nil
}

func valueOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (r *resolver) wallet(ctx context.Context, id string) (*model.Wallet, error) {
	w, err := r.wallets.GetWallet(ctx, &walletv1.GetWalletRequest{WalletId: id})
	if err != nil {
		return nil, err
	}
	return toWallet(w), nil
}

func (r *resolver) transactions(ctx context.Context, walletID string, size *int32, pageToken *string) (*model.TransactionPage, error) {
	n, err := pageSize(size)
	if err != nil {
		return nil, err
	}
	resp, err := r.wallets.ListTransactions(ctx, &walletv1.ListTransactionsRequest{WalletId: walletID, PageSize: n, PageToken: valueOf(pageToken)})
	if err != nil {
		return nil, err
	}
	return toTransactionPage(resp), nil
}

type queryResolver struct{ *resolver }

func (r queryResolver) Wallets(ctx context.Context) ([]*model.Wallet, error) {
	resp, err := r.wallets.ListWallets(ctx, &walletv1.ListWalletsRequest{})
	if err != nil {
		return nil, err
	}
	wallets := make([]*model.Wallet, 0, len(resp.GetWallets()))
	for _, w := range resp.GetWallets() {
		wallets = append(wallets, toWallet(w))
	}
	return wallets, nil
}

func (r queryResolver) Wallet(ctx context.Context, id string) (*model.Wallet, error) {
	return r.wallet(ctx, id)
}

func (r queryResolver) Transactions(ctx context.Context, walletID string, size *int32, pageToken *string) (*model.TransactionPage, error) {
	return r.transactions(ctx, walletID, size, pageToken)
}

func (r queryResolver) Transaction(ctx context.Context, id string) (*model.Transaction, error) {
	t, err := r.wallets.GetTransaction(ctx, &walletv1.GetTransactionRequest{TransactionId: id})
	if err != nil {
		return nil, err
	}
	return toTransaction(t), nil
}

func (r queryResolver) Hold(ctx context.Context, id string) (*model.Hold, error) {
	h, err := r.wallets.GetHold(ctx, &walletv1.GetHoldRequest{HoldId: id})
	if err != nil {
		return nil, err
	}
	return toHold(h), nil
}

func (r queryResolver) Payments(ctx context.Context, size *int32, pageToken *string) (*model.PaymentPage, error) {
	payments, err := r.paymentService()
	if err != nil {
		return nil, err
	}
	n, err := pageSize(size)
	if err != nil {
		return nil, err
	}
	resp, err := payments.ListPayments(ctx, &paymentv1.ListPaymentsRequest{PageSize: n, PageToken: valueOf(pageToken)})
	if err != nil {
		return nil, err
	}
	return toPaymentPage(resp), nil
}

func (r queryResolver) Payment(ctx context.Context, id string) (*model.Payment, error) {
	payments, err := r.paymentService()
	if err != nil {
		return nil, err
	}
	p, err := payments.GetPayment(ctx, &paymentv1.GetPaymentRequest{PaymentId: id})
	if err != nil {
		return nil, err
	}
	return toPayment(p), nil
}

type walletResolver struct{ *resolver }

func (r walletResolver) Transactions(ctx context.Context, w *model.Wallet, size *int32, pageToken *string) (*model.TransactionPage, error) {
	return r.transactions(ctx, w.ID, size, pageToken)
}

// transactionResolver and holdResolver fetch the wallet once per object.
// NOTE: a page of transactions that selects wallet makes one GetWallet call
// per transaction; the complexity limit bounds how many.
type transactionResolver struct{ *resolver }

func (r transactionResolver) Wallet(ctx context.Context, t *model.Transaction) (*model.Wallet, error) {
	return r.wallet(ctx, t.WalletID)
}

type holdResolver struct{ *resolver }

func (r holdResolver) Wallet(ctx context.Context, h *model.Hold) (*model.Wallet, error) {
	return r.wallet(ctx, h.WalletID)
}
