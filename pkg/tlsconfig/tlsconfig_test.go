package tlsconfig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/tlsconfig"
	"github.com/advancia-pay/ledger/pkg/tlstest"
)

// handshakeTimeout bounds each TLS handshake of these tests.
const handshakeTimeout = 10 * time.Second

func filesOf(ca *tlstest.CA, identity tlstest.Identity) tlsconfig.Files {
	return tlsconfig.Files{CertFile: identity.CertFile, KeyFile: identity.KeyFile, CAFile: ca.CertFile}
}

func TestServerConfig(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	cfg, err := tlsconfig.Server(filesOf(ca, ca.Issue(t, "wallet")))
	if err != nil {
		t.Fatalf("Server: %v", err)
	}
	if cfg.MinVersion != tls.VersionTLS13 {
		t.Errorf("MinVersion = %#x, want TLS 1.3 (%#x)", cfg.MinVersion, tls.VersionTLS13)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("ClientAuth = %v, want RequireAndVerifyClientCert", cfg.ClientAuth)
	}
	if cfg.ClientCAs == nil {
		t.Error("ClientCAs = nil, want the CA file's pool")
	}
	if got := len(cfg.Certificates); got != 1 {
		t.Fatalf("len(Certificates) = %d, want 1", got)
	}
	if got := cfg.Certificates[0].Leaf.Subject.CommonName; got != "wallet" {
		t.Errorf("certificate CN = %q, want wallet", got)
	}
}

func TestServerNeedsEveryFile(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	files := filesOf(ca, ca.Issue(t, "wallet"))
	for name, change := range map[string]func(*tlsconfig.Files){
		"no certificate": func(f *tlsconfig.Files) { f.CertFile = "" },
		"no key":         func(f *tlsconfig.Files) { f.KeyFile = "" },
		"no CA":          func(f *tlsconfig.Files) { f.CAFile = "" },
	} {
		incomplete := files
		change(&incomplete)
		if _, err := tlsconfig.Server(incomplete); err == nil {
			t.Errorf("%s: Server returned no error", name)
		}
	}
}

