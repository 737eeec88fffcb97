// Package redisclient builds the go-redis client of a service from its
// configuration: one server, a Redis Cluster, or a Sentinel-managed
// primary, chosen by which settings are present.
package redisclient

import (
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/advancia-pay/ledger/pkg/tlsconfig"
)

// Config is a service's Redis settings; services embed it with their own
// prefix, such as `envPrefix:"WALLET_REDIS_"`.
type Config struct {
	// Addr is one server, used when Addrs is empty.
	Addr string `env:"ADDR" envDefault:"127.0.0.1:6379"`
	// Addrs lists Cluster nodes, or Sentinels when MasterName is set
	// (comma-separated).
	Addrs []string `env:"ADDRS"`
	// MasterName selects Sentinel mode: the primary's name.
	MasterName string `env:"MASTER_NAME"`
	Password   string `env:"PASSWORD" secret:"true"`
	// Timeout bounds dialing, reads and writes of each command.
	Timeout time.Duration `env:"TIMEOUT" envDefault:"250ms"`
	// TLS turns TLS on for every connection, to Sentinels, Cluster nodes
	// and servers alike. The server's certificate must name the host of
	// each address.
	TLS bool `env:"TLS"`
	// TLSCAFile is the PEM bundle of CAs that the server's certificate
	// must chain to. Empty means the system roots.
	TLSCAFile string `env:"TLS_CA_FILE"`
	// TLSCertFile and TLSKeyFile are the PEM client certificate and key,
	// for a server that requires client certificates (tls-auth-clients).
	TLSCertFile string `env:"TLS_CERT_FILE"`
	TLSKeyFile  string `env:"TLS_KEY_FILE"`
}

// Validate returns errors.Join of every invalid TLS setting, each named
// with prefix, such as "WALLET_REDIS_". When production is set it also
// rejects a non-loopback address without TLS, since production sends
// plaintext only to this host. In Sentinel mode only the Sentinel
// addresses are checked, because the primary's address is learned at run
// time.
func (c Config) Validate(prefix string, production bool) error {
	var problems []error
	if !c.TLS && (c.TLSCAFile != "" || c.TLSCertFile != "" || c.TLSKeyFile != "") {
		problems = append(problems, fmt.Errorf("%sTLS_* files are set but %sTLS is false: set %sTLS=true to use them", prefix, prefix, prefix))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		problems = append(problems, fmt.Errorf("%sTLS_CERT_FILE and %sTLS_KEY_FILE must be set together", prefix, prefix))
	}
	if production && !c.TLS {
		variable := prefix + "ADDR"
		if len(c.Addrs) > 0 {
			variable = prefix + "ADDRS"
		}
		for _, addr := range c.addrs() {
			if !tlsconfig.IsLoopback(addr) {
				problems = append(problems, fmt.Errorf("%s contains %q, which is not a loopback address, and %sTLS is false: "+
					"LEDGER_ENV=production allows Redis plaintext only on loopback, so set %sTLS=true and %sTLS_CA_FILE",
					variable, addr, prefix, prefix, prefix))
			}
		}
	}
	return errors.Join(problems...)
}

// addrs returns Addrs, or Addr alone when Addrs is empty.
func (c Config) addrs() []string {
	if len(c.Addrs) == 0 {
		return []string{c.Addr}
	}
	return c.Addrs
}

// New returns the client: a Sentinel failover client when MasterName is
// set, a Cluster client when Addrs has more than one address, and a plain
// client otherwise (go-redis' universal client decides the same way).
// Context deadlines are honoured, so a hung server costs at most the
// caller's deadline. It returns an error only when a TLS file fails to
// load.
func New(c Config) (redis.UniversalClient, error) {
	opts := &redis.UniversalOptions{
		Addrs:                 c.addrs(),
		MasterName:            c.MasterName,
		Password:              c.Password,
		DialTimeout:           c.Timeout,
		ReadTimeout:           c.Timeout,
		WriteTimeout:          c.Timeout,
		ContextTimeoutEnabled: true,
	}
	if c.TLS {
		tlsConfig, err := tlsconfig.Client(tlsconfig.Files{CertFile: c.TLSCertFile, KeyFile: c.TLSKeyFile, CAFile: c.TLSCAFile})
		if err != nil {
			return nil, fmt.Errorf("redis TLS: %w", err)
		}
		opts.TLSConfig = tlsConfig
	}
	return redis.NewUniversalClient(opts), nil
}
