package server

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
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

// checkHealth calls the health service of addr with creds and returns the
// call's status code.
func checkHealth(t *testing.T, addr string, creds credentials.TransportCredentials) codes.Code {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return status.Code(err)
}

func TestMutualTLS(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	otherCA := tlstest.NewCA(t, "other")
	wallet, gateway, intruder := ca.Issue(t, "wallet"), ca.Issue(t, "gateway"), otherCA.Issue(t, "intruder")
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))

	serverTLS := tlsconfig.Config{Mode: tlsconfig.ModeOn, CertFile: wallet.CertFile, KeyFile: wallet.KeyFile, CAFile: ca.CertFile}
	serverCreds, err := serverTLS.ServerCredentials(discard)
	if err != nil {
		t.Fatal(err)
	}
	r := startServer(t, func(o *Options) { o.Credentials = serverCreds })
	addr := r.grpcAddr.String()

	clientCreds := func(files tlsconfig.Files) credentials.TransportCredentials {
		cfg, err := tlsconfig.Client(files)
		if err != nil {
			t.Fatal(err)
		}
		return credentials.NewTLS(cfg)
	}
	// A Go client sends no certificate that the server's list of
	// acceptable CAs excludes, so the intruder's is forced on the server.
	intruderConfig, err := tlsconfig.Client(tlsconfig.Files{CAFile: ca.CertFile, CertFile: intruder.CertFile, KeyFile: intruder.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	intruderConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &intruderConfig.Certificates[0], nil
	}

	cases := []struct {
		name  string
		creds credentials.TransportCredentials
		want  codes.Code
	}{
		{"certificate from the CA", clientCreds(tlsconfig.Files{CAFile: ca.CertFile, CertFile: gateway.CertFile, KeyFile: gateway.KeyFile}), codes.OK},
		{"no client certificate", clientCreds(tlsconfig.Files{CAFile: ca.CertFile}), codes.Unavailable},
		{"certificate from another CA", credentials.NewTLS(intruderConfig), codes.Unavailable},
		{"plaintext", insecure.NewCredentials(), codes.Unavailable},
	}
	for _, tc := range cases {
		if got := checkHealth(t, addr, tc.creds); got != tc.want {
			t.Errorf("%s: health check code %s, want %s", tc.name, got, tc.want)
		}
	}
}
