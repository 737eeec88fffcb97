package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/tlsconfig"
)

// Config is gatewayd's configuration, read from the environment.
type Config struct {
	HTTPAddr  string `env:"GATEWAY_HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	AdminAddr string `env:"GATEWAY_ADMIN_ADDR" envDefault:"127.0.0.1:9190"`
	// WalletAddr is a gRPC target; "dns:///wallet:9091" spreads calls over
	// every address the name resolves to.
	WalletAddr string `env:"GATEWAY_WALLET_ADDR" envDefault:"dns:///127.0.0.1:9091"`
	// PaymentAddr is the gRPC target of the payment service; "off" leaves
	// the payment routes and the Stripe webhook out.
	PaymentAddr    string        `env:"GATEWAY_PAYMENT_ADDR" envDefault:"dns:///127.0.0.1:9092"`
	RequestTimeout time.Duration `env:"GATEWAY_REQUEST_TIMEOUT" envDefault:"10s"`
	// RateLimitAddr is the gRPC target of the rate limit service; "off"
	// turns throttling off.
	RateLimitAddr    string        `env:"GATEWAY_RATELIMIT_ADDR" envDefault:"dns:///127.0.0.1:9094"`
	RateLimitDomain  string        `env:"GATEWAY_RATELIMIT_DOMAIN" envDefault:"gateway"`
	RateLimitTimeout time.Duration `env:"GATEWAY_RATELIMIT_TIMEOUT" envDefault:"100ms"`
	MaxBodyBytes     int64         `env:"GATEWAY_MAX_BODY_BYTES" envDefault:"1048576"`
	// Environment is "production" or "development". Production turns
	// GraphQL introspection off and rejects, at start, plaintext
	// connections to non-loopback addresses.
	Environment config.Environment `env:"LEDGER_ENV" envDefault:"development"`
	// DatabaseURL holds the API clients (schema gateway); empty leaves
	// POST /v1/auth/token out.
	DatabaseURL string `env:"GATEWAY_DATABASE_URL" secret:"true"`
	Migrate     bool   `env:"GATEWAY_MIGRATE" envDefault:"true"`
	// MigrationDatabaseURL is who applies the migrations when Migrate is
	// set: the schema's owner, which may create roles. Empty means
	// GATEWAY_DATABASE_URL, which then must be that owner too.
	MigrationDatabaseURL string `env:"GATEWAY_MIGRATION_DATABASE_URL" secret:"true"`
	// TokenTTL is the lifetime of tokens from POST /v1/auth/token.
	TokenTTL time.Duration `env:"GATEWAY_TOKEN_TTL" envDefault:"15m"`
	// BcryptCost is the cost of new client secret hashes.
	BcryptCost int `env:"GATEWAY_BCRYPT_COST" envDefault:"10"`
	auth.Config
	// TLS secures the wallet, payment and rate limit clients.
	TLS             tlsconfig.Config
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
}

// Validate reports every invalid setting at once.
func (c *Config) Validate() error {
	var errs []error
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("GATEWAY_REQUEST_TIMEOUT is %s, it must be positive", c.RequestTimeout))
	}
	if c.RateLimitTimeout <= 0 || c.RateLimitTimeout > time.Second {
		errs = append(errs, fmt.Errorf("GATEWAY_RATELIMIT_TIMEOUT is %s, it must be between 0 and 1s", c.RateLimitTimeout))
	}
	if c.TokenTTL < time.Minute || c.TokenTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("GATEWAY_TOKEN_TTL is %s, it must be between 1m and 24h", c.TokenTTL))
	}
	if c.BcryptCost < 4 || c.BcryptCost > 14 {
		errs = append(errs, fmt.Errorf("GATEWAY_BCRYPT_COST is %d, it must be between 4 and 14", c.BcryptCost))
	}
	if c.JWKSFile == "" && c.SigningKeyFile == "" && c.JWKSURL == "" {
		errs = append(errs, errors.New("set LEDGER_JWT_SIGNING_KEY_FILE, LEDGER_JWT_JWKS_FILE or LEDGER_JWT_JWKS_URL: client tokens are ES256"))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("GATEWAY_MAX_BODY_BYTES is %d, it must be at least 1024", c.MaxBodyBytes))
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
// production, every plaintext connection to a non-loopback address. The
// HTTP listeners are not checked: TLS for clients ends in front of the
// gateway.
func (c *Config) validateTransport() error {
	production := c.Environment.IsProduction()
	return errors.Join(
		c.Environment.Validate(),
		c.TLS.Validate(),
		c.TLS.CheckPlaintext(production,
			tlsconfig.Endpoint{Variable: "GATEWAY_WALLET_ADDR", Address: c.WalletAddr},
			tlsconfig.Endpoint{Variable: "GATEWAY_PAYMENT_ADDR", Address: c.PaymentAddr},
			tlsconfig.Endpoint{Variable: "GATEWAY_RATELIMIT_ADDR", Address: c.RateLimitAddr}),
		tlsconfig.CheckPostgresURL("GATEWAY_DATABASE_URL", c.DatabaseURL, production),
		tlsconfig.CheckPostgresURL("GATEWAY_MIGRATION_DATABASE_URL", c.MigrationDatabaseURL, production),
	)
}
