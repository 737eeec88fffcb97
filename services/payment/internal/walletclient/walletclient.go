// Package walletclient implements payments.Ledger with the wallet
// service's gRPC API.
package walletclient

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/advancia-pay/ledger/pkg/idempotency"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
	"github.com/advancia-pay/ledger/services/payment/internal/payments"
)

// Client calls the wallet service. Calls made as the payment service
// authenticate with the connection's service credentials; Transfer
// forwards the payer's own bearer token, so that the wallet service checks
// that the payer owns the paying wallet.
type Client struct {
	// asService carries the payment service's token; asCaller none, so the
	// forwarded token is the only one.
	asService walletv1.WalletServiceClient
	asCaller  walletv1.WalletServiceClient
}

var _ payments.Ledger = (*Client)(nil)

// New returns a Client. serviceConn must carry the payment service's
// per-call credentials; callerConn must carry none.
func New(serviceConn, callerConn grpc.ClientConnInterface) *Client {
	return &Client{asService: walletv1.NewWalletServiceClient(serviceConn), asCaller: walletv1.NewWalletServiceClient(callerConn)}
}

// Transfer moves money as the caller of the incoming request.
func (c *Client) Transfer(ctx context.Context, from, to string, amount int64, description, key string) (string, error) {
	in, _ := metadata.FromIncomingContext(ctx)
	out := metadata.Pairs(idempotency.KeyHeader, key)
	for _, v := range in.Get("authorization") {
		out.Append("authorization", v)
	}
	tx, err := c.asCaller.Transfer(metadata.NewOutgoingContext(ctx, out), &walletv1.TransferRequest{
		FromWalletId: from, ToWalletId: to, Amount: amount, Description: description,
	})
	return tx.GetId(), err
}

// Credit adds money to a wallet as the payment service.
func (c *Client) Credit(ctx context.Context, walletID string, amount int64, description, key string) (string, error) {
	tx, err := c.asService.Credit(keyed(ctx, key), &walletv1.CreditRequest{WalletId: walletID, Amount: amount, Description: description})
	return tx.GetId(), err
}

// Reverse reverses part of a wallet transaction as the payment service.
func (c *Client) Reverse(ctx context.Context, transactionID string, amount int64, reason, key string) (string, error) {
	tx, err := c.asService.ReverseTransaction(keyed(ctx, key), &walletv1.ReverseTransactionRequest{
		TransactionId: transactionID, Amount: amount, Reason: reason,
	})
	return tx.GetId(), err
}

// keyed returns a context whose outgoing metadata is only the key, so no
// incoming metadata leaks into calls made as the service.
func keyed(ctx context.Context, key string) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Pairs(idempotency.KeyHeader, key))
}
