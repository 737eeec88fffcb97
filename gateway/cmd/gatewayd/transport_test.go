package main

import (
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/config/configtest"
)

// setTransportEnv sets the variables gatewayd requires, empties the
// transport variables and then sets values.
func setTransportEnv(t *testing.T, values map[string]string) {
	t.Helper()
	configtest.SetEnv(t, []string{
		"LEDGER_ENV", "LEDGER_TLS_MODE", "LEDGER_TLS_CERT_FILE", "LEDGER_TLS_KEY_FILE", "LEDGER_TLS_CA_FILE", "PGSSLMODE", "PGHOST",
		"GATEWAY_WALLET_ADDR",
		"GATEWAY_PAYMENT_ADDR",
		"GATEWAY_RATELIMIT_ADDR",
		"GATEWAY_DATABASE_URL",
		"GATEWAY_MIGRATION_DATABASE_URL",
	}, map[string]string{
		"LEDGER_JWT_SECRET":    strings.Repeat("s", 32),
		"LEDGER_JWT_JWKS_FILE": "/etc/ledger/jwks.json",
	})
	configtest.SetEnv(t, nil, values)
}

func TestConfigTLSOnWithoutFiles(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_TLS_MODE": "on", "LEDGER_TLS_CERT_FILE": "/etc/ledger/tls/tls.crt"})
	configtest.ExpectProblems[Config](t, "LEDGER_TLS_MODE is on but LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE are not set")
}

func TestConfigProductionRejectsPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{
		"LEDGER_ENV":             "production",
		"GATEWAY_WALLET_ADDR":    "dns:///wallet:9091",
		"GATEWAY_PAYMENT_ADDR":   "off",
		"GATEWAY_RATELIMIT_ADDR": "dns:///ratelimit:9094",
		"GATEWAY_DATABASE_URL":   "postgres://svc:pw@db.internal:5432/ledger",
	})
	configtest.ExpectProblems[Config](t,
		`GATEWAY_WALLET_ADDR is "dns:///wallet:9091", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		`GATEWAY_RATELIMIT_ADDR is "dns:///ratelimit:9094", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		"GATEWAY_DATABASE_URL reaches PostgreSQL at db.internal:5432 without verifying its certificate",
	)
}

func TestConfigProductionAllowsLoopbackPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_ENV": "production"})
	configtest.ExpectProblems[Config](t)
}