func TestClientConfig(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	identity := ca.Issue(t, "gateway")

	withCert, err := tlsconfig.Client(filesOf(ca, identity))
	if err != nil {
		t.Fatalf("Client with a certificate: %v", err)
	}
	if withCert.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %#x, want TLS 1.2 (%#x)", withCert.MinVersion, tls.VersionTLS12)
	}
	if withCert.RootCAs == nil {
		t.Error("RootCAs = nil, want the CA file's pool")
	}
	if got := len(withCert.Certificates); got != 1 {
		t.Errorf("len(Certificates) = %d, want 1", got)
	}
	if withCert.InsecureSkipVerify {
		t.Error("InsecureSkipVerify = true, want false")
	}

	systemRoots, err := tlsconfig.Client(tlsconfig.Files{})
	if err != nil {
		t.Fatalf("Client without files: %v", err)
	}
	if systemRoots.RootCAs != nil {
		t.Error("RootCAs is set without a CA file, want nil for the system roots")
	}
	if got := len(systemRoots.Certificates); got != 0 {
		t.Errorf("len(Certificates) = %d without files, want 0", got)
	}

	_, err = tlsconfig.Client(tlsconfig.Files{CertFile: identity.CertFile, CAFile: ca.CertFile})
	if err == nil || !strings.Contains(err.Error(), "both a certificate and a key") {
		t.Errorf("Client with a certificate and no key: error %v, want both files asked for", err)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	identity := ca.Issue(t, "wallet")
	other := ca.Issue(t, "payment")
	missing := filepath.Join(t.TempDir(), "missing.pem")
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		files tlsconfig.Files
		want  string
	}{
		{"missing certificate", tlsconfig.Files{CertFile: missing, KeyFile: identity.KeyFile, CAFile: ca.CertFile}, missing},
		{"missing CA", tlsconfig.Files{CertFile: identity.CertFile, KeyFile: identity.KeyFile, CAFile: missing}, missing},
		{"CA without PEM", tlsconfig.Files{CertFile: identity.CertFile, KeyFile: identity.KeyFile, CAFile: notPEM}, notPEM + " contains no PEM certificate"},
		{"key of another certificate", tlsconfig.Files{CertFile: identity.CertFile, KeyFile: other.KeyFile, CAFile: ca.CertFile}, "private key does not match public key"},
	}
	for _, tc := range cases {
		_, err := tlsconfig.Server(tc.files)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestExtendedKeyUsageChecked(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	clientOnly := ca.Issue(t, "gateway", x509.ExtKeyUsageClientAuth)
	serverOnly := ca.Issue(t, "redis", x509.ExtKeyUsageServerAuth)

	_, err := tlsconfig.Server(filesOf(ca, clientOnly))
	if err == nil || !strings.Contains(err.Error(), "lacks the extended key usage serverAuth") {
		t.Errorf("Server with a clientAuth-only certificate: error %v, want serverAuth named", err)
	}
	_, err = tlsconfig.Client(filesOf(ca, serverOnly))
	if err == nil || !strings.Contains(err.Error(), "lacks the extended key usage clientAuth") {
		t.Errorf("Client with a serverAuth-only certificate: error %v, want clientAuth named", err)
	}
	if _, err := tlsconfig.Client(filesOf(ca, clientOnly)); err != nil {
		t.Errorf("Client with a clientAuth certificate: %v", err)
	}
}

func TestExpiredCertificateRejected(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	certFile, keyFile := writeExpiredCertificate(t)

	_, err := tlsconfig.Server(tlsconfig.Files{CertFile: certFile, KeyFile: keyFile, CAFile: ca.CertFile})
	if err == nil || !strings.Contains(err.Error(), certFile+" is valid from") {
		t.Errorf("Server with an expired certificate: error %v, want the validity named", err)
	}
}

// writeExpiredCertificate writes a self-signed certificate that expired an
// hour ago, and its key.
func writeExpiredCertificate(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "expired"},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "expired.pem"), filepath.Join(dir, "expired-key.pem")
	for path, block := range map[string]*pem.Block{
		certFile: {Type: "CERTIFICATE", Bytes: der},
		keyFile:  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

// handshake runs one TLS handshake over 127.0.0.1 and returns the
// client's and the server's error.
func handshake(t *testing.T, serverConfig, clientConfig *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	listener, err := tls.Listen("tcp", "127.0.0.1:0", serverConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()

	serverDone := make(chan error, 1)
	go func() {
		conn, err := listener.Accept()
		if err != nil {
			serverDone <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
		err = conn.(*tls.Conn).Handshake()
		if err == nil {
			_, err = conn.Write([]byte{1})
		}
		serverDone <- err
	}()

	dialer := &net.Dialer{Timeout: handshakeTimeout}
	conn, err := tls.DialWithDialer(dialer, "tcp", listener.Addr().String(), clientConfig)
	if err == nil {
		// With TLS 1.3 the server checks the client certificate after the
		// client's handshake is done, so reading the server's first byte
		// shows its verdict.
		_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	return err, <-serverDone
}

func TestHandshakeRules(t *testing.T) {
	ca := tlstest.NewCA(t, "ledger")
	otherCA := tlstest.NewCA(t, "other")
	serverConfig, err := tlsconfig.Server(filesOf(ca, ca.Issue(t, "wallet")))
	if err != nil {
		t.Fatal(err)
	}
	client := func(files tlsconfig.Files) *tls.Config {
		cfg, err := tlsconfig.Client(files)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ServerName = "127.0.0.1"
		return cfg
	}
	trusted := client(filesOf(ca, ca.Issue(t, "gateway")))
	noCert := client(tlsconfig.Files{CAFile: ca.CertFile})
	intruder := otherCA.Issue(t, "intruder")
	foreignCert := client(tlsconfig.Files{CAFile: ca.CertFile, CertFile: intruder.CertFile, KeyFile: intruder.KeyFile})
	// A Go client sends no certificate that the server's list of
	// acceptable CAs excludes, so this one is forced on the server.
	foreignCert.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &foreignCert.Certificates[0], nil
	}
	distrusting := client(tlsconfig.Files{CAFile: otherCA.CertFile})
	oldVersion := client(filesOf(ca, ca.Issue(t, "legacy")))
	oldVersion.MaxVersion = tls.VersionTLS12

	if clientErr, serverErr := handshake(t, serverConfig, trusted); clientErr != nil || serverErr != nil {
		t.Errorf("certificate from the CA: client error %v, server error %v; want both nil", clientErr, serverErr)
	}
	cases := []struct {
		name       string
		client     *tls.Config
		wantClient string
		wantServer string
	}{
		{"no client certificate", noCert, "certificate required", "client didn't provide a certificate"},
		{"client certificate of another CA", foreignCert, "unknown certificate authority", "certificate signed by unknown authority"},
		{"client that distrusts the server", distrusting, "certificate signed by unknown authority", "bad certificate"},
		{"client limited to TLS 1.2", oldVersion, "protocol version not supported", "client offered only unsupported versions"},
	}
	for _, tc := range cases {
		clientErr, serverErr := handshake(t, serverConfig, tc.client)
		if clientErr == nil || !strings.Contains(clientErr.Error(), tc.wantClient) {
			t.Errorf("%s: client error %v, want %q", tc.name, clientErr, tc.wantClient)
		}
		if serverErr == nil || !strings.Contains(serverErr.Error(), tc.wantServer) {
			t.Errorf("%s: server error %v, want %q", tc.name, serverErr, tc.wantServer)
		}
	}
}
