// Package tlsconfig builds the TLS settings of the ledger's processes from
// PEM files: mutual TLS for gRPC between the services, and TLS for clients
// of other servers such as Redis. It also holds the production rules for
// plaintext: a process may send plaintext only to a loopback address.
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// Files names the PEM files of a TLS identity and of the CAs that a peer's
// certificate must chain to.
type Files struct {
	// CertFile is the certificate, followed by any intermediate CA
	// certificates.
	CertFile string
	// KeyFile is the private key of the certificate.
	KeyFile string
	// CAFile is one or more CA certificates.
	CAFile string
}

// Server returns the config of a server that presents the certificate of
// files and accepts only clients whose certificate chains to files.CAFile.
// TLS 1.3 is the minimum, because both ends of the ledger's gRPC
// connections are its own Go binaries.
func Server(files Files) (*tls.Config, error) {
	if files.CertFile == "" || files.KeyFile == "" || files.CAFile == "" {
		return nil, errors.New("tlsconfig: a server needs a certificate, a key and a CA file")
	}
	cert, err := loadCertificate(files.CertFile, files.KeyFile, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	clientCAs, err := loadPool(files.CAFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientCAs:    clientCAs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}, nil
}

// Client returns the config of a client that verifies the server's
// certificate against files.CAFile, or against the system roots when
// CAFile is empty, and presents the certificate of files when CertFile and
// KeyFile are both set. The server name to verify comes from the dialed
// address. TLS 1.2 is the minimum, so that servers of other projects that
// stop at TLS 1.2 stay reachable. A ledger server requires TLS 1.3.
func Client(files Files) (*tls.Config, error) {
	if (files.CertFile == "") != (files.KeyFile == "") {
		return nil, errors.New("tlsconfig: a client certificate needs both a certificate and a key file")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if files.CAFile != "" {
		roots, err := loadPool(files.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = roots
	}
	if files.CertFile != "" {
		cert, err := loadCertificate(files.CertFile, files.KeyFile, x509.ExtKeyUsageClientAuth)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loadCertificate loads a key pair and checks that its leaf certificate is
// valid now and may be used for usage, so that a wrong certificate fails at
// start and not in every handshake.
func loadCertificate(certFile, keyFile string, usage x509.ExtKeyUsage) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load certificate %s with key %s: %w", certFile, keyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		// GODEBUG=x509keypairleaf=0 leaves Leaf unset.
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("parse certificate %s: %w", certFile, err)
		}
		cert.Leaf = leaf
	}
	now := time.Now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return tls.Certificate{}, fmt.Errorf("certificate %s is valid from %s to %s, not now: issue a new one",
			certFile, leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if !allowsUsage(leaf, usage) {
		return tls.Certificate{}, fmt.Errorf("certificate %s lacks the extended key usage %s: issue it with serverAuth and clientAuth",
			certFile, usageNames[usage])
	}
	return cert, nil
}

var usageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageServerAuth: "serverAuth",
	x509.ExtKeyUsageClientAuth: "clientAuth",
}

// allowsUsage applies the rule of crypto/x509: a certificate without
// extended key usages may be used for any purpose.
func allowsUsage(leaf *x509.Certificate, usage x509.ExtKeyUsage) bool {
	if len(leaf.ExtKeyUsage) == 0 && len(leaf.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(leaf.ExtKeyUsage, usage) || slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny)
}

func loadPool(caFile string) (*x509.CertPool, error) {
	data, err := os.ReadFile(caFile) // #nosec G304 -- the operator sets the CA file path
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA file %s contains no PEM certificate", caFile)
	}
	return pool, nil
}
