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

// Config is ratelimitd's configuration, read from the environment.
type Config struct {
	GRPCAddr   string `env:"RATELIMIT_GRPC_ADDR" envDefault:"127.0.0.1:9094"`
	AdminAddr  string `env:"RATELIMIT_ADMIN_ADDR" envDefault:"127.0.0.1:9194"`
	PolicyFile string `env:"RATELIMIT_POLICY_FILE" envDefault:"deploy/ratelimit/policies.yaml"`
	// Redis holds the counters: RATELIMIT_REDIS_ADDR, or
	// RATELIMIT_REDIS_ADDRS and RATELIMIT_REDIS_MASTER_NAME. Its timeouts
	// are RATELIMIT_TIMEOUT.
	Redis       redisclient.Config `envPrefix:"RATELIMIT_REDIS_"`
	RedisPrefix string             `env:"RATELIMIT_REDIS_PREFIX" envDefault:"ratelimit:"`
	// Timeout bounds the Redis round trip; past it, each tier's failure
	// mode decides.
	Timeout time.Duration `env:"RATELIMIT_TIMEOUT" envDefault:"50ms"`
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
	if c.Timeout <= 0 || c.Timeout > time.Second {
		errs = append(errs, fmt.Errorf("RATELIMIT_TIMEOUT is %s, it must be between 0 and 1s", c.Timeout))
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
			tlsconfig.Endpoint{Variable: "RATELIMIT_GRPC_ADDR", Address: c.GRPCAddr}),
		c.Redis.Validate("RATELIMIT_REDIS_", production),
	)
}
