// Package server runs the gRPC and admin HTTP servers of a ledger service
// with one lifecycle: listen, serve until the context is done or a server
// fails, then shut down gracefully within a timeout.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/grpcdial"
	"github.com/advancia-pay/ledger/pkg/telemetry"
)

// readHeaderTimeout bounds how long the HTTP servers wait for request
// headers, so idle clients cannot hold connections open.
const readHeaderTimeout = 10 * time.Second

// Options configures Run.
type Options struct {
	// Name identifies the service in logs.
	Name string

	// GRPCAddr is the host:port of the gRPC server, such as
	// "127.0.0.1:9091". Port 0 picks a free port.
	GRPCAddr string

	// AdminAddr is the host:port of the admin HTTP server that serves
	// /healthz, /readyz and /metrics, such as "127.0.0.1:9191".
	AdminAddr string

	// ShutdownTimeout bounds the graceful stop of the gRPC server and,
	// after it, the shutdown of the admin server. In-flight RPCs still
	// running when it expires are canceled. Zero means 15 seconds.
	ShutdownTimeout time.Duration

	// Logger receives the start, stop, call and internal error logs.
	// Nil means slog.Default().
	Logger *slog.Logger

	// Metrics is served at /metrics, usually from telemetry.SetupMetrics.
	// Nil leaves /metrics unregistered, so it returns 404.
	Metrics http.Handler

	// Ready is called by /readyz with a 2 second timeout. A nil error means
	// ready. Nil Ready means always ready. Wrap an error with NotReady to
	// show the dependency name in the /readyz response.
	Ready func(ctx context.Context) error

	// Register registers the service implementations on the gRPC server.
	Register func(*grpc.Server)

	// Interceptors run after the built-in chain, in order.
	Interceptors []grpc.UnaryServerInterceptor

	// Credentials secure the gRPC server, usually from
	// tlsconfig.Config.ServerCredentials. Nil means plaintext. The admin
	// server always uses plaintext.
	Credentials credentials.TransportCredentials

	// Listening, when set, is called once with both bound addresses before
	// the servers start serving.
	Listening func(grpcAddr, adminAddr net.Addr)
}

const defaultShutdownTimeout = 15 * time.Second

// Run serves gRPC on opts.GRPCAddr and the admin endpoints on opts.AdminAddr
// until ctx is done or a server fails.
//
// The gRPC server uses the otelgrpc stats handler and the unary interceptor
// chain telemetry.UnaryRequestID, telemetry.UnaryLogging,
// apperr.UnaryServerInterceptor, then opts.Interceptors. It also serves the
// standard gRPC health service (SERVING for the server and every registered
// service) and server reflection.
//
// At shutdown Run marks health NOT_SERVING and /readyz 503, stops the gRPC
// server gracefully (forcing a stop when ShutdownTimeout expires), then shuts
// the admin server down. It returns nil after a graceful shutdown caused by
// ctx, and otherwise the listen, serve or shutdown error.
func Run(ctx context.Context, opts Options) error {
	opts = withDefaults(opts)

	grpcListener, err := net.Listen("tcp", opts.GRPCAddr)
	if err != nil {
		return fmt.Errorf("server %s: listen grpc on %s: %w", opts.Name, opts.GRPCAddr, err)
	}

	adminListener, err := net.Listen("tcp", opts.AdminAddr)
	if err != nil {
		_ = grpcListener.Close()
		return fmt.Errorf("server %s: listen admin on %s: %w", opts.Name, opts.AdminAddr, err)
	}

	rt := newRuntime(opts)

	if opts.Listening != nil {
		opts.Listening(grpcListener.Addr(), adminListener.Addr())
	}

	opts.Logger.Info("server started",
		slog.String("server", opts.Name),
		slog.String("grpc_addr", grpcListener.Addr().String()),
		slog.String("admin_addr", adminListener.Addr().String()))

	err = rt.serve(ctx, grpcListener, adminListener)

	opts.Logger.Info("server stopped", slog.String("server", opts.Name), slog.Any("error", err))

	return err
}

