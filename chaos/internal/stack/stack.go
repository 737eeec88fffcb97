package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/advancia-pay/ledger/chaos/internal/cluster"
	"github.com/advancia-pay/ledger/chaos/internal/proc"
	"github.com/advancia-pay/ledger/pkg/auth"
)

// Names of the stack's processes.
const (
	Idempotency = "idempotencyd"
	Wallet1     = "walletd-1"
	Wallet2     = "walletd-2"
	RateLimit   = "ratelimitd"
	StripeFake  = "stripefake"
	Payment     = "paymentd"
	Gateway     = "gatewayd"
)

// Database is the name of the stack's database in the private cluster.
const Database = "ledger"

// LockTTL is walletd's WALLET_LOCK_TTL in the suite, short so that a
// paused lock holder loses its lock within the scenario.
const LockTTL = time.Second

// stopTimeout is how long a process may take to exit after SIGTERM.
const stopTimeout = 10 * time.Second

// generousPolicy keeps the rate limiter out of the way of the workload
// while every request still goes through it.
const generousPolicy = `domain: gateway
tiers:
  - {name: api, route_class: api, key_by: [client, ip], limit: 100000, window: 1s, on_redis_failure: open}
  - {name: payments, route_class: payments, key_by: [client], limit: 100000, window: 1m, on_redis_failure: closed}
  - {name: auth-failures, route_class: auth_failure, key_by: [ip], limit: 100000, window: 15m, on_redis_failure: closed}
`

// Options configure Start.
type Options struct {
	// Dir is an empty folder for the cluster, binaries, keys and logs.
	Dir   string
	Build BuildOptions
}

// Stack is a running ledger with its private PostgreSQL and Redis.
type Stack struct {
	Postgres *cluster.Postgres
	Redis    *cluster.Redis
	// Signer issues the ES256 client tokens the stack accepts.
	Signer *auth.Signer
	// GatewayURL and StripeURL are the base URLs of the REST API and the
	// fake Stripe.
	GatewayURL, StripeURL string
	// LedgerctlPath is the admin tool, for `ledgerctl verify`.
	LedgerctlPath string
	LogDir        string

	services []*Service
}

// Service is one process of the stack and the URL that reports whether it
// is ready.
type Service struct {
	*proc.Process
	ReadyURL string
}

// Start builds the binaries, starts the private cluster and Redis, and
// starts every process in dependency order, each after the previous one
// is ready. On error it stops what it started.
func Start(ctx context.Context, opts Options) (s *Stack, err error) {
	binDir, logDir := filepath.Join(opts.Dir, "bin"), filepath.Join(opts.Dir, "logs")
	for _, d := range []string{binDir, logDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := Build(ctx, binDir, opts.Build); err != nil {
		return nil, err
	}

	s = &Stack{LogDir: logDir, LedgerctlPath: filepath.Join(binDir, "ledgerctl")}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close(context.WithoutCancel(ctx)))
		}
	}()
	if s.Postgres, err = cluster.StartPostgres(ctx, filepath.Join(opts.Dir, "postgres"), Database); err != nil {
		return s, err
	}
	if s.Redis, err = cluster.StartRedis(ctx, logDir); err != nil {
		return s, err
	}
	if err := s.startServices(ctx, opts, binDir); err != nil {
		return s, err
	}
	return s, nil
}

// startServices starts every process of the ledger.
func (s *Stack) startServices(ctx context.Context, opts Options, binDir string) error {
	shared, err := s.sharedEnv(opts.Dir)
	if err != nil {
		return err
	}
	addrs, err := newAddrs()
	if err != nil {
		return err
	}
	policyFile := filepath.Join(opts.Dir, "policies.yaml")
	if err := os.WriteFile(policyFile, []byte(generousPolicy), 0o600); err != nil {
		return fmt.Errorf("write rate limit policy: %w", err)
	}

	// The gateway and paymentd spread calls over both walletd instances
	// and skip one whose health check fails.
	walletTarget := "list:///" + addrs.wallet1 + "," + addrs.wallet2
	s.StripeURL = "http://" + addrs.stripe
	s.GatewayURL = "http://" + addrs.gatewayHTTP

	for _, spec := range s.specs(shared, addrs, walletTarget, policyFile) {
		spec.Path = filepath.Join(binDir, spec.binary)
		spec.LogPath = filepath.Join(s.LogDir, spec.Name+".log")
		if err := s.startService(ctx, spec); err != nil {
			return err
		}
	}
	return nil
}

