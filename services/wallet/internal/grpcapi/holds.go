package grpcapi

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

func (s *Server) PlaceHold(ctx context.Context, req *walletv1.PlaceHoldRequest) (*walletv1.Hold, error) {
	res, err := s.apply(ctx, req, s.svc.PlaceHold, ledger.Operation{
		WalletID:    req.GetWalletId(),
		Amount:      req.GetAmount(),
		Description: req.GetDescription(),
		ExpiresIn:   seconds(req.GetExpiresInSeconds()),
	})
	if err != nil {
		return nil, err
	}
	return holdToProto(*res.Hold), nil
}

func (s *Server) CaptureHold(ctx context.Context, req *walletv1.CaptureHoldRequest) (*walletv1.CaptureHoldResponse, error) {
	res, err := s.apply(ctx, req, s.svc.CaptureHold, ledger.Operation{
		HoldID:     req.GetHoldId(),
		Amount:     req.GetAmount(),
		ToWalletID: req.GetToWalletId(),
	})
	if err != nil {
		return nil, err
	}
	return &walletv1.CaptureHoldResponse{
		Hold:        holdToProto(*res.Hold),
		Transaction: transactionToProto(res.Transaction),
	}, nil
}

func (s *Server) VoidHold(ctx context.Context, req *walletv1.VoidHoldRequest) (*walletv1.Hold, error) {
	res, err := s.apply(ctx, req, s.svc.VoidHold, ledger.Operation{HoldID: req.GetHoldId()})
	if err != nil {
		return nil, err
	}
	return holdToProto(*res.Hold), nil
}

func (s *Server) GetHold(ctx context.Context, req *walletv1.GetHoldRequest) (*walletv1.Hold, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	h, err := s.svc.GetHold(ctx, id, req.GetHoldId())
	if err != nil {
		return nil, err
	}
	return holdToProto(h), nil
}

func (s *Server) ReverseTransaction(ctx context.Context, req *walletv1.ReverseTransactionRequest) (*walletv1.Transaction, error) {
	res, err := s.apply(ctx, req, s.svc.Reverse, ledger.Operation{
		TransactionID: req.GetTransactionId(),
		Amount:        req.GetAmount(),
		Description:   req.GetReason(),
	})
	if err != nil {
		return nil, err
	}
	return transactionToProto(res.Transaction), nil
}

func (s *Server) GetBalance(ctx context.Context, req *walletv1.GetBalanceRequest) (*walletv1.Balance, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var at time.Time
	if req.GetAt() != nil {
		at = req.GetAt().AsTime()
	}
	b, err := s.svc.BalanceAt(ctx, id, req.GetWalletId(), at)
	if err != nil {
		return nil, err
	}
	return &walletv1.Balance{
		WalletId: b.WalletID,
		Currency: b.Currency,
		Balance:  b.Balance,
		At:       timestamppb.New(b.At),
	}, nil
}

// seconds converts a whole number of seconds, clamping values that would
// overflow time.Duration so that the range check rejects them.
func seconds(n int64) time.Duration {
	const limit = int64(1<<63-1) / int64(time.Second)
	if n > limit || n < -limit {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(n) * time.Second
}

func holdToProto(h ledger.Hold) *walletv1.Hold {
	out := &walletv1.Hold{
		Id:             h.ID,
		WalletId:       h.WalletID,
		Amount:         h.Amount,
		CapturedAmount: h.CapturedAmount,
		Currency:       h.Currency,
		Status:         h.Status,
		Description:    h.Description,
		CreatedAt:      timestamppb.New(h.CreatedAt),
		UpdatedAt:      timestamppb.New(h.UpdatedAt),
	}
	if !h.ExpiresAt.IsZero() {
		out.ExpiresAt = timestamppb.New(h.ExpiresAt)
	}
	return out
}
