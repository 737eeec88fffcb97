package tlsconfig

import (
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Values of LEDGER_TLS_MODE.
const (
	ModeOff = "off"
	ModeOn  = "on"
)

// Config is the gRPC TLS block of a process. A process has one identity:
// its gRPC server presents the certificate to clients, and its gRPC
// clients present the same certificate to the services they call.
type Config struct {
	// Mode is "on" for mutual TLS on every gRPC server and client of the
	// process, or "off" for plaintext.
	Mode string `env:"LEDGER_TLS_MODE" envDefault:"off"`
	// CertFile is the PEM certificate of the process. It needs the DNS
	// names or IP addresses that clients dial, and the serverAuth and
	// clientAuth extended key usages (or no extended key usage).
	CertFile string `env:"LEDGER_TLS_CERT_FILE"`
	// KeyFile is the PEM private key of CertFile.
	KeyFile string `env:"LEDGER_TLS_KEY_FILE"`
	// CAFile is the PEM bundle of CAs that the certificates of servers and
	// clients must chain to.
	CAFile string `env:"LEDGER_TLS_CA_FILE"`
}

// Enabled reports whether Mode is on.
func (c Config) Enabled() bool {
	return c.Mode == ModeOn
}

// Files returns the PEM files of the identity.
func (c Config) Files() Files {
	return Files{CertFile: c.CertFile, KeyFile: c.KeyFile, CAFile: c.CAFile}
}

// Validate returns an error for an unknown Mode, and for Mode on with a
// file variable unset, naming every unset variable.
func (c Config) Validate() error {
	if c.Mode != ModeOff && c.Mode != ModeOn {
		return fmt.Errorf("LEDGER_TLS_MODE is %q, it must be off or on", c.Mode)
	}
	if !c.Enabled() {
		return nil
	}
	var missing []string
	for _, file := range []struct{ variable, path string }{
		{"LEDGER_TLS_CERT_FILE", c.CertFile},
		{"LEDGER_TLS_KEY_FILE", c.KeyFile},
		{"LEDGER_TLS_CA_FILE", c.CAFile},
	} {
		if file.path == "" {
			missing = append(missing, file.variable)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("LEDGER_TLS_MODE is on but %s not set: set the PEM files of this process's certificate, "+
			"its private key and the CA that peers' certificates chain to", joinVariables(missing))
	}
	return nil
}

// joinVariables returns "A is", "A and B are" or "A, B and C are".
func joinVariables(names []string) string {
	if len(names) == 1 {
		return names[0] + " is"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " are"
}

// ServerCredentials returns the transport credentials of the process's
// gRPC server: mutual TLS when Mode is on, plaintext otherwise. It logs
// which one, with the certificate's subject and expiry.
func (c Config) ServerCredentials(logger *slog.Logger) (credentials.TransportCredentials, error) {
	if !c.Enabled() {
		logger.Info("gRPC server uses plaintext", "tls_mode", c.Mode)
		return insecure.NewCredentials(), nil
	}
	cfg, err := Server(c.Files())
	if err != nil {
		return nil, fmt.Errorf("LEDGER_TLS_*: gRPC server: %w", err)
	}
	leaf := cfg.Certificates[0].Leaf
	logger.Info("gRPC server uses mutual TLS", "subject", leaf.Subject.String(), "not_after", leaf.NotAfter)
	return credentials.NewTLS(cfg), nil
}

// ClientCredentials returns the transport credentials of the process's
// gRPC clients: TLS with the process's client certificate when Mode is on,
// plaintext otherwise.
func (c Config) ClientCredentials() (credentials.TransportCredentials, error) {
	if !c.Enabled() {
		return insecure.NewCredentials(), nil
	}
	cfg, err := Client(c.Files())
	if err != nil {
		return nil, fmt.Errorf("LEDGER_TLS_*: gRPC client: %w", err)
	}
	return credentials.NewTLS(cfg), nil
}
