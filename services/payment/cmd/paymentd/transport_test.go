package main

import (
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/config/configtest"
)

// setTransportEnv sets the variables paymentd requires, empties the
// transport variables and then sets values.
func setTransportEnv(t *testing.T, values map[string]string) {
	t.Helper()
	configtest.SetEnv(t, []string{
		"LEDGER_ENV", "LEDGER_TLS_MODE", "LEDGER_TLS_CERT_FILE", "LEDGER_TLS_KEY_FILE", "LEDGER_TLS_CA_FILE", "PGSSLMODE", "PGHOST",
		"PAYMENT_GRPC_ADDR",
		"PAYMENT_WALLET_ADDR",
		"PAYMENT_IDEMPOTENCY_ADDR",
		"PAYMENT_MIGRATION_DATABASE_URL",
	}, map[string]string{
		"LEDGER_JWT_SECRET":     strings.Repeat("s", 32),
		"PAYMENT_DATABASE_URL":  "postgres://127.0.0.1/ledger",
		"STRIPE_API_KEY":        "sk_test_config",
		"STRIPE_WEBHOOK_SECRET": "whsec_config",
	})
	configtest.SetEnv(t, nil, values)
}

func TestConfigTLSOnWithoutFiles(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_TLS_MODE": "on", "LEDGER_TLS_CERT_FILE": "/etc/ledger/tls/tls.crt"})
	configtest.ExpectProblems[Config](t, "LEDGER_TLS_MODE is on but LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE are not set")
}

func TestConfigProductionRejectsPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{
		"LEDGER_ENV":                     "production",
		"PAYMENT_GRPC_ADDR":              ":9092",
		"PAYMENT_WALLET_ADDR":            "dns:///wallet:9091",
		"PAYMENT_IDEMPOTENCY_ADDR":       "dns:///idempotency:9093",
		"PAYMENT_MIGRATION_DATABASE_URL": "postgres://svc:pw@db.internal:5432/ledger?sslmode=prefer",
	})
	configtest.ExpectProblems[Config](t,
		`PAYMENT_GRPC_ADDR is ":9092", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		`PAYMENT_WALLET_ADDR is "dns:///wallet:9091", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		`PAYMENT_IDEMPOTENCY_ADDR is "dns:///idempotency:9093", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		"PAYMENT_MIGRATION_DATABASE_URL reaches PostgreSQL at db.internal:5432 without verifying its certificate",
	)
}

func TestConfigProductionAllowsLoopbackPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_ENV": "production"})
	configtest.ExpectProblems[Config](t)
}