// startService starts one process and waits until it is ready.
func (s *Stack) startService(ctx context.Context, spec serviceSpec) error {
	process, err := proc.Start(spec.Spec)
	if err != nil {
		return err
	}
	service := &Service{Process: process, ReadyURL: spec.readyURL}
	s.services = append(s.services, service)
	if _, err := s.WaitReady(ctx, []*Service{service}, readyTimeout); err != nil {
		return fmt.Errorf("%w (log: %s)", err, spec.LogPath)
	}
	return nil
}

// sharedEnv creates the token keys and returns the settings every process
// shares.
func (s *Stack) sharedEnv(dir string) ([]string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("read random JWT secret: %w", err)
	}
	settings := auth.Settings{Secret: []byte(hex.EncodeToString(raw)), Issuer: "advancia-ledger-chaos", Audience: "advancia-ledger"}

	key, err := auth.GenerateKey()
	if err != nil {
		return nil, err
	}
	if s.Signer, err = auth.NewSigner(settings, key); err != nil {
		return nil, err
	}

	keyPEM, err := auth.EncodePrivateKey(key)
	if err != nil {
		return nil, err
	}
	jwks, err := auth.EncodeJWKS(s.Signer.PublicKeys())
	if err != nil {
		return nil, err
	}

	keyFile, jwksFile := filepath.Join(dir, "jwt-signing-key.pem"), filepath.Join(dir, "jwks.json")
	for path, body := range map[string][]byte{keyFile: keyPEM, jwksFile: jwks} {
		if err := os.WriteFile(path, body, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	}

	return []string{
		"LEDGER_JWT_JWKS_FILE=" + jwksFile,
		"LEDGER_JWT_SIGNING_KEY_FILE=" + keyFile,
		"LEDGER_JWT_SECRET=" + string(settings.Secret),
		"LEDGER_JWT_ISSUER=" + settings.Issuer,
		"LEDGER_JWT_AUDIENCE=" + settings.Audience,
		"SHUTDOWN_TIMEOUT=5s",
		"LOG_LEVEL=info",
	}, nil
}

// Service returns the process named name.
func (s *Stack) Service(name string) *Service {
	for _, svc := range s.services {
		if svc.Name() == name {
			return svc
		}
	}
	panic("stack: no service named " + name)
}

// OwnerURL returns the database URL of the cluster's superuser, which owns
// every schema.
func (s *Stack) OwnerURL() string { return s.Postgres.URL(cluster.Owner, Database) }

// Close stops every process in reverse start order, then Redis and the
// cluster. It returns every error it met.
func (s *Stack) Close(ctx context.Context) error {
	var errs []error
	for i := len(s.services) - 1; i >= 0; i-- {
		if err := s.services[i].Stop(stopTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	if s.Redis != nil {
		errs = append(errs, s.Redis.Close())
	}
	if s.Postgres != nil {
		errs = append(errs, s.Postgres.Stop(ctx))
	}
	return errors.Join(errs...)
}

// ExitedServices names the processes that are not running, with how they
// ended.
func (s *Stack) ExitedServices() []string {
	var out []string
	for _, svc := range s.services {
		if !svc.Running() {
			out = append(out, svc.Name()+": "+svc.ExitState())
		}
	}
	return out
}

// Summary lists every process with its pid, for logs.
func (s *Stack) Summary() string {
	var parts []string
	for _, svc := range s.services {
		parts = append(parts, fmt.Sprintf("%s (pid %d)", svc.Name(), svc.Pid()))
	}
	return strings.Join(parts, ", ")
}
