package main

import (
	"errors"
	"fmt"
	"github.com/advancia-pay/ledger/pkg/redisclient"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/tlsconfig"
)

// Config is idempotencyd's configuration, read from the environment.
type Config struct {
	GRPCAddr    string `env:"IDEMPOTENCY_GRPC_ADDR" envDefault:"127.0.0.1:9093"`
	AdminAddr   string `env:"IDEMPOTENCY_ADMIN_ADDR" envDefault:"127.0.0.1:9193"`
	DatabaseURL string `env:"IDEMPOTENCY_DATABASE_URL,required,notEmpty" secret:"true"`
	Migrate     bool   `env:"IDEMPOTENCY_MIGRATE" envDefault:"true"`
	// MigrationDatabaseURL is who applies the migrations when Migrate is
	// set: the schema's owner, which may create roles. Empty means
	// IDEMPOTENCY_DATABASE_URL, which then must be that owner too.
	MigrationDatabaseURL string `env:"IDEMPOTENCY_MIGRATION_DATABASE_URL" secret:"true"`
	// Redis caches completed records: IDEMPOTENCY_REDIS_ADDR, or
	// IDEMPOTENCY_REDIS_ADDRS and IDEMPOTENCY_REDIS_MASTER_NAME.
	Redis       redisclient.Config `envPrefix:"IDEMPOTENCY_REDIS_"`
	RedisPrefix string             `env:"IDEMPOTENCY_REDIS_PREFIX" envDefault:"idempotency:"`
	// TTL is how long a record is kept and replayed.
	TTL time.Duration `env:"IDEMPOTENCY_TTL" envDefault:"24h"`
	// CleanupInterval is how often expired records are deleted.
	CleanupInterval time.Duration `env:"IDEMPOTENCY_CLEANUP_INTERVAL" envDefault:"5m"`
	auth.Config
	// Environment is development or production. Production rejects, at
	// start, plaintext connections to non-loopback addresses.
	Environment config.Environment `env:"LEDGER_ENV" envDefault:"development"`
	// TLS secures the gRPC server.
	TLS             tlsconfig.Config
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
}

// Validate reports every invalid setting at once.
func (c *Config) Validate() error {
	var errs []error
	if c.TTL < time.Minute {
		errs = append(errs, fmt.Errorf("IDEMPOTENCY_TTL is %s, it must be at least 1m", c.TTL))
	}
	if c.CleanupInterval < time.Second {
		errs = append(errs, fmt.Errorf("IDEMPOTENCY_CLEANUP_INTERVAL is %s, it must be at least 1s", c.CleanupInterval))
	}
	if c.Redis.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("IDEMPOTENCY_REDIS_TIMEOUT is %s, it must be positive", c.Redis.Timeout))
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
			tlsconfig.Endpoint{Variable: "IDEMPOTENCY_GRPC_ADDR", Address: c.GRPCAddr}),
		c.Redis.Validate("IDEMPOTENCY_REDIS_", production),
		tlsconfig.CheckPostgresURL("IDEMPOTENCY_DATABASE_URL", c.DatabaseURL, production),
		tlsconfig.CheckPostgresURL("IDEMPOTENCY_MIGRATION_DATABASE_URL", c.MigrationDatabaseURL, production),
	)
}
