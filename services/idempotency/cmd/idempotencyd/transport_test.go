package main

import (
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/config/configtest"
)

// setTransportEnv sets the variables idempotencyd requires, empties the
// transport variables and then sets values.
func setTransportEnv(t *testing.T, values map[string]string) {
	t.Helper()
	configtest.SetEnv(t, []string{
		"LEDGER_ENV", "LEDGER_TLS_MODE", "LEDGER_TLS_CERT_FILE", "LEDGER_TLS_KEY_FILE", "LEDGER_TLS_CA_FILE", "PGSSLMODE", "PGHOST",
		"IDEMPOTENCY_GRPC_ADDR",
		"IDEMPOTENCY_MIGRATION_DATABASE_URL",
		"IDEMPOTENCY_REDIS_ADDR",
		"IDEMPOTENCY_REDIS_ADDRS",
		"IDEMPOTENCY_REDIS_TLS",
	}, map[string]string{
		"LEDGER_JWT_SECRET":        strings.Repeat("s", 32),
		"IDEMPOTENCY_DATABASE_URL": "postgres://127.0.0.1/ledger",
	})
	configtest.SetEnv(t, nil, values)
}

func TestConfigTLSOnWithoutFiles(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_TLS_MODE": "on", "LEDGER_TLS_CERT_FILE": "/etc/ledger/tls/tls.crt"})
	configtest.ExpectProblems[Config](t, "LEDGER_TLS_MODE is on but LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE are not set")
}

func TestConfigProductionRejectsPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{
		"LEDGER_ENV":               "production",
		"IDEMPOTENCY_GRPC_ADDR":    "10.0.0.7:9093",
		"IDEMPOTENCY_DATABASE_URL": "postgres://svc:pw@db.internal:5432/ledger?sslmode=disable",
		"IDEMPOTENCY_REDIS_ADDR":   "redis.internal:6379",
	})
	configtest.ExpectProblems[Config](t,
		`IDEMPOTENCY_GRPC_ADDR is "10.0.0.7:9093", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		`IDEMPOTENCY_REDIS_ADDR contains "redis.internal:6379", which is not a loopback address, and IDEMPOTENCY_REDIS_TLS is false`,
		"IDEMPOTENCY_DATABASE_URL reaches PostgreSQL at db.internal:5432 without verifying its certificate",
	)
}

func TestConfigProductionAllowsLoopbackPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_ENV": "production"})
	configtest.ExpectProblems[Config](t)
}
