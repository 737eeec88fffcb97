package grpcdial_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/advancia-pay/ledger/pkg/grpcdial"
)

// freezer forwards TCP connections to target until freeze, after which
// it stops moving bytes but keeps every connection open, as a paused
// process does.
type freezer struct {
	addr   string
	frozen chan struct{}
}

func startFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	f := &freezer{addr: lis.Addr().String(), frozen: make(chan struct{})}
	go func() {
		for {
			client, err := lis.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			t.Cleanup(func() { client.Close(); server.Close() })
			go f.pipe(client, server)
			go f.pipe(server, client)
		}
	}()
	return f
}

// pipe copies from src to dst until the freezer freezes.
func (f *freezer) pipe(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		select {
		case <-f.frozen:
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) freeze() { close(f.frozen) }

// startServer starts a gRPC server with the services' keepalive policy.
func startServer(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(grpcdial.KeepaliveEnforcement))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestPausedInstanceLeavesRotation freezes one of two instances without
// closing its connections and requires the client's keepalive to move
// every call to the other within the keepalive time and timeout.
func TestPausedInstanceLeavesRotation(t *testing.T) {
	t.Parallel()
	paused := startFreezer(t, startServer(t))
	healthy := startServer(t)

	conn, err := grpc.NewClient("list:///"+paused.addr+","+healthy,
		append(grpcdial.Options(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	calledAddrs(t, client, 10)

	paused.freeze()
	deadline := time.Now().Add(grpcdial.KeepaliveTime + grpcdial.KeepaliveTimeout + 10*time.Second)
	for consecutive := 0; consecutive < 20; {
		if time.Now().After(deadline) {
			t.Fatalf("calls still reach the paused instance %s after the keepalive time and timeout", paused.addr)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err != nil {
			consecutive = 0
			continue
		}
		consecutive++
	}
}
