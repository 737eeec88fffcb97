package tlsconfig

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Endpoint is a gRPC address of a process and the variable that sets it.
type Endpoint struct {
	Variable string
	// Address is a listen address (host:port) or a gRPC dial target such
	// as dns:///wallet:9091. The service value "off" and the empty string
	// mean no connection and are skipped.
	Address string
}

// CheckPlaintext returns, when production is set and Mode is off, an error
// for each endpoint that is not loopback, because with LEDGER_ENV=production
// gRPC plaintext may only stay on this host.
func (c Config) CheckPlaintext(production bool, endpoints ...Endpoint) error {
	if !production || c.Enabled() {
		return nil
	}
	var problems []error
	for _, endpoint := range endpoints {
		if endpoint.Address == "" || endpoint.Address == "off" || IsLoopback(endpoint.Address) {
			continue
		}
		problems = append(problems, fmt.Errorf("%s is %q, which is not a loopback address, and LEDGER_TLS_MODE is off: "+
			"LEDGER_ENV=production allows gRPC plaintext only on loopback, so set LEDGER_TLS_MODE=on "+
			"with LEDGER_TLS_CERT_FILE, LEDGER_TLS_KEY_FILE and LEDGER_TLS_CA_FILE", endpoint.Variable, endpoint.Address))
	}
	return errors.Join(problems...)
}

// IsLoopback reports whether address reaches only this host. address is a
// host:port, a host, or a gRPC target with the dns or passthrough scheme,
// whose host must be localhost or a loopback IP address, or with the list
// scheme (see pkg/grpcdial), whose every address must be. Unix socket
// targets (unix: and unix-abstract:) count as loopback. Other host names
// are not resolved and count as non-loopback, and so does an empty host
// such as ":9091", which listens on every interface.
func IsLoopback(address string) bool {
	if list, ok := strings.CutPrefix(address, "list:///"); ok {
		for _, a := range strings.Split(list, ",") {
			if a = strings.TrimSpace(a); a != "" && !IsLoopback(a) {
				return false
			}
		}
		return true
	}
	endpoint, local := targetEndpoint(address)
	if local {
		return true
	}
	host := endpoint
	if h, _, err := net.SplitHostPort(endpoint); err == nil {
		host = h
	}
	return IsLoopbackHost(strings.Trim(host, "[]"))
}

// IsLoopbackHost reports whether host, without a port, is localhost or a
// loopback IP address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// targetEndpoint returns the host:port part of a gRPC target, or local
// true for a Unix socket. Like grpc.NewClient, it reads a target without a
// known scheme, such as "wallet:9091", as a host:port.
func targetEndpoint(target string) (endpoint string, local bool) {
	parsed, err := url.Parse(target)
	if err != nil || parsed.Scheme == "" {
		return target, false
	}
	switch parsed.Scheme {
	case "unix", "unix-abstract":
		return "", true
	case "dns", "passthrough":
		if parsed.Opaque != "" {
			return parsed.Opaque, false
		}
		return strings.TrimPrefix(parsed.Path, "/"), false
	default:
		return target, false
	}
}
