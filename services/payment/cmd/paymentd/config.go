package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/tlsconfig"
)

// Config is paymentd's configuration, read from the environment.
type Config struct {
	GRPCAddr    string `env:"PAYMENT_GRPC_ADDR" envDefault:"127.0.0.1:9092"`
	AdminAddr   string `env:"PAYMENT_ADMIN_ADDR" envDefault:"127.0.0.1:9192"`
	DatabaseURL string `env:"PAYMENT_DATABASE_URL,required,notEmpty" secret:"true"`
	Migrate     bool   `env:"PAYMENT_MIGRATE" envDefault:"true"`
	// MigrationDatabaseURL is who applies the migrations when Migrate is
	// set: the schema's owner, which may create roles. Empty means
	// PAYMENT_DATABASE_URL, which then must be that owner too.
	MigrationDatabaseURL string `env:"PAYMENT_MIGRATION_DATABASE_URL" secret:"true"`
	WalletAddr           string `env:"PAYMENT_WALLET_ADDR" envDefault:"dns:///127.0.0.1:9091"`
	IdempotencyAddr      string `env:"PAYMENT_IDEMPOTENCY_ADDR" envDefault:"dns:///127.0.0.1:9093"`
	// StripeAPIKey is a secret key; test keys start with sk_test_.
	StripeAPIKey string `env:"STRIPE_API_KEY,required,notEmpty" secret:"true"`
	// StripeAPIURL is empty for Stripe itself, or stripe-mock's URL.
	StripeAPIURL        string        `env:"STRIPE_API_URL"`
	StripeTimeout       time.Duration `env:"STRIPE_TIMEOUT" envDefault:"10s"`
	StripeWebhookSecret string        `env:"STRIPE_WEBHOOK_SECRET,required,notEmpty" secret:"true"`
	// RelayInterval is how often the outbox is retried.
	RelayInterval time.Duration `env:"PAYMENT_RELAY_INTERVAL" envDefault:"5s"`
	auth.Config
	// Environment is development or production. Production rejects, at
	// start, plaintext connections to non-loopback addresses.
	Environment config.Environment `env:"LEDGER_ENV" envDefault:"development"`
	// TLS secures the gRPC server and the wallet and idempotency clients.
	TLS             tlsconfig.Config
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
}

// Validate reports every invalid setting at once.
func (c *Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.StripeAPIKey, "sk_") && !strings.HasPrefix(c.StripeAPIKey, "rk_") {
		errs = append(errs, errors.New("STRIPE_API_KEY must be a secret or restricted key (sk_... or rk_...)"))
	}
	if !strings.HasPrefix(c.StripeWebhookSecret, "whsec_") {
		errs = append(errs, errors.New("STRIPE_WEBHOOK_SECRET must be an endpoint secret (whsec_...)"))
	}
	if c.StripeTimeout <= 0 {
		errs = append(errs, fmt.Errorf("STRIPE_TIMEOUT is %s, it must be positive", c.StripeTimeout))
	}
	if c.RelayInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("PAYMENT_RELAY_INTERVAL is %s, it must be at least 100ms", c.RelayInterval))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT is %s, it must be positive", c.ShutdownTimeout))
	}
	if err := c.Settings().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("LEDGER_JWT_*: %w", err))
	}
	if err := c.validateTransport(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateTransport returns the problems of the TLS settings and, in
// production, every plaintext connection to a non-loopback address.
func (c *Config) validateTransport() error {
	production := c.Environment.IsProduction()
	return errors.Join(
		c.Environment.Validate(),
		c.TLS.Validate(),
		c.TLS.CheckPlaintext(production,
			tlsconfig.Endpoint{Variable: "PAYMENT_GRPC_ADDR", Address: c.GRPCAddr},
			tlsconfig.Endpoint{Variable: "PAYMENT_WALLET_ADDR", Address: c.WalletAddr},
			tlsconfig.Endpoint{Variable: "PAYMENT_IDEMPOTENCY_ADDR", Address: c.IdempotencyAddr}),
		tlsconfig.CheckPostgresURL("PAYMENT_DATABASE_URL", c.DatabaseURL, production),
		tlsconfig.CheckPostgresURL("PAYMENT_MIGRATION_DATABASE_URL", c.MigrationDatabaseURL, production),
	)
}
