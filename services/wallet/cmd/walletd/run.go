package main

import (
	"context"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/grpcdial"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	"github.com/advancia-pay/ledger/pkg/lock"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
	"github.com/advancia-pay/ledger/pkg/redisclient"
	"github.com/advancia-pay/ledger/pkg/server"
	"github.com/advancia-pay/ledger/pkg/telemetry"
	idempotencyv1 "github.com/advancia-pay/ledger/proto/gen/ledger/idempotency/v1"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
	"github.com/advancia-pay/ledger/services/wallet/internal/grpcapi"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
	"github.com/advancia-pay/ledger/services/wallet/internal/postgres"
	"github.com/advancia-pay/ledger/services/wallet/migrations"
)

// publicMethods need no bearer token: health checks and reflection.
var publicMethods = []string{"/grpc.health.v1.Health/", "/grpc.reflection."}

func run(ctx context.Context) error {
	cfg, err := config.Load[Config]()
	if err != nil {
		return err
	}
	logger, metricsHandler, shutdownMetrics, err := telemetry.Start(ctx, "wallet", cfg.LogLevel, cfg)
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

	rdb, err := redisclient.New(cfg.Redis)
	if err != nil {
		return fmt.Errorf("WALLET_REDIS_*: %w", err)
	}
	defer rdb.Close()

	settings, _, err := cfg.LoadRemote(ctx, logger)
	if err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(settings)
	if err != nil {
		return err
	}

	store := postgres.New(pool, postgres.Options{})
	locker := lock.New(rdb, lock.Options{Prefix: "wallet:lock:", TTL: cfg.LockTTL})
	svc := ledger.NewService(store, locker, logger)
	startJobs(ctx, cfg, store, logger)

	interceptors := []grpc.UnaryServerInterceptor{auth.UnaryServerInterceptor(verifier, publicMethods...)}
	if cfg.IdempotencyAddr != "off" {
		guard, closeGuard, err := idempotencyGuard(cfg, clientCreds, logger)
		if err != nil {
			return err
		}
		defer closeGuard()
		interceptors = append(interceptors, guard)
	}

	return server.Run(ctx, server.Options{
		Name:            "wallet",
		GRPCAddr:        cfg.GRPCAddr,
		AdminAddr:       cfg.AdminAddr,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          logger,
		Metrics:         metricsHandler,
		// Only PostgreSQL decides readiness: without Redis the service still
		// serves every call, just without the contention-sparing lock.
		Ready: func(ctx context.Context) error {
			if err := pool.Ping(ctx); err != nil {
				return server.NotReady("postgresql", err)
			}
			return nil
		},
		Register: func(g *grpc.Server) {
			walletv1.RegisterWalletServiceServer(g, grpcapi.NewServer(svc))
		},
		Interceptors: interceptors,
		Credentials:  serverCreds,
	})
}

// guardedMethods are the mutating calls that get the retry contract of the
// idempotency service. CreateWallet is idempotent by itself.
var guardedMethods = []string{
	walletv1.WalletService_Credit_FullMethodName,
	walletv1.WalletService_Debit_FullMethodName,
	walletv1.WalletService_Transfer_FullMethodName,
	walletv1.WalletService_PlaceHold_FullMethodName,
	walletv1.WalletService_CaptureHold_FullMethodName,
	walletv1.WalletService_VoidHold_FullMethodName,
	walletv1.WalletService_ReverseTransaction_FullMethodName,
}

// idempotencyGuard connects to the idempotency service with transport,
// authenticating as the wallet service, and returns the interceptor that
// uses it.
func idempotencyGuard(cfg Config, transport credentials.TransportCredentials, logger *slog.Logger) (grpc.UnaryServerInterceptor, func(), error) {
	creds, err := auth.NewServiceToken(cfg.Settings(), "wallet")
	if err != nil {
		return nil, nil, err
	}
	conn, err := grpc.NewClient(cfg.IdempotencyAddr, append(telemetry.ClientOptions(),
		grpc.WithTransportCredentials(transport),
		grpc.WithPerRPCCredentials(creds),
		grpc.WithDefaultServiceConfig(grpcdial.ServiceConfig), grpcdial.Keepalive())...)
	if err != nil {
		return nil, nil, fmt.Errorf("dial idempotency service %s: %w", cfg.IdempotencyAddr, err)
	}
	guard := idempotency.UnaryServerInterceptor(idempotency.Options{
		Client:  idempotencyv1.NewIdempotencyServiceClient(conn),
		Methods: guardedMethods,
		Logger:  logger,
	})
	return guard, func() { _ = conn.Close() }, nil
}
