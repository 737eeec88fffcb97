package main

import (
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/config/configtest"
)

// setTransportEnv sets the variables ratelimitd requires, empties the
// transport variables and then sets values.
func setTransportEnv(t *testing.T, values map[string]string) {
	t.Helper()
	configtest.SetEnv(t, []string{
		"LEDGER_ENV", "LEDGER_TLS_MODE", "LEDGER_TLS_CERT_FILE", "LEDGER_TLS_KEY_FILE", "LEDGER_TLS_CA_FILE", "PGSSLMODE", "PGHOST",
		"RATELIMIT_GRPC_ADDR",
		"RATELIMIT_REDIS_ADDR",
		"RATELIMIT_REDIS_ADDRS",
		"RATELIMIT_REDIS_TLS",
	}, map[string]string{
		"LEDGER_JWT_SECRET": strings.Repeat("s", 32),
	})
	configtest.SetEnv(t, nil, values)
}

func TestConfigTLSOnWithoutFiles(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_TLS_MODE": "on", "LEDGER_TLS_CERT_FILE": "/etc/ledger/tls/tls.crt"})
	configtest.ExpectProblems[Config](t, "LEDGER_TLS_MODE is on but LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE are not set")
}

func TestConfigProductionRejectsPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{
		"LEDGER_ENV":           "production",
		"RATELIMIT_GRPC_ADDR":  "0.0.0.0:9094",
		"RATELIMIT_REDIS_ADDR": "redis.internal:6379",
	})
	configtest.ExpectProblems[Config](t,
		`RATELIMIT_GRPC_ADDR is "0.0.0.0:9094", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		`RATELIMIT_REDIS_ADDR contains "redis.internal:6379", which is not a loopback address, and RATELIMIT_REDIS_TLS is false`,
	)
}

func TestConfigProductionAllowsLoopbackPlaintext(t *testing.T) {
	setTransportEnv(t, map[string]string{"LEDGER_ENV": "production"})
	configtest.ExpectProblems[Config](t)
}