func withDefaults(opts Options) Options {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}

	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = defaultShutdownTimeout
	}

	return opts
}

// runtime is the state of one Run call.
type runtime struct {
	opts         Options
	grpcServer   *grpc.Server
	health       *health.Server
	adminServer  *http.Server
	shuttingDown atomic.Bool
}

func newRuntime(opts Options) *runtime {
	rt := &runtime{opts: opts, health: health.NewServer()}

	interceptors := append([]grpc.UnaryServerInterceptor{
		telemetry.UnaryRequestID(),
		telemetry.UnaryLogging(opts.Logger),
		apperr.UnaryServerInterceptor(opts.Logger),
	}, opts.Interceptors...)

	serverOptions := []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(interceptors...),
		grpc.KeepaliveEnforcementPolicy(grpcdial.KeepaliveEnforcement),
	}
	if opts.Credentials != nil {
		serverOptions = append(serverOptions, grpc.Creds(opts.Credentials))
	}
	rt.grpcServer = grpc.NewServer(serverOptions...)

	if opts.Register != nil {
		opts.Register(rt.grpcServer)
	}

	healthpb.RegisterHealthServer(rt.grpcServer, rt.health)
	reflection.Register(rt.grpcServer)

	// The empty name is the overall server status.
	rt.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for name := range rt.grpcServer.GetServiceInfo() {
		rt.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}

	rt.adminServer = &http.Server{
		Handler:           rt.adminHandler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}

	return rt
}

// serve runs both servers until ctx is done or one fails, then shuts down.
func (rt *runtime) serve(ctx context.Context, grpcListener, adminListener net.Listener) error {
	group, groupCtx := errgroup.WithContext(ctx)

	group.Go(func() error {
		err := rt.grpcServer.Serve(grpcListener)
		if err != nil {
			return fmt.Errorf("serve grpc: %w", err)
		}
		return nil
	})

	group.Go(func() error {
		err := rt.adminServer.Serve(adminListener)
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve admin: %w", err)
		}
		return nil
	})

	group.Go(func() error {
		<-groupCtx.Done()
		return rt.shutdown()
	})

	return group.Wait()
}

// shutdown stops both servers within ShutdownTimeout. The admin server stays
// up while gRPC drains, so /healthz keeps returning 200 and /readyz returns 503.
func (rt *runtime) shutdown() error {
	rt.shuttingDown.Store(true)
	rt.health.Shutdown()

	deadline := time.Now().Add(rt.opts.ShutdownTimeout)
	grpcErr := rt.stopGRPC(time.Until(deadline))

	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	adminErr := rt.adminServer.Shutdown(ctx)
	if adminErr != nil {
		// Shutdown gave up on open connections, so close them.
		_ = rt.adminServer.Close()
		adminErr = fmt.Errorf("shut down admin server: %w", adminErr)
	}

	return errors.Join(grpcErr, adminErr)
}

// stopGRPC stops the gRPC server gracefully, or forcibly when timeout
// expires first. A forced stop returns an error wrapping
// context.DeadlineExceeded.
//
// NOTE: GracefulStop also waits for open streaming calls such as health
// Watch, so a client that keeps a Watch open makes every shutdown take the
// full timeout and end in a forced stop.
func (rt *runtime) stopGRPC(timeout time.Duration) error {
	stopped := make(chan struct{})
	go func() {
		rt.grpcServer.GracefulStop()
		close(stopped)
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()

	select {
	case <-stopped:
		return nil
	case <-timer.C:
		rt.grpcServer.Stop()
		<-stopped

		return fmt.Errorf("graceful stop of grpc server did not finish within %s, in-flight calls were canceled: %w",
			rt.opts.ShutdownTimeout, context.DeadlineExceeded)
	}
}
