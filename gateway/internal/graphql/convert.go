package graphql

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/advancia-pay/ledger/gateway/internal/graphql/model"
	paymentv1 "github.com/advancia-pay/ledger/proto/gen/ledger/payment/v1"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// Conversions from the services' messages to the GraphQL models. Amounts
// in minor units become decimal strings, because GraphQL Int is 32-bit.

func amountString(minorUnits int64) string {
	return strconv.FormatInt(minorUnits, 10)
}

// timeString formats ts as RFC 3339 in UTC, or "" when ts is unset.
func timeString(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339Nano)
}

func toWallet(w *walletv1.Wallet) *model.Wallet {
	return &model.Wallet{
		ID:               w.GetId(),
		OwnerID:          w.GetOwnerId(),
		Currency:         w.GetCurrency(),
		Balance:          amountString(w.GetBalance()),
		AvailableBalance: amountString(w.GetAvailableBalance()),
		CreatedAt:        timeString(w.GetCreatedAt()),
	}
}

func toTransaction(t *walletv1.Transaction) *model.Transaction {
	return &model.Transaction{
		ID:                    t.GetId(),
		Type:                  t.GetType(),
		Amount:                amountString(t.GetAmount()),
		Currency:              t.GetCurrency(),
		Status:                t.GetStatus(),
		WalletID:              t.GetWalletId(),
		CounterpartyWalletID:  t.GetCounterpartyWalletId(),
		BalanceAfter:          amountString(t.GetBalanceAfter()),
		IdempotencyKey:        t.GetIdempotencyKey(),
		Description:           t.GetDescription(),
		CreatedAt:             timeString(t.GetCreatedAt()),
		Direction:             t.GetDirection(),
		HoldID:                t.GetHoldId(),
		ReversesTransactionID: t.GetReversesTransactionId(),
	}
}

func toTransactionPage(resp *walletv1.ListTransactionsResponse) *model.TransactionPage {
	page := &model.TransactionPage{Items: make([]*model.Transaction, 0, len(resp.GetTransactions())), NextPageToken: resp.GetNextPageToken()}
	for _, t := range resp.GetTransactions() {
		page.Items = append(page.Items, toTransaction(t))
	}
	return page
}

func toHold(h *walletv1.Hold) *model.Hold {
	hold := &model.Hold{
		ID:             h.GetId(),
		WalletID:       h.GetWalletId(),
		Amount:         amountString(h.GetAmount()),
		CapturedAmount: amountString(h.GetCapturedAmount()),
		Currency:       h.GetCurrency(),
		Status:         h.GetStatus(),
		Description:    h.GetDescription(),
		CreatedAt:      timeString(h.GetCreatedAt()),
		UpdatedAt:      timeString(h.GetUpdatedAt()),
	}
	if h.GetExpiresAt() != nil {
		expiresAt := timeString(h.GetExpiresAt())
		hold.ExpiresAt = &expiresAt
	}
	return hold
}

func toPayment(p *paymentv1.Payment) *model.Payment {
	return &model.Payment{
		ID:                    p.GetId(),
		Status:                p.GetStatus(),
		Amount:                amountString(p.GetAmount()),
		RefundedAmount:        amountString(p.GetRefundedAmount()),
		Currency:              p.GetCurrency(),
		Method:                p.GetMethod(),
		PayerWalletID:         p.GetPayerWalletId(),
		PayeeWalletID:         p.GetPayeeWalletId(),
		StripePaymentIntentID: p.GetStripePaymentIntentId(),
		Description:           p.GetDescription(),
		Metadata:              toMetadata(p.GetMetadata()),
		FailureReason:         p.GetFailureReason(),
		CreatedAt:             timeString(p.GetCreatedAt()),
	}
}

// toMetadata lists the entries sorted by key, so that responses are stable.
func toMetadata(m map[string]string) []*model.MetadataEntry {
	entries := make([]*model.MetadataEntry, 0, len(m))
	for key, value := range m {
		entries = append(entries, &model.MetadataEntry{Key: key, Value: value})
	}
	slices.SortFunc(entries, func(a, b *model.MetadataEntry) int { return strings.Compare(a.Key, b.Key) })
	return entries
}

func toPaymentPage(resp *paymentv1.ListPaymentsResponse) *model.PaymentPage {
	page := &model.PaymentPage{Items: make([]*model.Payment, 0, len(resp.GetPayments())), NextPageToken: resp.GetNextPageToken()}
	for _, p := range resp.GetPayments() {
		page.Items = append(page.Items, toPayment(p))
	}
	return page
}

func toRefund(r *paymentv1.Refund) *model.Refund {
	return &model.Refund{
		ID:             r.GetId(),
		PaymentID:      r.GetPaymentId(),
		Amount:         amountString(r.GetAmount()),
		Status:         r.GetStatus(),
		Reason:         r.GetReason(),
		StripeRefundID: r.GetStripeRefundId(),
		CreatedAt:      timeString(r.GetCreatedAt()),
	}
}
