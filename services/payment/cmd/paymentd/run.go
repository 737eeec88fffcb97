package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/grpcdial"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
	"github.com/advancia-pay/ledger/pkg/server"
	"github.com/advancia-pay/ledger/pkg/telemetry"
	idempotencyv1 "github.com/advancia-pay/ledger/proto/gen/ledger/idempotency/v1"
	paymentv1 "github.com/advancia-pay/ledger/proto/gen/ledger/payment/v1"
	"github.com/advancia-pay/ledger/services/payment/internal/cards"
	"github.com/advancia-pay/ledger/services/payment/internal/grpcapi"
	"github.com/advancia-pay/ledger/services/payment/internal/payments"
	"github.com/advancia-pay/ledger/services/payment/internal/postgres"
	"github.com/advancia-pay/ledger/services/payment/internal/stripeclient"
	"github.com/advancia-pay/ledger/services/payment/internal/walletclient"
	"github.com/advancia-pay/ledger/services/payment/migrations"
)

// publicMethods need no bearer token: health checks and reflection.
var publicMethods = []string{"/grpc.health.v1.Health/", "/grpc.reflection."}

// guardedMethods get the retry contract of the idempotency service.
var guardedMethods = []string{
	paymentv1.PaymentService_CreatePayment_FullMethodName,
	paymentv1.PaymentService_CreateRefund_FullMethodName,
}

func run(ctx context.Context) error {
	cfg, err := config.Load[Config]()
	if err != nil {
		return err
	}
	logger, metricsHandler, shutdownMetrics, err := telemetry.Start(ctx, "payment", cfg.LogLevel, cfg)
	if err != nil {
		return err
	}
	defer shutdownMetrics(context.WithoutCancel(ctx))

	serverCreds, err := cfg.TLS.ServerCredentials(logger)
	if err != nil {
		return err
	}
	clientCreds, err := cfg.TLS.ClientCredentials()
	if err != nil {
		return err
	}

	pool, err := pgmigrate.Open(ctx, cfg.DatabaseURL, cfg.MigrationDatabaseURL, migrations.Schema, cfg.Migrate, migrations.Up, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	settings, _, err := cfg.LoadRemote(ctx, logger)
	if err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(settings)
	if err != nil {
		return err
	}
	creds, err := auth.NewServiceToken(cfg.Settings(), "payment")
	if err != nil {
		return err
	}

	asService, err := dial(cfg.WalletAddr, clientCreds, creds)
	if err != nil {
		return err
	}
	defer asService.Close()
	asCaller, err := dial(cfg.WalletAddr, clientCreds, nil)
	if err != nil {
		return err
	}
	defer asCaller.Close()
	idempotencyConn, err := dial(cfg.IdempotencyAddr, clientCreds, creds)
	if err != nil {
		return err
	}
	defer idempotencyConn.Close()

	store := postgres.New(pool)
	ledger := walletclient.New(asService, asCaller)
	stripe := stripeclient.New(stripeclient.Config{
		APIKey: cfg.StripeAPIKey, BaseURL: cfg.StripeAPIURL, HTTPClient: &http.Client{Timeout: cfg.StripeTimeout},
	})
	relay := payments.NewRelay(store, ledger, cfg.RelayInterval, logger)
	go relay.Run(ctx)
	svc := payments.NewService(store, ledger, cards.New(stripe), relay, logger)

	return server.Run(ctx, server.Options{
		Name:            "payment",
		GRPCAddr:        cfg.GRPCAddr,
		AdminAddr:       cfg.AdminAddr,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          logger,
		Metrics:         metricsHandler,
		Ready: func(ctx context.Context) error {
			if err := pool.Ping(ctx); err != nil {
				return server.NotReady("postgresql", err)
			}
			return nil
		},
		Register: func(g *grpc.Server) {
			paymentv1.RegisterPaymentServiceServer(g, grpcapi.NewServer(svc, cfg.StripeWebhookSecret))
		},
		Interceptors: []grpc.UnaryServerInterceptor{
			grpcapi.UnaryDatabaseErrors(),
			auth.UnaryServerInterceptor(verifier, publicMethods...),
			idempotency.UnaryServerInterceptor(idempotency.Options{
				Client:  idempotencyv1.NewIdempotencyServiceClient(idempotencyConn),
				Methods: guardedMethods,
				// Card charges wait on Stripe, so the lease covers its timeout.
				Lease:  cfg.StripeTimeout + 20*time.Second,
				Logger: logger,
			}),
		},
		Credentials: serverCreds,
	})
}

// dial connects to a service over transport; creds, when set,
// authenticate every call as the payment service.
func dial(target string, transport credentials.TransportCredentials, creds *auth.ServiceToken) (*grpc.ClientConn, error) {
	opts := append(telemetry.ClientOptions(),
		grpc.WithTransportCredentials(transport),
		grpc.WithDefaultServiceConfig(grpcdial.ServiceConfig), grpcdial.Keepalive(),
	)
	if creds != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(creds))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	return conn, nil
}
