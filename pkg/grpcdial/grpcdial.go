// Package grpcdial holds what every client of an internal service dials
// with: the "list" target scheme for a fixed set of instances, and the
// service config that spreads calls over the instances and skips those
// whose gRPC health check fails.
//
// A target is either "dns:///name:port", re-resolved by gRPC when
// connections fail, or "list:///host1:port,host2:port" for instances
// without a DNS name that lists them all, such as several processes on one
// machine.
package grpcdial

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	_ "google.golang.org/grpc/health" // registers client-side health checking
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/resolver"
)

// ServiceConfig balances calls round-robin over every ready instance and
// takes an instance out of rotation while its health service reports
// NOT_SERVING or its health watch fails.
const ServiceConfig = `{
	"loadBalancingConfig": [{"round_robin": {}}],
	"healthCheckConfig": {"serviceName": ""}
}`

// Scheme is the target scheme of a fixed list of addresses.
const Scheme = "list"

func init() {
	resolver.Register(listBuilder{})
}

// Keepalive settings. A client pings a connection that has been idle for
// KeepaliveTime, and closes it when the ping is not acknowledged within
// KeepaliveTimeout. That takes an instance that stopped responding without
// closing its connections (paused, or cut off by the network) out of
// rotation, which the health watch alone would not notice. Servers must
// accept pings this often (see KeepaliveEnforcement); gRPC raises a client
// Time under 10 s to 10 s.
const (
	KeepaliveTime    = 10 * time.Second
	KeepaliveTimeout = 5 * time.Second
)

// KeepaliveEnforcement is the server policy that accepts the clients'
// pings: a server with gRPC's default policy (one ping per 5 minutes)
// would close such a client's connection as abusive.
var KeepaliveEnforcement = keepalive.EnforcementPolicy{MinTime: KeepaliveTime / 2, PermitWithoutStream: true}

// Keepalive returns the dial option with the keepalive settings.
func Keepalive() grpc.DialOption {
	return grpc.WithKeepaliveParams(keepalive.ClientParameters{
		Time: KeepaliveTime, Timeout: KeepaliveTimeout, PermitWithoutStream: true,
	})
}

// Options returns the dial options that apply ServiceConfig and the
// keepalive settings.
func Options() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultServiceConfig(ServiceConfig), Keepalive()}
}

// listBuilder resolves "list:///a:1,b:2" to the addresses it names, once.
type listBuilder struct{}

func (listBuilder) Scheme() string { return Scheme }

func (listBuilder) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	addrs, err := parseList(target.Endpoint())
	if err != nil {
		return nil, err
	}
	state := resolver.State{}
	for _, a := range addrs {
		state.Addresses = append(state.Addresses, resolver.Address{Addr: a})
	}
	if err := cc.UpdateState(state); err != nil {
		return nil, fmt.Errorf("grpcdial: apply the address list: %w", err)
	}
	return listResolver{}, nil
}

// parseList splits a comma-separated list of host:port addresses.
func parseList(endpoint string) ([]string, error) {
	var addrs []string
	for _, a := range strings.Split(endpoint, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !strings.Contains(a, ":") {
			return nil, fmt.Errorf("grpcdial: address %q in %s:///%s has no port", a, Scheme, endpoint)
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("grpcdial: %s:/// target names no address", Scheme)
	}
	return addrs, nil
}

// listResolver has nothing to re-resolve: the list is fixed, and the
// health checks decide which addresses take calls.
type listResolver struct{}

func (listResolver) ResolveNow(resolver.ResolveNowOptions) {}
func (listResolver) Close()                                {}
