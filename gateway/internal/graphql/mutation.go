package graphql

import (
	"context"
	"regexp"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/advancia-pay/ledger/gateway/internal/graphql/model"
	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	paymentv1 "github.com/advancia-pay/ledger/proto/gen/ledger/payment/v1"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// wholeNumber is the syntax of an amount, as the REST routes accept it;
// the services reject amounts that are not positive.
var wholeNumber = regexp.MustCompile(`^-?[0-9]+$`)

// parseAmount reads an amount in whole minor units, such as "1050".
// "6.5", "1e2" and values outside int64 fail with invalid_request.
func parseAmount(field, text string) (int64, error) {
	invalid := apperr.New(apperr.InvalidRequest, `%s must be a whole number of minor units, written as a string such as "1050"`, field)
	if !wholeNumber.MatchString(text) {
		return 0, invalid
	}
	amount, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, invalid
	}
	return amount, nil
}

// replayWatch returns the call options that capture the response metadata
// of a mutation, and a func that marks the HTTP response as replayed when
// the service sent the idempotent-replayed header.
func replayWatch(ctx context.Context) ([]grpc.CallOption, func()) {
	var header, trailer metadata.MD
	record := func() {
		if len(header.Get(idempotency.ReplayedHeader)) > 0 || len(trailer.Get(idempotency.ReplayedHeader)) > 0 {
			markReplayed(ctx)
		}
	}
	return []grpc.CallOption{grpc.Header(&header), grpc.Trailer(&trailer)}, record
}

type mutationResolver struct{ *resolver }

func (r mutationResolver) Debit(ctx context.Context, walletID string, amount string, description *string) (*model.Transaction, error) {
	minorUnits, err := parseAmount("amount", amount)
	if err != nil {
		return nil, err
	}

	opts, record := replayWatch(ctx)
	t, err := r.wallets.Debit(ctx, &walletv1.DebitRequest{WalletId: walletID, Amount: minorUnits, Description: valueOf(description)}, opts...)
	record()
	if err != nil {
		return nil, err
	}
	return toTransaction(t), nil
}

func (r mutationResolver) Transfer(ctx context.Context, fromWalletID string, toWalletID string, amount string, description *string) (*model.Transaction, error) {
	minorUnits, err := parseAmount("amount", amount)
	if err != nil {
		return nil, err
	}

	opts, record := replayWatch(ctx)
	req := &walletv1.TransferRequest{FromWalletId: fromWalletID, ToWalletId: toWalletID, Amount: minorUnits, Description: valueOf(description)}
	t, err := r.wallets.Transfer(ctx, req, opts...)
	record()
	if err != nil {
		return nil, err
	}
	return toTransaction(t), nil
}

func (r mutationResolver) CreatePayment(ctx context.Context, input model.CreatePaymentInput) (*model.Payment, error) {
	payments, err := r.paymentService()
	if err != nil {
		return nil, err
	}
	req, err := createPaymentRequest(input)
	if err != nil {
		return nil, err
	}

	opts, record := replayWatch(ctx)
	p, err := payments.CreatePayment(ctx, req, opts...)
	record()
	if err != nil {
		return nil, err
	}
	return toPayment(p), nil
}

func createPaymentRequest(input model.CreatePaymentInput) (*paymentv1.CreatePaymentRequest, error) {
	amount, err := parseAmount("input.amount", input.Amount)
	if err != nil {
		return nil, err
	}
	req := &paymentv1.CreatePaymentRequest{
		PayeeWalletId: input.PayeeWalletID,
		Amount:        amount,
		Currency:      input.Currency,
		Method:        input.Method,
		PayerWalletId: valueOf(input.PayerWalletID),
		PaymentMethod: valueOf(input.PaymentMethod),
		Description:   valueOf(input.Description),
	}
	if len(input.Metadata) > 0 {
		req.Metadata = make(map[string]string, len(input.Metadata))
	}
	for _, entry := range input.Metadata {
		if _, dup := req.Metadata[entry.Key]; dup {
			return nil, apperr.New(apperr.InvalidRequest, "input.metadata has the key %q more than once", entry.Key)
		}
		req.Metadata[entry.Key] = entry.Value
	}
	return req, nil
}

func (r mutationResolver) Refund(ctx context.Context, paymentID string, amount string, reason *string) (*model.Refund, error) {
	payments, err := r.paymentService()
	if err != nil {
		return nil, err
	}
	minorUnits, err := parseAmount("amount", amount)
	if err != nil {
		return nil, err
	}

	opts, record := replayWatch(ctx)
	refund, err := payments.CreateRefund(ctx, &paymentv1.CreateRefundRequest{PaymentId: paymentID, Amount: minorUnits, Reason: valueOf(reason)}, opts...)
	record()
	if err != nil {
		return nil, err
	}
	return toRefund(refund), nil
}
