package tlsconfig_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/tlsconfig"
	"github.com/advancia-pay/ledger/pkg/tlstest"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  tlsconfig.Config
		want string
	}{
		{"off", tlsconfig.Config{Mode: "off"}, ""},
		{"off with files", tlsconfig.Config{Mode: "off", CertFile: "c.pem"}, ""},
		{"on with every file", tlsconfig.Config{Mode: "on", CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem"}, ""},
		{"unknown mode", tlsconfig.Config{Mode: "true"}, `LEDGER_TLS_MODE is "true", it must be off or on`},
		{"on without files", tlsconfig.Config{Mode: "on"},
			"LEDGER_TLS_MODE is on but LEDGER_TLS_CERT_FILE, LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE are not set"},
		{"on without key and CA", tlsconfig.Config{Mode: "on", CertFile: "c.pem"},
			"LEDGER_TLS_MODE is on but LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE are not set"},
		{"on without CA", tlsconfig.Config{Mode: "on", CertFile: "c.pem", KeyFile: "k.pem"},
			"LEDGER_TLS_MODE is on but LEDGER_TLS_CA_FILE is not set"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Validate = %v, want nil", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: Validate = %v, want it to start with %q", tc.name, err, tc.want)
		}
	}
}

func TestCredentialsFollowMode(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	identity := ca.Issue(t, "wallet")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	off := tlsconfig.Config{Mode: "off"}
	on := tlsconfig.Config{Mode: "on", CertFile: identity.CertFile, KeyFile: identity.KeyFile, CAFile: ca.CertFile}
	for _, tc := range []struct {
		cfg  tlsconfig.Config
		want string
	}{{off, "insecure"}, {on, "tls"}} {
		server, err := tc.cfg.ServerCredentials(logger)
		if err != nil {
			t.Fatalf("mode %s: ServerCredentials: %v", tc.cfg.Mode, err)
		}
		if got := server.Info().SecurityProtocol; got != tc.want {
			t.Errorf("mode %s: server SecurityProtocol = %q, want %q", tc.cfg.Mode, got, tc.want)
		}
		client, err := tc.cfg.ClientCredentials()
		if err != nil {
			t.Fatalf("mode %s: ClientCredentials: %v", tc.cfg.Mode, err)
		}
		if got := client.Info().SecurityProtocol; got != tc.want {
			t.Errorf("mode %s: client SecurityProtocol = %q, want %q", tc.cfg.Mode, got, tc.want)
		}
	}

	broken := on
	broken.KeyFile = ca.CertFile
	if _, err := broken.ServerCredentials(logger); err == nil || !strings.HasPrefix(err.Error(), "LEDGER_TLS_*: gRPC server: load certificate") {
		t.Errorf("ServerCredentials with a bad key: error %v, want a load error", err)
	}
	if _, err := broken.ClientCredentials(); err == nil || !strings.HasPrefix(err.Error(), "LEDGER_TLS_*: gRPC client: load certificate") {
		t.Errorf("ClientCredentials with a bad key: error %v, want a load error", err)
	}
}

func TestIsLoopback(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1:9091":                              true,
		"127.0.0.2:9091":                              true,
		"[::1]:9091":                                  true,
		"localhost:9091":                              true,
		"LOCALHOST:9091":                              true,
		"localhost":                                   true,
		"dns:///127.0.0.1:9091":                       true,
		"list:///127.0.0.1:9091,127.0.0.1:9095":       true,
		"dns:///localhost:9091":                       true,
		"dns://8.8.8.8/127.0.0.1:9091":                true,
		"dns:127.0.0.1:9091":                          true,
		"passthrough:///[::1]:9091":                   true,
		"unix:///run/ledger/wallet.sock":              true,
		"unix-abstract:wallet":                        true,
		":9091":                                       false,
		"0.0.0.0:9091":                                false,
		"[::]:9091":                                   false,
		"10.0.0.5:9091":                               false,
		"wallet:9091":                                 false,
		"dns:///wallet:9091":                          false,
		"list:///127.0.0.1:9091,10.0.0.7:9091":        false,
		"dns:///wallet.ledger.svc.cluster.local:9091": false,
		"xds:///wallet":                               false,
		"localhost.example.com:9091":                  false,
		"":                                            false,
	}
	for address, want := range cases {
		if got := tlsconfig.IsLoopback(address); got != want {
			t.Errorf("IsLoopback(%q) = %t, want %t", address, got, want)
		}
	}
}

func TestCheckPlaintext(t *testing.T) {
	endpoints := []tlsconfig.Endpoint{
		{Variable: "WALLET_GRPC_ADDR", Address: "0.0.0.0:9091"},
		{Variable: "WALLET_IDEMPOTENCY_ADDR", Address: "dns:///idempotency:9093"},
		{Variable: "GATEWAY_PAYMENT_ADDR", Address: "off"},
		{Variable: "WALLET_ADMIN_ADDR", Address: "127.0.0.1:9191"},
	}

	err := tlsconfig.Config{Mode: "off"}.CheckPlaintext(true, endpoints...)
	if err == nil {
		t.Fatal("CheckPlaintext in production with TLS off = nil, want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 {
		t.Fatalf("CheckPlaintext returned %d problems, want 2: %v", len(lines), err)
	}
	for i, want := range []string{
		`WALLET_GRPC_ADDR is "0.0.0.0:9091", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		`WALLET_IDEMPOTENCY_ADDR is "dns:///idempotency:9093", which is not a loopback address, and LEDGER_TLS_MODE is off`,
	} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("problem %d = %q, want it to start with %q", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[0], "set LEDGER_TLS_MODE=on with LEDGER_TLS_CERT_FILE, LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE") {
		t.Errorf("problem does not say how to fix it: %q", lines[0])
	}

	if err := (tlsconfig.Config{Mode: "on"}).CheckPlaintext(true, endpoints...); err != nil {
		t.Errorf("CheckPlaintext in production with TLS on = %v, want nil", err)
	}
	if err := (tlsconfig.Config{Mode: "off"}).CheckPlaintext(false, endpoints...); err != nil {
		t.Errorf("CheckPlaintext in development = %v, want nil", err)
	}
	loopbackOnly := []tlsconfig.Endpoint{{Variable: "WALLET_GRPC_ADDR", Address: "127.0.0.1:9091"}}
	if err := (tlsconfig.Config{Mode: "off"}).CheckPlaintext(true, loopbackOnly...); err != nil {
		t.Errorf("CheckPlaintext in production on loopback only = %v, want nil", err)
	}
}
