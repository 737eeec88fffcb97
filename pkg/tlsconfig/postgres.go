package tlsconfig

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// CheckPostgresURL parses databaseURL as pgx does, including the PG*
// environment variables, and returns an error naming variable when it does
// not parse. When production is set it also returns an error when a host
// that pgx may connect to is neither loopback nor a Unix socket and the
// connection would not verify the server's certificate, which needs
// sslmode=verify-full or verify-ca (or require with sslrootcert, which pgx
// treats as verify-ca). An empty databaseURL is not checked.
//
// The error never contains the URL, because the URL may contain a password.
func CheckPostgresURL(variable, databaseURL string, production bool) error {
	if databaseURL == "" {
		return nil
	}
	cfg, err := pgconn.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("%s is not a valid PostgreSQL URL (%s)", variable, describeParseError(err))
	}
	if !production {
		return nil
	}
	targets := []postgresTarget{{cfg.Host, cfg.Port, cfg.TLSConfig}}
	for _, fallback := range cfg.Fallbacks {
		targets = append(targets, postgresTarget{fallback.Host, fallback.Port, fallback.TLSConfig})
	}
	for _, target := range targets {
		if target.local() || verifiesServer(target.tls) {
			continue
		}
		return fmt.Errorf("%s reaches PostgreSQL at %s without verifying its certificate: LEDGER_ENV=production "+
			"requires sslmode=verify-full (or verify-ca) with sslrootcert set to the server's CA file for a non-loopback host",
			variable, net.JoinHostPort(target.host, strconv.Itoa(int(target.port))))
	}
	return nil
}

// postgresTarget is one host that pgx tries, with the TLS settings it
// uses there (nil for plaintext).
type postgresTarget struct {
	host string
	port uint16
	tls  *tls.Config
}

func (t postgresTarget) local() bool {
	return strings.HasPrefix(t.host, "/") || IsLoopbackHost(t.host)
}

// verifiesServer reports whether pgx verifies the server's certificate
// with cfg. pgx v5 sets InsecureSkipVerify for sslmode=allow, prefer and
// require, and for verify-ca too, but then verifies the chain itself in
// VerifyPeerCertificate.
//
// NOTE: this reads how pgx v5.13 builds its tls.Config. The tests of this
// package parse every sslmode, so a pgx upgrade that changes it fails them.
func verifiesServer(cfg *tls.Config) bool {
	return cfg != nil && (!cfg.InsecureSkipVerify || cfg.VerifyPeerCertificate != nil)
}

// describeParseError returns the cause of a pgconn parse error without the
// connection string, because pgconn masks the password in its message on a
// best-effort basis only. A file error, such as a missing sslrootcert file,
// is shown since it names only the file.
func describeParseError(err error) string {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Error()
	}
	return "details hidden because the connection string may contain a password; " +
		"check its syntax and percent-encode special characters of the user and password"
}
