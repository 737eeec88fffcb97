package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/redisclient"
	"github.com/advancia-pay/ledger/pkg/server"
	"github.com/advancia-pay/ledger/pkg/telemetry"
	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
	"github.com/advancia-pay/ledger/services/ratelimit/internal/grpcapi"
	"github.com/advancia-pay/ledger/services/ratelimit/internal/limiter"
	"github.com/advancia-pay/ledger/services/ratelimit/internal/policy"
)

// publicMethods need no bearer token: health checks and reflection.
var publicMethods = []string{"/grpc.health.v1.Health/", "/grpc.reflection."}

func run(ctx context.Context) error {
	cfg, err := config.Load[Config]()
	if err != nil {
		return err
	}
	logger, metricsHandler, shutdownMetrics, err := telemetry.Start(ctx, "ratelimit", cfg.LogLevel, cfg)
	if err != nil {
		return err
	}
	defer shutdownMetrics(context.WithoutCancel(ctx))

	serverCreds, err := cfg.TLS.ServerCredentials(logger)
	if err != nil {
		return err
	}

	p, err := policy.Load(cfg.PolicyFile)
	if err != nil {
		return err
	}
	logger.Info("policy loaded", "file", cfg.PolicyFile, "domain", p.Domain, "tiers", len(p.Tiers))

	redisCfg := cfg.Redis
	redisCfg.Timeout = cfg.Timeout
	rdb, err := redisclient.New(redisCfg)
	if err != nil {
		return fmt.Errorf("RATELIMIT_REDIS_*: %w", err)
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

	l := limiter.New(rdb, p, limiter.Options{Prefix: cfg.RedisPrefix, Timeout: cfg.Timeout, Logger: logger})
	go reloadOnHangup(ctx, cfg.PolicyFile, l, logger)

	return server.Run(ctx, server.Options{
		Name:            "ratelimit",
		GRPCAddr:        cfg.GRPCAddr,
		AdminAddr:       cfg.AdminAddr,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          logger,
		Metrics:         metricsHandler,
		// Without Redis the service still decides, by failure mode, so it
		// stays ready.
		Register: func(g *grpc.Server) {
			ratelimitv1.RegisterRateLimitServiceServer(g, grpcapi.NewServer(l))
		},
		Interceptors: []grpc.UnaryServerInterceptor{auth.UnaryServerInterceptor(verifier, publicMethods...)},
		Credentials:  serverCreds,
	})
}

// reloadOnHangup loads the policy file again on every SIGHUP. A file that
// fails to load or validate is reported and the current policy stays.
func reloadOnHangup(ctx context.Context, path string, l *limiter.Limiter, logger *slog.Logger) {
	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	defer signal.Stop(hangups)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hangups:
		}
		p, err := policy.Load(path)
		if err != nil {
			logger.Error("policy reload failed, keeping the current policy", "file", path, "error", err)
			continue
		}
		l.SetPolicy(p)
		logger.Info("policy reloaded", "file", path, "domain", p.Domain, "tiers", len(p.Tiers))
	}
}
