// Package grpcapi serves the wallet service over gRPC: it translates
// requests and metadata into ledger calls and results back into protobuf.
package grpcapi

import (
	"context"
	"encoding/base64"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	"github.com/advancia-pay/ledger/pkg/telemetry"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

// Server implements walletv1.WalletServiceServer. Every call expects the
// identity stored in the context by auth.UnaryServerInterceptor.
type Server struct {
	walletv1.UnimplementedWalletServiceServer
	svc *ledger.Service
}

// NewServer returns a Server over svc.
func NewServer(svc *ledger.Service) *Server {
	return &Server{svc: svc}
}

// caller returns the verified identity of the call.
func caller(ctx context.Context) (auth.Identity, error) {
	id, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Identity{}, apperr.New(apperr.Unauthenticated, "a bearer token is required")
	}
	return id, nil
}

func (s *Server) CreateWallet(ctx context.Context, req *walletv1.CreateWalletRequest) (*walletv1.Wallet, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.svc.CreateWallet(ctx, id, req.GetCurrency())
	if err != nil {
		return nil, err
	}
	return walletToProto(w), nil
}

func (s *Server) GetWallet(ctx context.Context, req *walletv1.GetWalletRequest) (*walletv1.Wallet, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.svc.GetWallet(ctx, id, req.GetWalletId())
	if err != nil {
		return nil, err
	}
	return walletToProto(w), nil
}

func (s *Server) ListWallets(ctx context.Context, _ *walletv1.ListWalletsRequest) (*walletv1.ListWalletsResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	wallets, err := s.svc.ListWallets(ctx, id)
	if err != nil {
		return nil, err
	}
	resp := &walletv1.ListWalletsResponse{Wallets: make([]*walletv1.Wallet, 0, len(wallets))}
	for _, w := range wallets {
		resp.Wallets = append(resp.Wallets, walletToProto(w))
	}
	return resp, nil
}

func (s *Server) Credit(ctx context.Context, req *walletv1.CreditRequest) (*walletv1.Transaction, error) {
	return s.move(ctx, req, ledger.Operation{
		Type:        ledger.TypeCredit,
		WalletID:    req.GetWalletId(),
		Amount:      req.GetAmount(),
		Description: req.GetDescription(),
	})
}

func (s *Server) Debit(ctx context.Context, req *walletv1.DebitRequest) (*walletv1.Transaction, error) {
	return s.move(ctx, req, ledger.Operation{
		Type:        ledger.TypeDebit,
		WalletID:    req.GetWalletId(),
		Amount:      req.GetAmount(),
		Description: req.GetDescription(),
	})
}

func (s *Server) Transfer(ctx context.Context, req *walletv1.TransferRequest) (*walletv1.Transaction, error) {
	return s.move(ctx, req, ledger.Operation{
		Type:        ledger.TypeTransfer,
		WalletID:    req.GetFromWalletId(),
		ToWalletID:  req.GetToWalletId(),
		Amount:      req.GetAmount(),
		Description: req.GetDescription(),
	})
}

// move applies a credit, debit or transfer and returns its transaction.
func (s *Server) move(ctx context.Context, req proto.Message, op ledger.Operation) (*walletv1.Transaction, error) {
	res, err := s.apply(ctx, req, s.svc.Move, op)
	if err != nil {
		return nil, err
	}
	return transactionToProto(res.Transaction), nil
}

// apply fills in what every mutating call shares (key, fingerprint,
// request id), runs do, and marks replays in the response header.
func (s *Server) apply(ctx context.Context, req proto.Message, do func(context.Context, auth.Identity, ledger.Operation) (ledger.Result, error), op ledger.Operation) (ledger.Result, error) {
	id, err := caller(ctx)
	if err != nil {
		return ledger.Result{}, err
	}
	op.IdempotencyKey = firstValue(ctx, idempotency.KeyHeader)
	op.RequestID = telemetry.RequestID(ctx)
	if op.RequestHash, err = requestHash(ctx, req); err != nil {
		return ledger.Result{}, err
	}

	res, err := do(ctx, id, op)
	if err != nil {
		return ledger.Result{}, err
	}
	if res.Replayed {
		// A failure to set the header must not hide the result; the
		// response body is the same either way.
		_ = grpc.SetHeader(ctx, metadata.Pairs(idempotency.ReplayedHeader, "true"))
	}
	return res, nil
}

// requestHash fingerprints a call the same way the idempotency service
// does, so that both reject a key reused for another request.
func requestHash(ctx context.Context, req proto.Message) ([]byte, error) {
	method, _ := grpc.Method(ctx)
	hash, err := idempotency.Fingerprint(method, req)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.InvalidRequest, "the request cannot be encoded")
	}
	return hash, nil
}

func firstValue(ctx context.Context, key string) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *Server) GetTransaction(ctx context.Context, req *walletv1.GetTransactionRequest) (*walletv1.Transaction, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.svc.GetTransaction(ctx, id, req.GetTransactionId())
	if err != nil {
		return nil, err
	}
	return transactionToProto(t), nil
}

func (s *Server) ListTransactions(ctx context.Context, req *walletv1.ListTransactionsRequest) (*walletv1.ListTransactionsResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	after, err := decodePageToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, next, err := s.svc.ListTransactions(ctx, id, req.GetWalletId(), ledger.Page{Size: int(req.GetPageSize()), After: after})
	if err != nil {
		return nil, err
	}

	resp := &walletv1.ListTransactionsResponse{Transactions: make([]*walletv1.Transaction, 0, len(list))}
	for _, t := range list {
		resp.Transactions = append(resp.Transactions, transactionToProto(t))
	}
	if next != 0 {
		resp.NextPageToken = encodePageToken(next)
	}
	return resp, nil
}

// Page tokens are opaque to clients: base64url of the cursor.
func encodePageToken(cursor int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(cursor, 10)))
}

func decodePageToken(token string) (int64, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		if cursor, perr := strconv.ParseInt(string(raw), 10, 64); perr == nil && cursor > 0 {
			return cursor, nil
		}
	}
	return 0, apperr.New(apperr.InvalidRequest, "page_token is not a token returned by this API")
}

func walletToProto(w ledger.Wallet) *walletv1.Wallet {
	return &walletv1.Wallet{
		Id:               w.ID,
		OwnerId:          w.OwnerID,
		Currency:         w.Currency,
		Balance:          w.Balance,
		AvailableBalance: w.AvailableBalance,
		CreatedAt:        timestamppb.New(w.CreatedAt),
	}
}

func transactionToProto(t ledger.Transaction) *walletv1.Transaction {
	return &walletv1.Transaction{
		Id:                    t.ID,
		Type:                  t.Type,
		Amount:                t.Amount,
		Currency:              t.Currency,
		Status:                t.Status,
		WalletId:              t.WalletID,
		CounterpartyWalletId:  t.CounterpartyWalletID,
		BalanceAfter:          t.BalanceAfter,
		IdempotencyKey:        t.IdempotencyKey,
		Description:           t.Description,
		CreatedAt:             timestamppb.New(t.CreatedAt),
		Direction:             t.Direction,
		HoldId:                t.HoldID,
		ReversesTransactionId: t.ReversesTransactionID,
	}
}
