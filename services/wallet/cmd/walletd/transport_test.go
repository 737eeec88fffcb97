package main

import (
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/config/configtest"
	"github.com/advancia-pay/ledger/pkg/tlstest"
)

// setTransportEnv sets the variables walletd requires, empties the
// transport variables and then sets values.
func setTransportEnv(t *testing.T, values map[string]string) {
	t.Helper()
	configtest.SetEnv(t, []string{
		"LEDGER_ENV", "LEDGER_TLS_MODE", "LEDGER_TLS_CERT_FILE", "LEDGER_TLS_KEY_FILE", "LEDGER_TLS_CA_FILE",
		"WALLET_GRPC_ADDR", "WALLET_IDEMPOTENCY_ADDR", "WALLET_MIGRATION_DATABASE_URL",
		"WALLET_REDIS_ADDR", "WALLET_REDIS_ADDRS", "WALLET_REDIS_TLS", "WALLET_REDIS_TLS_CA_FILE",
		"PGSSLMODE", "PGHOST",
	}, map[string]string{
		"WALLET_DATABASE_URL": "postgres://127.0.0.1/ledger",
		"LEDGER_JWT_SECRET":   strings.Repeat("s", 32),
	})
	configtest.SetEnv(t, nil, values)
}

func TestConfigTLSOnWithoutFiles(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_TLS_MODE": "on"})
	configtest.ExpectProblems[Config](t,
		"LEDGER_TLS_MODE is on but LEDGER_TLS_CERT_FILE, LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE are not set")
}

func TestConfigProductionRejectsPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{
		"LEDGER_ENV":              "production",
		"WALLET_GRPC_ADDR":        "0.0.0.0:9091",
		"WALLET_IDEMPOTENCY_ADDR": "dns:///idempotency:9093",
		"WALLET_DATABASE_URL":     "postgres://wallet:pw@db.internal:5432/ledger?sslmode=require",
		"WALLET_REDIS_ADDR":       "redis.internal:6379",
	})
	configtest.ExpectProblems[Config](t,
		`WALLET_GRPC_ADDR is "0.0.0.0:9091", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		`WALLET_IDEMPOTENCY_ADDR is "dns:///idempotency:9093", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		`WALLET_REDIS_ADDR contains "redis.internal:6379", which is not a loopback address, and WALLET_REDIS_TLS is false`,
		"WALLET_DATABASE_URL reaches PostgreSQL at db.internal:5432 without verifying its certificate",
	)
}

func TestConfigProductionAcceptsTLS(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	identity := ca.Issue(t, "wallet")
	setTransportEnv(t, map[string]string{
		"LEDGER_ENV":               "production",
		"LEDGER_TLS_MODE":          "on",
		"LEDGER_TLS_CERT_FILE":     identity.CertFile,
		"LEDGER_TLS_KEY_FILE":      identity.KeyFile,
		"LEDGER_TLS_CA_FILE":       ca.CertFile,
		"WALLET_GRPC_ADDR":         "0.0.0.0:9091",
		"WALLET_IDEMPOTENCY_ADDR":  "dns:///idempotency:9093",
		"WALLET_DATABASE_URL":      "postgres://wallet:pw@db.internal:5432/ledger?sslmode=verify-full&sslrootcert=" + ca.CertFile,
		"WALLET_REDIS_ADDR":        "redis.internal:6379",
		"WALLET_REDIS_TLS":         "true",
		"WALLET_REDIS_TLS_CA_FILE": ca.CertFile,
	})
	configtest.ExpectProblems[Config](t)
}

func TestConfigProductionAllowsLoopbackPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_ENV": "production"})
	configtest.ExpectProblems[Config](t)
}

func TestConfigRejectsUnknownEnvironment(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_ENV": "staging"})
	configtest.ExpectProblems[Config](t, `LEDGER_ENV is "staging", it must be production or development`)
}
