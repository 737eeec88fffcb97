// Package grpcapi serves the payment service over gRPC.
package grpcapi

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	paymentv1 "github.com/advancia-pay/ledger/proto/gen/ledger/payment/v1"
	"github.com/advancia-pay/ledger/services/payment/internal/payments"
	"github.com/advancia-pay/ledger/services/payment/internal/webhook"
)

// Server implements paymentv1.PaymentServiceServer.
type Server struct {
	paymentv1.UnimplementedPaymentServiceServer
	svc           *payments.Service
	webhookSecret string
}

// NewServer returns a Server; webhookSecret is Stripe's endpoint secret.
func NewServer(svc *payments.Service, webhookSecret string) *Server {
	return &Server{svc: svc, webhookSecret: webhookSecret}
}

func caller(ctx context.Context) (auth.Identity, error) {
	id, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Identity{}, apperr.New(apperr.Unauthenticated, "a bearer token is required")
	}
	return id, nil
}

func key(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(idempotency.KeyHeader); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *Server) CreatePayment(ctx context.Context, req *paymentv1.CreatePaymentRequest) (*paymentv1.Payment, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.CreatePayment(ctx, id, payments.Payment{
		Method: req.GetMethod(), Amount: req.GetAmount(), Currency: req.GetCurrency(),
		PayerWalletID: req.GetPayerWalletId(), PayeeWalletID: req.GetPayeeWalletId(),
		PaymentMethod: req.GetPaymentMethod(), Description: req.GetDescription(),
		Metadata: req.GetMetadata(), IdempotencyKey: key(ctx),
	})
	if err != nil {
		return nil, err
	}
	return paymentToProto(p), nil
}

func (s *Server) GetPayment(ctx context.Context, req *paymentv1.GetPaymentRequest) (*paymentv1.Payment, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.GetPayment(ctx, id, req.GetPaymentId())
	if err != nil {
		return nil, err
	}
	return paymentToProto(p), nil
}

func (s *Server) ListPayments(ctx context.Context, req *paymentv1.ListPaymentsRequest) (*paymentv1.ListPaymentsResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	list, next, err := s.svc.ListPayments(ctx, id, payments.Page{Size: int(req.GetPageSize()), After: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	resp := &paymentv1.ListPaymentsResponse{NextPageToken: next, Payments: []*paymentv1.Payment{}}
	for _, p := range list {
		resp.Payments = append(resp.Payments, paymentToProto(p))
	}
	return resp, nil
}

func (s *Server) CreateRefund(ctx context.Context, req *paymentv1.CreateRefundRequest) (*paymentv1.Refund, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.CreateRefund(ctx, id, payments.Refund{
		PaymentID: req.GetPaymentId(), Amount: req.GetAmount(), Reason: req.GetReason(), IdempotencyKey: key(ctx),
	})
	if err != nil {
		return nil, err
	}
	return refundToProto(r), nil
}

func (s *Server) ListRefunds(ctx context.Context, req *paymentv1.ListRefundsRequest) (*paymentv1.ListRefundsResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListRefunds(ctx, id, req.GetPaymentId())
	if err != nil {
		return nil, err
	}
	resp := &paymentv1.ListRefundsResponse{Refunds: []*paymentv1.Refund{}}
	for _, r := range list {
		resp.Refunds = append(resp.Refunds, refundToProto(r))
	}
	return resp, nil
}

func (s *Server) HandleStripeWebhook(ctx context.Context, req *paymentv1.HandleStripeWebhookRequest) (*paymentv1.HandleStripeWebhookResponse, error) {
	if id, _ := auth.FromContext(ctx); !id.IsService() {
		return nil, apperr.New(apperr.PermissionDenied, "only the gateway may deliver webhooks")
	}
	ev, err := webhook.Verify(req.GetPayload(), req.GetSignature(), s.webhookSecret, time.Now())
	if errors.Is(err, webhook.ErrInvalid) {
		payments.RecordRejectedWebhook(ctx)
		return nil, apperr.Wrap(err, apperr.InvalidRequest, "%s", err.Error())
	}
	if err != nil {
		return nil, err
	}
	applied, err := s.svc.HandleEvent(ctx, ev)
	if err != nil {
		return nil, err
	}
	return &paymentv1.HandleStripeWebhookResponse{Applied: applied}, nil
}

func paymentToProto(p payments.Payment) *paymentv1.Payment {
	return &paymentv1.Payment{
		Id: p.ID, Status: p.Status, Amount: p.Amount, RefundedAmount: p.RefundedAmount, Currency: p.Currency,
		Method: p.Method, PayerWalletId: p.PayerWalletID, PayeeWalletId: p.PayeeWalletID,
		StripePaymentIntentId: p.StripePaymentIntentID, Description: p.Description, Metadata: p.Metadata,
		FailureReason: p.FailureReason, CreatedAt: timestamppb.New(p.CreatedAt),
	}
}

func refundToProto(r payments.Refund) *paymentv1.Refund {
	return &paymentv1.Refund{
		Id: r.ID, PaymentId: r.PaymentID, Amount: r.Amount, Status: r.Status, Reason: r.Reason,
		StripeRefundId: r.StripeRefundID, CreatedAt: timestamppb.New(r.CreatedAt),
	}
}
