package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
	"github.com/advancia-pay/ledger/pkg/redisclient"
	"github.com/advancia-pay/ledger/pkg/server"
	"github.com/advancia-pay/ledger/pkg/telemetry"
	idempotencyv1 "github.com/advancia-pay/ledger/proto/gen/ledger/idempotency/v1"
	"github.com/advancia-pay/ledger/services/idempotency/internal/grpcapi"
	"github.com/advancia-pay/ledger/services/idempotency/internal/records"
	"github.com/advancia-pay/ledger/services/idempotency/migrations"
)

// publicMethods need no bearer token: health checks and reflection.
var publicMethods = []string{"/grpc.health.v1.Health/", "/grpc.reflection."}

// cleanupBatch bounds the rows one cleanup deletes; the next tick goes on.
const cleanupBatch = 1000

func run(ctx context.Context) error {
	cfg, err := config.Load[Config]()
	if err != nil {
		return err
	}
	logger, metricsHandler, shutdownMetrics, err := telemetry.Start(ctx, "idempotency", cfg.LogLevel, cfg)
	if err != nil {
		return err
	}
	defer shutdownMetrics(context.WithoutCancel(ctx))

	serverCreds, err := cfg.TLS.ServerCredentials(logger)
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
		return fmt.Errorf("IDEMPOTENCY_REDIS_*: %w", err)
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

	store := records.New(pool, rdb, records.Options{TTL: cfg.TTL, RedisPrefix: cfg.RedisPrefix, Logger: logger})
	go cleanEvery(ctx, cfg.CleanupInterval, store, logger)

	return server.Run(ctx, server.Options{
		Name:            "idempotency",
		GRPCAddr:        cfg.GRPCAddr,
		AdminAddr:       cfg.AdminAddr,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          logger,
		Metrics:         metricsHandler,
		// PostgreSQL decides every claim; Redis is only a cache.
		Ready: func(ctx context.Context) error {
			if err := pool.Ping(ctx); err != nil {
				return server.NotReady("postgresql", err)
			}
			return nil
		},
		Register: func(g *grpc.Server) {
			idempotencyv1.RegisterIdempotencyServiceServer(g, grpcapi.NewServer(store))
		},
		Interceptors: []grpc.UnaryServerInterceptor{auth.UnaryServerInterceptor(verifier, publicMethods...)},
		Credentials:  serverCreds,
	})
}

// cleanEvery deletes expired records every interval until ctx is done.
func cleanEvery(ctx context.Context, interval time.Duration, store *records.Store, logger *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		n, err := store.DeleteExpired(ctx, cleanupBatch)
		if err != nil && ctx.Err() == nil {
			logger.ErrorContext(ctx, "cleanup of expired records failed", "error", err)
		}
		if n > 0 {
			logger.InfoContext(ctx, "expired records deleted", "count", n)
		}
	}
}
