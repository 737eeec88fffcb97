package main

import (
	"context"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/lock"
	"github.com/advancia-pay/ledger/pkg/server"
	"github.com/advancia-pay/ledger/pkg/telemetry"
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
	logger, err := telemetry.NewLogger(os.Stdout, "wallet", cfg.LogLevel)
	if err != nil {
		return err
	}
	logger.Info("starting", "config", config.Redacted(cfg))

	metricsHandler, shutdownMetrics, err := telemetry.SetupMetrics("wallet")
	if err != nil {
		return fmt.Errorf("set up metrics: %w", err)
	}
	defer shutdownMetrics(context.WithoutCancel(ctx))

	if cfg.Migrate {
		if err := migrations.Up(ctx, cfg.DatabaseURL); err != nil {
			return fmt.Errorf("migrate database: %w", err)
		}
		logger.Info("migrations applied", "schema", migrations.Schema)
	}

	pool, err := postgres.NewPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	rdb := redis.NewClient(&redis.Options{
		Addr:         cfg.RedisAddr,
		Password:     cfg.RedisPassword,
		DialTimeout:  cfg.RedisTimeout,
		ReadTimeout:  cfg.RedisTimeout,
		WriteTimeout: cfg.RedisTimeout,
	})
	defer rdb.Close()

	verifier, err := auth.NewVerifier(cfg.Settings())
	if err != nil {
		return err
	}

	store := postgres.New(pool, postgres.Options{})
	locker := lock.New(rdb, lock.Options{Prefix: "wallet:lock:", TTL: cfg.LockTTL})
	svc := ledger.NewService(store, locker, logger)
	startJobs(ctx, cfg, store, logger)

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
		Interceptors: []grpc.UnaryServerInterceptor{auth.UnaryServerInterceptor(verifier, publicMethods...)},
	})
}
