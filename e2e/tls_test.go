package e2e

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/advancia-pay/ledger/pkg/tlsconfig"
	"github.com/advancia-pay/ledger/pkg/tlstest"
)

// withMutualTLS turns mutual TLS on in every process of the stack, with
// identity, which ca issued, as the identity of each.
func withMutualTLS(ca *tlstest.CA, identity tlstest.Identity) stackOption {
	return withEnv(func(env []string) []string {
		return append(env,
			"LEDGER_TLS_MODE=on",
			"LEDGER_TLS_CERT_FILE="+identity.CertFile,
			"LEDGER_TLS_KEY_FILE="+identity.KeyFile,
			"LEDGER_TLS_CA_FILE="+ca.CertFile)
	})
}

// runToExit runs path with exactly env until it exits, for up to
// stopTimeout, and returns its exit code and combined output.
func runToExit(t *testing.T, path string, env []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, path)
	cmd.Env = env
	output, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s still ran after %s, want it to exit at start; output:\n%s", path, stopTimeout, output)
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), string(output)
	case err != nil:
		t.Fatalf("run %s: %v", path, err)
	}
	return 0, string(output)
}

// walletEnv is the environment of a walletd that fails validation before
// it opens any connection.
func walletEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	return append([]string{
		"LEDGER_JWT_SECRET=" + string(randomSecret(t)),
		"WALLET_GRPC_ADDR=" + freeAddr(t),
		"WALLET_ADMIN_ADDR=" + freeAddr(t),
		"WALLET_DATABASE_URL=postgres://ledger_wallet@127.0.0.1:5432/ledger_unused",
	}, extra...)
}

func TestWalletRefusesTLSWithoutCertificate(t *testing.T) {
	t.Parallel()
	code, output := runToExit(t, walletdPath, walletEnv(t, "LEDGER_TLS_MODE=on"))
	if code != 1 {
		t.Errorf("walletd exit code %d, want 1", code)
	}
	want := "LEDGER_TLS_MODE is on but LEDGER_TLS_CERT_FILE, LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE are not set"
	if !strings.Contains(output, want) {
		t.Errorf("walletd output does not contain %q:\n%s", want, output)
	}
}

func TestProductionRefusesPlaintext(t *testing.T) {
	t.Parallel()
	code, output := runToExit(t, walletdPath, walletEnv(t,
		"LEDGER_ENV=production",
		// The .invalid name never resolves, and walletd stops before it
		// would dial anyway.
		"WALLET_IDEMPOTENCY_ADDR=dns:///idempotency.invalid:9093"))
	if code != 1 {
		t.Errorf("walletd exit code %d, want 1", code)
	}
	want := `WALLET_IDEMPOTENCY_ADDR is "dns:///idempotency.invalid:9093", which is not a loopback address, and LEDGER_TLS_MODE is off`
	if !strings.Contains(output, want) {
		t.Errorf("walletd output does not contain %q:\n%s", want, output)
	}
}

// healthCode calls the health service at addr over creds and returns the
// status code.
func healthCode(t *testing.T, addr string, creds credentials.TransportCredentials) codes.Code {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return status.Code(err)
}

// TestStackOverMutualTLS runs every gRPC connection of the stack over
// mutual TLS: the gateway reaches the wallet and the rate limit service,
// and the wallet reaches the idempotency service, while a client without a
// certificate from the CA is turned away.
func TestStackOverMutualTLS(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t, "ledger-e2e")
	s := startStack(t, withMutualTLS(ca, ca.Issue(t, "ledger-e2e")))

	w, token := s.fundedWallet(t, "tls-user", 500)
	resp := s.debit(t, token, w.ID, "tls-debit-1", "200")
	decodeOK[transactionJSON](t, resp, "debit over mutual TLS")
	expectProblem(t, s.debit(t, token, w.ID, "tls-debit-2", "301"), http.StatusUnprocessableEntity, "insufficient_funds")
	if got := s.wallet(t, token, w.ID).Balance; got != "300" {
		t.Errorf("balance %s, want 300", got)
	}

	client := ca.Issue(t, "e2e-client")
	clientTLS := func(files tlsconfig.Files) credentials.TransportCredentials {
		cfg, err := tlsconfig.Client(files)
		if err != nil {
			t.Fatal(err)
		}
		return credentials.NewTLS(cfg)
	}
	cases := []struct {
		name  string
		creds credentials.TransportCredentials
		want  codes.Code
	}{
		{"certificate from the CA", clientTLS(tlsconfig.Files{CAFile: ca.CertFile, CertFile: client.CertFile, KeyFile: client.KeyFile}), codes.OK},
		{"no client certificate", clientTLS(tlsconfig.Files{CAFile: ca.CertFile}), codes.Unavailable},
		{"plaintext", insecure.NewCredentials(), codes.Unavailable},
	}
	for _, tc := range cases {
		for name, addr := range map[string]string{"walletd": s.walletGRPC, "idempotencyd": s.idempotencyGRPC} {
			if got := healthCode(t, addr, tc.creds); got != tc.want {
				t.Errorf("%s, %s: health check code %s, want %s", name, tc.name, got, tc.want)
			}
		}
	}
}
