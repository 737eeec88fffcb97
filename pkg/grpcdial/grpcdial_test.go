package grpcdial_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	"github.com/advancia-pay/ledger/pkg/grpcdial"
)

// instance is one gRPC server on a loopback port with a health service.
type instance struct {
	addr   string
	server *grpc.Server
	health *health.Server
}

func startInstance(t *testing.T) *instance {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{addr: lis.Addr().String(), server: grpc.NewServer(), health: health.NewServer()}
	healthpb.RegisterHealthServer(in.server, in.health)
	go in.server.Serve(lis)
	t.Cleanup(in.server.Stop)
	return in
}

// calledAddrs makes n health checks and returns how many each server
// address served.
func calledAddrs(t *testing.T, client healthpb.HealthClient, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var p peer.Peer
		_, err := client.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p), grpc.WaitForReady(true))
		cancel()
		if err != nil {
			t.Fatalf("health check: %v", err)
		}
		seen[p.Addr.String()]++
	}
	return seen
}

func dial(t *testing.T, target string) healthpb.HealthClient {
	t.Helper()
	conn, err := grpc.NewClient(target, append(grpcdial.Options(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

func TestListSpreadsCallsOverInstances(t *testing.T) {
	a, b := startInstance(t), startInstance(t)
	client := dial(t, "list:///"+a.addr+","+b.addr)

	// Connections come up one by one, so wait until both take calls.
	deadline := time.Now().Add(5 * time.Second)
	for {
		seen := calledAddrs(t, client, 20)
		if seen[a.addr] > 0 && seen[b.addr] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls went to %v, want both %s and %s", seen, a.addr, b.addr)
		}
	}
}

func TestListSkipsStoppedAndUnhealthyInstances(t *testing.T) {
	a, b, c := startInstance(t), startInstance(t), startInstance(t)
	client := dial(t, "list:///"+a.addr+", "+b.addr+","+c.addr)
	calledAddrs(t, client, 10)

	a.server.Stop()
	b.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	// The balancer notices within a few calls; after that only c serves.
	time.Sleep(200 * time.Millisecond)
	seen := calledAddrs(t, client, 30)
	if len(seen) != 1 || seen[c.addr] != 30 {
		t.Errorf("calls after stopping %s and marking %s not serving went to %v, want all 30 to %s", a.addr, b.addr, seen, c.addr)
	}
}

func TestListRejectsMalformedTargets(t *testing.T) {
	for _, target := range []string{"list:///", "list:///127.0.0.1", "list:///,,"} {
		conn, err := grpc.NewClient(target, append(grpcdial.Options(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		if err != nil {
			continue
		}
		// The resolver runs when the channel leaves idle; a call must fail.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		conn.Close()
		if err == nil {
			t.Errorf("%s: a call succeeded, want an error", target)
		}
	}
}
