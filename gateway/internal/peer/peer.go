// Package peer identifies the client of an HTTP request for rate limits.
package peer

import (
	"net"
	"net/http"
)

// IP returns the address of the request's peer.
//
// NOTE: behind a load balancer this is the balancer's address. Trusting
// X-Forwarded-For needs a configured list of proxies, which the gateway
// does not have yet.
func IP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
