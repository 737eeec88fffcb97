package main

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/advancia-pay/ledger/gateway/clients"
	"github.com/advancia-pay/ledger/gateway/clients/migrations"
	"github.com/advancia-pay/ledger/gateway/internal/rest"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/grpcdial"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
	"github.com/advancia-pay/ledger/pkg/server"
	"github.com/advancia-pay/ledger/pkg/telemetry"
	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
)

func run(ctx context.Context) error {
	cfg, err := config.Load[Config]()
	if err != nil {
		return err
	}
	logger, metricsHandler, shutdownMetrics, err := telemetry.Start(ctx, "gateway", cfg.LogLevel, cfg)
	if err != nil {
		return err
	}
	defer shutdownMetrics(context.WithoutCancel(ctx))

	transport, err := cfg.TLS.ClientCredentials()
	if err != nil {
		return err
	}

	settings, signer, err := cfg.LoadRemote(ctx, logger)
	if err != nil {
		return err
	}
	jwks, err := auth.EncodeJWKS(settings.PublicKeys)
	if err != nil {
		return fmt.Errorf("encode JWK Set: %w", err)
	}
	// Clients reach the gateway with ES256 tokens only; HS256 is for
	// service-to-service calls, which never pass through here.
	settings.Algorithms = []string{"ES256"}
	verifier, err := auth.NewVerifier(settings)
	if err != nil {
		return err
	}
	walletConn, err := grpc.NewClient(cfg.WalletAddr, append(telemetry.ClientOptions(),
		grpc.WithTransportCredentials(transport),
		grpc.WithDefaultServiceConfig(grpcdial.ServiceConfig), grpcdial.Keepalive())...)
	if err != nil {
		return fmt.Errorf("dial wallet service %s: %w", cfg.WalletAddr, err)
	}
	defer walletConn.Close()

	opts := rest.Options{
		GraphQLProduction: cfg.Environment.IsProduction(),
		Signer:            signer,
		TokenTTL:          cfg.TokenTTL,
		JWKS:              jwks,
		Verifier:          verifier,
		WalletConn:        walletConn,
		Logger:            logger,
		MaxBodyBytes:      cfg.MaxBodyBytes,
		RequestTimeout:    cfg.RequestTimeout,
		RateLimitDomain:   cfg.RateLimitDomain,
		RateLimitTimeout:  cfg.RateLimitTimeout,
	}
	if cfg.RateLimitAddr != "off" {
		conn, err := dialService(cfg, cfg.RateLimitAddr, transport)
		if err != nil {
			return err
		}
		defer conn.Close()
		opts.RateLimit = ratelimitv1.NewRateLimitServiceClient(conn)
	}
	if cfg.PaymentAddr != "off" {
		paymentConn, err := grpc.NewClient(cfg.PaymentAddr, append(telemetry.ClientOptions(),
			grpc.WithTransportCredentials(transport),
			grpc.WithDefaultServiceConfig(grpcdial.ServiceConfig), grpcdial.Keepalive())...)
		if err != nil {
			return fmt.Errorf("dial payment service %s: %w", cfg.PaymentAddr, err)
		}
		defer paymentConn.Close()
		webhookConn, err := dialService(cfg, cfg.PaymentAddr, transport)
		if err != nil {
			return err
		}
		defer webhookConn.Close()
		opts.PaymentConn, opts.WebhookConn = paymentConn, webhookConn
	}
	if cfg.DatabaseURL != "" {
		pool, err := pgmigrate.Open(ctx, cfg.DatabaseURL, cfg.MigrationDatabaseURL, migrations.Schema, cfg.Migrate, migrations.Up, logger)
		if err != nil {
			return err
		}
		defer pool.Close()
		if opts.Clients, err = clients.NewStore(pool, cfg.BcryptCost); err != nil {
			return err
		}
	}
	handler, err := rest.NewHandler(ctx, opts)
	if err != nil {
		return fmt.Errorf("build REST handler: %w", err)
	}

	admin := server.AdminHandler(server.Options{
		Name:    "gateway",
		Logger:  logger,
		Metrics: metricsHandler,
		Ready: func(ctx context.Context) error {
			_, err := healthpb.NewHealthClient(walletConn).Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				return server.NotReady("wallet", err)
			}
			return nil
		},
	})

	group, ctx := errgroup.WithContext(ctx)
	group.Go(func() error {
		return server.ServeHTTP(ctx, "gateway", cfg.HTTPAddr, handler, cfg.ShutdownTimeout, logger, nil)
	})
	group.Go(func() error {
		return server.ServeHTTP(ctx, "gateway-admin", cfg.AdminAddr, admin, cfg.ShutdownTimeout, logger, nil)
	})
	return group.Wait()
}

// dialService connects to an internal service over transport as the
// gateway, with a self-signed service token.
func dialService(cfg Config, target string, transport credentials.TransportCredentials) (*grpc.ClientConn, error) {
	creds, err := auth.NewServiceToken(cfg.Settings(), "gateway")
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(target, append(telemetry.ClientOptions(),
		grpc.WithTransportCredentials(transport),
		grpc.WithPerRPCCredentials(creds),
		grpc.WithDefaultServiceConfig(grpcdial.ServiceConfig), grpcdial.Keepalive())...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	return conn, nil
}
