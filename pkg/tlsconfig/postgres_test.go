package tlsconfig_test

import (
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/tlsconfig"
	"github.com/advancia-pay/ledger/pkg/tlstest"
)

// clearPostgresEnv empties the PG* variables that pgconn reads, so the
// developer's shell cannot change the results.
func clearPostgresEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{"PGHOST", "PGPORT", "PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGSERVICE", "PGSERVICEFILE"} {
		t.Setenv(name, "")
	}
}

func TestCheckPostgresURLInProduction(t *testing.T) {
	clearPostgresEnv(t)
	ca := tlstest.NewCA(t, "postgres")
	remote := "postgres://ledger:pw@db.internal:5432/ledger"

	cases := []struct {
		name string
		url  string
		ok   bool
	}{
		{"verify-full", remote + "?sslmode=verify-full&sslrootcert=" + ca.CertFile, true},
		{"verify-ca", remote + "?sslmode=verify-ca&sslrootcert=" + ca.CertFile, true},
		{"require with sslrootcert", remote + "?sslmode=require&sslrootcert=" + ca.CertFile, true},
		{"verify-full with system roots", remote + "?sslmode=verify-full", true},
		{"require", remote + "?sslmode=require", false},
		{"prefer", remote + "?sslmode=prefer", false},
		{"allow", remote + "?sslmode=allow", false},
		{"disable", remote + "?sslmode=disable", false},
		{"no sslmode", remote, false},
		{"keyword/value disable", "host=db.internal user=ledger password=pw sslmode=disable", false},
		{"keyword/value verify-full", "host=db.internal user=ledger sslmode=verify-full sslrootcert=" + ca.CertFile, true},
		{"second host plaintext", "postgres://ledger@127.0.0.1:5432,db.internal:5432/ledger?sslmode=disable", false},
		{"loopback plaintext", "postgres://ledger:pw@127.0.0.1:5432/ledger?sslmode=disable", true},
		{"localhost plaintext", "postgres://ledger:pw@localhost/ledger?sslmode=disable", true},
		{"unix socket", "postgres://ledger@/ledger?host=/var/run/postgresql&sslmode=disable", true},
	}
	for _, tc := range cases {
		err := tlsconfig.CheckPostgresURL("WALLET_DATABASE_URL", tc.url, true)
		if tc.ok && err != nil {
			t.Errorf("%s: CheckPostgresURL = %v, want nil", tc.name, err)
		}
		if !tc.ok && (err == nil || !strings.HasPrefix(err.Error(), "WALLET_DATABASE_URL reaches PostgreSQL at db.internal:5432 without verifying its certificate")) {
			t.Errorf("%s: CheckPostgresURL = %v, want the host and the missing verification named", tc.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: error contains the password: %v", tc.name, err)
		}
	}
}

func TestCheckPostgresURLFollowsPGSSLMODE(t *testing.T) {
	clearPostgresEnv(t)
	t.Setenv("PGSSLMODE", "verify-full")
	if err := tlsconfig.CheckPostgresURL("WALLET_DATABASE_URL", "postgres://ledger@db.internal/ledger", true); err != nil {
		t.Errorf("PGSSLMODE=verify-full: CheckPostgresURL = %v, want nil", err)
	}
}

func TestCheckPostgresURLInDevelopment(t *testing.T) {
	clearPostgresEnv(t)
	if err := tlsconfig.CheckPostgresURL("WALLET_DATABASE_URL", "postgres://ledger:pw@db.internal/ledger?sslmode=disable", false); err != nil {
		t.Errorf("development plaintext: CheckPostgresURL = %v, want nil", err)
	}
	if err := tlsconfig.CheckPostgresURL("WALLET_DATABASE_URL", "", true); err != nil {
		t.Errorf("empty URL: CheckPostgresURL = %v, want nil", err)
	}
}

func TestCheckPostgresURLHidesPassword(t *testing.T) {
	clearPostgresEnv(t)
	const password = "s3cr3t-Pa55"
	cases := []struct {
		name string
		url  string
		want string
	}{
		{"bad escape", "postgres://ledger:" + password + "%zz@db.internal/ledger", "details hidden"},
		{"bad port", "postgres://ledger:" + password + "@db.internal:port/ledger", "details hidden"},
		{"missing sslrootcert", "postgres://ledger:" + password + "@db.internal/ledger?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "/nonexistent/ca.pem"},
		{"bad keyword/value", "host=db.internal password='" + password, "details hidden"},
		{"bad sslmode", "postgres://ledger:" + password + "@db.internal/ledger?sslmode=always", "details hidden"},
	}
	for _, tc := range cases {
		for _, production := range []bool{false, true} {
			err := tlsconfig.CheckPostgresURL("WALLET_DATABASE_URL", tc.url, production)
			if err == nil {
				t.Errorf("%s: CheckPostgresURL = nil, want a parse error", tc.name)
				continue
			}
			if !strings.HasPrefix(err.Error(), "WALLET_DATABASE_URL is not a valid PostgreSQL URL (") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %q, want the variable and %q", tc.name, err, tc.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("%s: error contains the password: %v", tc.name, err)
			}
		}
	}
}
