package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
)

// unsetEnv removes key for the duration of the test. t.Setenv first records
// the current value so it is restored afterwards.
func unsetEnv(t *testing.T, key string) {
	t.Helper()

	t.Setenv(key, "")
	if err := os.Unsetenv(key); err != nil {
		t.Fatalf("unset %s: %v", key, err)
	}
}

// clearServerEnv unsets the variables of Server so the developer's
// environment cannot change the results.
func clearServerEnv(t *testing.T) {
	t.Helper()

	for _, key := range []string{"GRPC_ADDR", "ADMIN_ADDR", "SHUTDOWN_TIMEOUT", "LOG_LEVEL"} {
		unsetEnv(t, key)
	}
}

type serviceConfig struct {
	Server
	DatabaseURL string        `env:"CONFIG_TEST_DATABASE_URL,required" secret:"true"`
	RedisURL    string        `env:"CONFIG_TEST_REDIS_URL,required"`
	LockTTL     time.Duration `env:"CONFIG_TEST_LOCK_TTL" envDefault:"5s"`
}

var serviceDefaults = serviceConfig{Server: Server{GRPCAddr: "127.0.0.1:9091", AdminAddr: "127.0.0.1:9191"}}

func TestLoadReportsAllProblems(t *testing.T) {
	clearServerEnv(t)
	unsetEnv(t, "CONFIG_TEST_DATABASE_URL")
	unsetEnv(t, "CONFIG_TEST_REDIS_URL")
	t.Setenv("SHUTDOWN_TIMEOUT", "ten seconds")
	t.Setenv("LOG_LEVEL", "verbose")

	cfg, err := LoadWithDefaults(serviceDefaults)

	var loadErr *LoadError
	if !errors.As(err, &loadErr) {
		t.Fatalf("err = %v, want *LoadError", err)
	}
	if got := len(loadErr.Problems); got != 4 {
		t.Errorf("len(Problems) = %d, want 4: %v", got, err)
	}

	lines := strings.Split(err.Error(), "\n")
	if got := len(lines); got != 5 {
		t.Errorf("error has %d lines, want a header and 4 problems: %q", got, err)
	}
	for _, name := range []string{"CONFIG_TEST_DATABASE_URL", "CONFIG_TEST_REDIS_URL", "SHUTDOWN_TIMEOUT", "LOG_LEVEL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}

	var notSet env.VarIsNotSetError
	if !errors.As(err, &notSet) {
		t.Errorf("errors.As(err, env.VarIsNotSetError) = false, want true")
	}
	var parseErr env.ParseError
	if !errors.As(err, &parseErr) {
		t.Errorf("errors.As(err, env.ParseError) = false, want true")
	}

	if cfg != (serviceConfig{}) {
		t.Errorf("cfg = %+v, want the zero value", cfg)
	}
}

func TestLoadDefaults(t *testing.T) {
	clearServerEnv(t)
	unsetEnv(t, "CONFIG_TEST_LOCK_TTL")
	t.Setenv("CONFIG_TEST_DATABASE_URL", "postgres://ledger@127.0.0.1:5432/ledger")
	t.Setenv("CONFIG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

	cfg, err := LoadWithDefaults(serviceDefaults)
	if err != nil {
		t.Fatalf("LoadWithDefaults: %v", err)
	}

	want := serviceConfig{
		Server: Server{
			GRPCAddr:        "127.0.0.1:9091",
			AdminAddr:       "127.0.0.1:9191",
			ShutdownTimeout: 15 * time.Second,
			LogLevel:        "info",
		},
		DatabaseURL: "postgres://ledger@127.0.0.1:5432/ledger",
		RedisURL:    "redis://127.0.0.1:6379/0",
		LockTTL:     5 * time.Second,
	}
	if cfg != want {
		t.Errorf("cfg = %+v, want %+v", cfg, want)
	}
}

func TestLoadPrecedence(t *testing.T) {
	clearServerEnv(t)
	t.Setenv("CONFIG_TEST_DATABASE_URL", "postgres://127.0.0.1/ledger")
	t.Setenv("CONFIG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	t.Setenv("GRPC_ADDR", "127.0.0.1:7001")
	t.Setenv("CONFIG_TEST_LOCK_TTL", "9s")
	t.Setenv("ADMIN_ADDR", "")

	defaults := serviceDefaults
	defaults.ShutdownTimeout = 3 * time.Second
	defaults.LockTTL = 2 * time.Second

	cfg, err := LoadWithDefaults(defaults)
	if err != nil {
		t.Fatalf("LoadWithDefaults: %v", err)
	}

	if cfg.GRPCAddr != "127.0.0.1:7001" {
		t.Errorf("GRPCAddr = %q, want the environment value 127.0.0.1:7001", cfg.GRPCAddr)
	}
	if cfg.AdminAddr != "127.0.0.1:9191" {
		t.Errorf("AdminAddr = %q, want the prefilled 127.0.0.1:9191 for an empty variable", cfg.AdminAddr)
	}
	if cfg.ShutdownTimeout != 3*time.Second {
		t.Errorf("ShutdownTimeout = %v, want the prefilled 3s over envDefault", cfg.ShutdownTimeout)
	}
	if cfg.LockTTL != 9*time.Second {
		t.Errorf("LockTTL = %v, want the environment value 9s", cfg.LockTTL)
	}
}

func TestLoadWithoutDefaultsFailsServerValidation(t *testing.T) {
	clearServerEnv(t)
	t.Setenv("CONFIG_TEST_DATABASE_URL", "postgres://127.0.0.1/ledger")
	t.Setenv("CONFIG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

	_, err := Load[serviceConfig]()

	var loadErr *LoadError
	if !errors.As(err, &loadErr) {
		t.Fatalf("err = %v, want *LoadError", err)
	}
	if got := len(loadErr.Problems); got != 2 {
		t.Errorf("len(Problems) = %d, want 2 (GRPC_ADDR, ADMIN_ADDR): %v", got, err)
	}
	for _, name := range []string{"GRPC_ADDR", "ADMIN_ADDR"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

type pointerValidated struct {
	Port int `env:"CONFIG_TEST_PORT" envDefault:"80"`
}

func (p *pointerValidated) Validate() error {
	if p.Port < 1024 {
		return fmt.Errorf("CONFIG_TEST_PORT: invalid value %d, must be at least 1024", p.Port)
	}
	return nil
}

func TestLoadCallsPointerValidate(t *testing.T) {
	unsetEnv(t, "CONFIG_TEST_PORT")

	_, err := Load[pointerValidated]()
	if err == nil || !strings.Contains(err.Error(), "CONFIG_TEST_PORT: invalid value 80") {
		t.Fatalf("err = %v, want the Validate error", err)
	}

	t.Setenv("CONFIG_TEST_PORT", "8080")

	cfg, err := Load[pointerValidated]()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Port != 8080 {
		t.Errorf("Port = %d, want 8080", cfg.Port)
	}
}

type secretNumber struct {
	PIN int `env:"CONFIG_TEST_PIN" secret:"true"`
}

func TestLoadHidesSecretParseValue(t *testing.T) {
	t.Setenv("CONFIG_TEST_PIN", "12x34")

	_, err := Load[secretNumber]()
	if err == nil {
		t.Fatal("err = nil, want a parse error")
	}

	if !strings.Contains(err.Error(), "CONFIG_TEST_PIN") {
		t.Errorf("error does not name CONFIG_TEST_PIN: %v", err)
	}
	if strings.Contains(err.Error(), "12x34") {
		t.Errorf("error contains the secret value: %v", err)
	}
}

type badDefault struct {
	Timeout time.Duration `env:"CONFIG_TEST_TIMEOUT" envDefault:"soon"`
}

func TestLoadReportsInvalidEnvDefault(t *testing.T) {
	unsetEnv(t, "CONFIG_TEST_TIMEOUT")

	_, err := Load[badDefault]()

	if err == nil || !strings.Contains(err.Error(), "CONFIG_TEST_TIMEOUT: invalid envDefault tag") {
		t.Errorf("err = %v, want an invalid envDefault problem", err)
	}
}

func TestLoadRejectsNonStruct(t *testing.T) {
	_, err := Load[string]()

	if err == nil {
		t.Error("err = nil, want an error for a non-struct type")
	}
}

func TestServerValidate(t *testing.T) {
	valid := Server{GRPCAddr: ":1", AdminAddr: ":2", ShutdownTimeout: time.Second, LogLevel: "debug"}
	if err := valid.Validate(); err != nil {
		t.Errorf("Validate(valid) = %v, want nil", err)
	}

	for _, level := range []string{"debug", "info", "warn", "error"} {
		server := valid
		server.LogLevel = level
		if err := server.Validate(); err != nil {
			t.Errorf("LogLevel %q: Validate = %v, want nil", level, err)
		}
	}

	invalid := Server{LogLevel: "INFO", ShutdownTimeout: -time.Second}
	err := invalid.Validate()
	if got := len(flatten(err)); got != 4 {
		t.Errorf("len(problems) = %d, want 4: %v", got, err)
	}
}

type redactedConfig struct {
	Server
	DatabaseURL string `env:"DATABASE_URL" secret:"true"`
	APIKey      string `env:"API_KEY" secret:"true"`
	RedisURL    string `env:"REDIS_URL"`
	PublicURL   string `env:"PUBLIC_URL"`
	MaxConns    int    `env:"MAX_CONNS"`
	Nested      struct {
		Token string `env:"TOKEN" secret:"true"`
	} `envPrefix:"NESTED_"`
	internal string
}

func renderJSON(t *testing.T, value slog.Value) string {
	t.Helper()

	var out bytes.Buffer
	slog.New(slog.NewJSONHandler(&out, nil)).Info("config loaded", "config", value)

	return out.String()
}

func TestRedacted(t *testing.T) {
	cfg := redactedConfig{
		Server:      Server{GRPCAddr: "127.0.0.1:9091", ShutdownTimeout: 15 * time.Second, LogLevel: "info"},
		DatabaseURL: "postgres://ledger:db-pass-1@127.0.0.1:5432/ledger",
		RedisURL:    "redis://:redis-pass-2@127.0.0.1:6379/0",
		PublicURL:   "https://api.example.com/v1",
		MaxConns:    8,
		internal:    "hidden-3",
	}
	cfg.Nested.Token = "token-4"

	out := renderJSON(t, Redacted(cfg))

	for _, secret := range []string{"db-pass-1", "redis-pass-2", "hidden-3", "token-4", "ledger:"} {
		if strings.Contains(out, secret) {
			t.Errorf("output contains %q: %s", secret, out)
		}
	}

	for _, want := range []string{
		`"GRPC_ADDR":"127.0.0.1:9091"`,
		`"SHUTDOWN_TIMEOUT":"15s"`,
		`"DATABASE_URL":"***"`,
		`"API_KEY":""`,
		`"REDIS_URL":"redis://:***@127.0.0.1:6379/0"`,
		`"PUBLIC_URL":"https://api.example.com/v1"`,
		`"MAX_CONNS":8`,
		`"NESTED_TOKEN":"***"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %s: %s", want, out)
		}
	}
}

func TestRedactedPointerAndNonStruct(t *testing.T) {
	cfg := &redactedConfig{PublicURL: "postgres://user:pw-5@host/db"}

	out := renderJSON(t, Redacted(cfg))
	if !strings.Contains(out, `"PUBLIC_URL":"postgres://user:***@host/db"`) {
		t.Errorf("output does not mask the URL password: %s", out)
	}

	if got := len(Redacted(42).Group()); got != 0 {
		t.Errorf("len(Redacted(42).Group()) = %d, want 0", got)
	}
}

func TestMaskURLPassword(t *testing.T) {
	tests := map[string]string{
		"postgres://user:pass@host:5432/db?sslmode=disable": "postgres://user:***@host:5432/db?sslmode=disable",
		"postgres://user@host/db":                           "postgres://user@host/db",
		"127.0.0.1:9091":                                    "127.0.0.1:9091",
		"plain text":                                        "plain text",
		"postgres://user:pa%zz@host":                        "***",
	}

	for input, want := range tests {
		if got := maskURLPassword(input); got != want {
			t.Errorf("maskURLPassword(%q) = %q, want %q", input, got, want)
		}
	}
}
