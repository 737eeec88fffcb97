package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/redisclient"
	"github.com/advancia-pay/ledger/pkg/tlsconfig"
)

// Config is walletd's configuration, read from the environment.
type Config struct {
	GRPCAddr    string `env:"WALLET_GRPC_ADDR" envDefault:"127.0.0.1:9091"`
	AdminAddr   string `env:"WALLET_ADMIN_ADDR" envDefault:"127.0.0.1:9191"`
	DatabaseURL string `env:"WALLET_DATABASE_URL,required,notEmpty" secret:"true"`
	Migrate     bool   `env:"WALLET_MIGRATE" envDefault:"true"`
	// MigrationDatabaseURL is who applies the migrations when Migrate is
	// set: the schema's owner, which may create roles. Empty means
	// WALLET_DATABASE_URL, which then must be that owner too.
	MigrationDatabaseURL string `env:"WALLET_MIGRATION_DATABASE_URL" secret:"true"`
	// Redis holds the locks: WALLET_REDIS_ADDR, or WALLET_REDIS_ADDRS and
	// WALLET_REDIS_MASTER_NAME for a Cluster or Sentinel.
	Redis   redisclient.Config `envPrefix:"WALLET_REDIS_"`
	LockTTL time.Duration      `env:"WALLET_LOCK_TTL" envDefault:"5s"`
	// IdempotencyAddr is the gRPC target of the idempotency service; "off"
	// runs without it (the ledger still applies each key once).
	IdempotencyAddr string `env:"WALLET_IDEMPOTENCY_ADDR" envDefault:"dns:///127.0.0.1:9093"`
	// HoldSweepInterval is how often expired holds are marked expired.
	HoldSweepInterval time.Duration `env:"WALLET_HOLD_SWEEP_INTERVAL" envDefault:"30s"`
	// VerifyInterval is how often the ledger invariants are checked; 0
	// turns the check off.
	VerifyInterval time.Duration `env:"WALLET_VERIFY_INTERVAL" envDefault:"15m"`
	// Mode selects how mutations run. "baseline" runs each request alone:
	// one Redis lock and one SERIALIZABLE transaction, shared with no other
	// request. "default" is the fastest path the wallet has. The two are the
	// same path until a throughput optimisation lands, and every such
	// optimisation runs in "default" only, so that `make bench` measures it
	// against the baseline in the same run.
	Mode string `env:"WALLET_MODE" envDefault:"default"`
	auth.Config
	// Environment is development or production. Production rejects, at
	// start, plaintext connections to non-loopback addresses.
	Environment config.Environment `env:"LEDGER_ENV" envDefault:"development"`
	// TLS secures the gRPC server and the idempotency client.
	TLS             tlsconfig.Config
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
}

// Validate reports every invalid setting at once.
func (c *Config) Validate() error {
	var errs []error
	if c.LockTTL < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("WALLET_LOCK_TTL is %s, it must be at least 100ms", c.LockTTL))
	}
	if c.HoldSweepInterval < time.Second {
		errs = append(errs, fmt.Errorf("WALLET_HOLD_SWEEP_INTERVAL is %s, it must be at least 1s", c.HoldSweepInterval))
	}
	if c.VerifyInterval != 0 && c.VerifyInterval < time.Minute {
		errs = append(errs, fmt.Errorf("WALLET_VERIFY_INTERVAL is %s, it must be 0 (off) or at least 1m", c.VerifyInterval))
	}
	if c.Mode != "default" && c.Mode != "baseline" {
		errs = append(errs, fmt.Errorf("WALLET_MODE is %q, it must be default or baseline", c.Mode))
	}
	if c.Redis.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("WALLET_REDIS_TIMEOUT is %s, it must be positive", c.Redis.Timeout))
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
			tlsconfig.Endpoint{Variable: "WALLET_GRPC_ADDR", Address: c.GRPCAddr},
			tlsconfig.Endpoint{Variable: "WALLET_IDEMPOTENCY_ADDR", Address: c.IdempotencyAddr}),
		c.Redis.Validate("WALLET_REDIS_", production),
		tlsconfig.CheckPostgresURL("WALLET_DATABASE_URL", c.DatabaseURL, production),
		tlsconfig.CheckPostgresURL("WALLET_MIGRATION_DATABASE_URL", c.MigrationDatabaseURL, production),
	)
}
