package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/pgtest"
)

const (
	jwtIssuer   = "advancia-ledger-e2e"
	jwtAudience = "advancia-ledger"

	readyPollInterval = 50 * time.Millisecond
	readyTimeout      = 30 * time.Second

	// stopTimeout is how long a process may take to exit after SIGTERM
	// before it is killed. The children get SHUTDOWN_TIMEOUT=5s, so a
	// graceful shutdown fits well inside it.
	stopTimeout = 10 * time.Second

	// requestTimeout bounds each REST call of a test.
	requestTimeout = 15 * time.Second
)

// stack is one idempotencyd, walletd and gatewayd serving a test.
type stack struct {
	baseURL  string
	settings auth.Settings
	// signer issues the stack's client tokens (ES256).
	signer *auth.Signer
	// databaseURL is the stack's database, shared by every service.
	databaseURL string
	client      *http.Client
	// idempotencyPrefix starts the stack's idempotency keys in Redis.
	idempotencyPrefix string
	// idempotency is the idempotency service process, which a test may stop.
	idempotency *process
	// walletGRPC and idempotencyGRPC are the services' gRPC addresses.
	walletGRPC, idempotencyGRPC string
	// ratelimit is the rate limit service, and policyFile its policy.
	ratelimit  *process
	policyFile string
	// processes are every process of the stack, in start order.
	processes []*process
}

// generousPolicy keeps the rate limiter out of the way of tests that are
// about something else; it still sends every request through it.
const generousPolicy = `domain: gateway
tiers:
  - {name: api, route_class: api, key_by: [client, ip], limit: 100000, window: 1s, on_redis_failure: open}
  - {name: payments, route_class: payments, key_by: [client], limit: 100000, window: 1m, on_redis_failure: closed}
  - {name: auth-failures, route_class: auth_failure, key_by: [ip], limit: 100000, window: 15m, on_redis_failure: closed}
`

// stackOption changes how startStack starts the services.
type stackOption func(*stackConfig)

type stackConfig struct {
	policy string
	// stripeURL, when set, starts paymentd against that Stripe API.
	stripeURL string
	// editEnv, when set, rewrites the environment of every process.
	editEnv func(env []string) []string
	// started are the processes started so far.
	started []*process
}

// withEnv rewrites the environment of every process with edit, after the
// edits of earlier withEnv options.
func withEnv(edit func(env []string) []string) stackOption {
	return func(c *stackConfig) {
		previous := c.editEnv
		c.editEnv = func(env []string) []string {
			if previous != nil {
				env = previous(env)
			}
			return edit(env)
		}
	}
}

// start starts a process of the stack with env after editEnv.
func (c *stackConfig) start(t *testing.T, name, path string, env []string) *process {
	t.Helper()
	if c.editEnv != nil {
		env = c.editEnv(slices.Clone(env))
	}
	p := startProcess(t, name, path, env)
	c.started = append(c.started, p)
	return p
}

// withPayments starts paymentd against the Stripe API at stripeURL.
func withPayments(stripeURL string) stackOption {
	return func(c *stackConfig) { c.stripeURL = stripeURL }
}

// stripeWebhookSecret is the endpoint secret paymentd gets in tests.
const stripeWebhookSecret = "whsec_e2e_secret"

// withPolicy starts ratelimitd with the given policy file content.
func withPolicy(yaml string) stackOption {
	return func(c *stackConfig) { c.policy = yaml }
}

// startStack starts idempotencyd and walletd on a new empty database, then
// gatewayd in front of them, and waits until each reports ready. t.Cleanup
// stops them with SIGTERM and fails t unless each exits with status 0.
func startStack(t *testing.T, options ...stackOption) *stack {
	t.Helper()
	cfg := stackConfig{policy: generousPolicy}
	for _, o := range options {
		o(&cfg)
	}

	databaseURL := emptyDatabases.NewDatabase(t)
	settings := auth.Settings{Secret: randomSecret(t), Issuer: jwtIssuer, Audience: jwtAudience}
	signer, keyFile, jwksFile := stackKeys(t, settings)
	shared := []string{
		"LEDGER_JWT_JWKS_FILE=" + jwksFile,
		"LEDGER_JWT_SECRET=" + string(settings.Secret),
		"LEDGER_JWT_ISSUER=" + settings.Issuer,
		"LEDGER_JWT_AUDIENCE=" + settings.Audience,
		"SHUTDOWN_TIMEOUT=5s",
		"LOG_LEVEL=info",
	}

	idempotencyGRPC, idempotencyAdmin := freeAddr(t), freeAddr(t)
	prefix := "e2e:" + hex.EncodeToString(randomSecret(t)[:8]) + ":idempotency:"
	idempotency := cfg.start(t, "idempotencyd", idempotencydPath, append(shared,
		"IDEMPOTENCY_GRPC_ADDR="+idempotencyGRPC,
		"IDEMPOTENCY_ADMIN_ADDR="+idempotencyAdmin,
		"IDEMPOTENCY_DATABASE_URL="+pgtest.WithUser(databaseURL, "ledger_idempotency"),
		"IDEMPOTENCY_MIGRATION_DATABASE_URL="+databaseURL,
		"IDEMPOTENCY_REDIS_ADDR="+redisAddr(),
		"IDEMPOTENCY_REDIS_PREFIX="+prefix,
	))
	idempotency.waitReady(t, idempotencyAdmin)

	walletGRPC, walletAdmin := freeAddr(t), freeAddr(t)
	wallet := cfg.start(t, "walletd", walletdPath, append(shared,
		"WALLET_GRPC_ADDR="+walletGRPC,
		"WALLET_ADMIN_ADDR="+walletAdmin,
		"WALLET_DATABASE_URL="+pgtest.WithUser(databaseURL, "ledger_wallet"),
		"WALLET_MIGRATION_DATABASE_URL="+databaseURL,
		"WALLET_REDIS_ADDR="+redisAddr(),
		"WALLET_IDEMPOTENCY_ADDR=dns:///"+idempotencyGRPC,
	))
	wallet.waitReady(t, walletAdmin)

	policyFile := filepath.Join(t.TempDir(), "policies.yaml")
	if err := os.WriteFile(policyFile, []byte(cfg.policy), 0o600); err != nil {
		t.Fatal(err)
	}
	ratelimitGRPC, ratelimitAdmin := freeAddr(t), freeAddr(t)
	ratelimit := cfg.start(t, "ratelimitd", ratelimitdPath, append(shared,
		"RATELIMIT_GRPC_ADDR="+ratelimitGRPC,
		"RATELIMIT_ADMIN_ADDR="+ratelimitAdmin,
		"RATELIMIT_POLICY_FILE="+policyFile,
		// The race detector and a dozen processes on two cores make a
		// 50 ms Redis round trip a poor default here.
		"RATELIMIT_TIMEOUT=1s",
		"RATELIMIT_REDIS_ADDR="+redisAddr(),
		"RATELIMIT_REDIS_PREFIX="+strings.Replace(prefix, ":idempotency:", ":ratelimit:", 1),
	))
	ratelimit.waitReady(t, ratelimitAdmin)

	paymentGRPC := "off"
	if cfg.stripeURL != "" {
		var paymentAdmin string
		paymentGRPC, paymentAdmin = freeAddr(t), freeAddr(t)
		payment := cfg.start(t, "paymentd", paymentdPath, append(shared,
			"PAYMENT_GRPC_ADDR="+paymentGRPC,
			"PAYMENT_ADMIN_ADDR="+paymentAdmin,
			"PAYMENT_DATABASE_URL="+pgtest.WithUser(databaseURL, "ledger_payment"),
			"PAYMENT_MIGRATION_DATABASE_URL="+databaseURL,
			"PAYMENT_WALLET_ADDR=dns:///"+walletGRPC,
			"PAYMENT_IDEMPOTENCY_ADDR=dns:///"+idempotencyGRPC,
			"PAYMENT_RELAY_INTERVAL=200ms",
			"STRIPE_API_URL="+cfg.stripeURL,
			"STRIPE_API_KEY=sk_test_e2e",
			"STRIPE_WEBHOOK_SECRET="+stripeWebhookSecret,
		))
		payment.waitReady(t, paymentAdmin)
		paymentGRPC = "dns:///" + paymentGRPC
	}

	gatewayHTTP, gatewayAdmin := freeAddr(t), freeAddr(t)
	gateway := cfg.start(t, "gatewayd", gatewaydPath, append(shared,
		"GATEWAY_PAYMENT_ADDR="+paymentGRPC,
		"LEDGER_JWT_SIGNING_KEY_FILE="+keyFile,
		"GATEWAY_DATABASE_URL="+pgtest.WithUser(databaseURL, "ledger_gateway"),
		"GATEWAY_MIGRATION_DATABASE_URL="+databaseURL,
		"GATEWAY_BCRYPT_COST=4",
		"GATEWAY_HTTP_ADDR="+gatewayHTTP,
		"GATEWAY_ADMIN_ADDR="+gatewayAdmin,
		"GATEWAY_WALLET_ADDR=dns:///"+walletGRPC,
		"GATEWAY_RATELIMIT_ADDR=dns:///"+ratelimitGRPC,
		"GATEWAY_RATELIMIT_TIMEOUT=1s",
	))
	gateway.waitReady(t, gatewayAdmin)

	client := &http.Client{Timeout: requestTimeout}
	t.Cleanup(client.CloseIdleConnections)

	return &stack{baseURL: "http://" + gatewayHTTP, settings: settings, signer: signer, databaseURL: databaseURL, client: client,
		idempotencyPrefix: prefix, idempotency: idempotency,
		walletGRPC: walletGRPC, idempotencyGRPC: idempotencyGRPC,
		ratelimit: ratelimit, policyFile: policyFile, processes: cfg.started}
}

// redisAddr returns LEDGER_TEST_REDIS_ADDR, the variable pkg/redistest
// reads, or 127.0.0.1:6379.
func redisAddr() string {
	if addr := os.Getenv("LEDGER_TEST_REDIS_ADDR"); addr != "" {
		return addr
	}
	return "127.0.0.1:6379"
}

// randomSecret returns a JWT secret of 64 hex characters.
func randomSecret(t *testing.T) []byte {
	t.Helper()

	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatalf("read random JWT secret: %v", err)
	}
	return []byte(hex.EncodeToString(raw))
}

// freeAddr returns a 127.0.0.1 address whose port was free a moment ago.
// NOTE: another process may take the port between Close and the child's
// listen. The child then exits with an error and waitReady fails the test.
//
// An address is never handed out twice in one test process: a port freed
// by a stopped service could otherwise go to another stack, whose clients
// would then reach the wrong stack's server.
func freeAddr(t *testing.T) string {
	t.Helper()

	for range 100 {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("pick a free port: %v", err)
		}
		addr := listener.Addr().String()
		if err := listener.Close(); err != nil {
			t.Fatalf("close listener on %s: %v", addr, err)
		}
		if _, taken := handedOut.LoadOrStore(addr, true); !taken {
			return addr
		}
	}
	t.Fatal("no unused loopback port found in 100 tries")
	return ""
}

// handedOut holds every address freeAddr has returned.
var handedOut sync.Map

// process is a child process whose combined stdout and stderr are kept in
// memory and logged when the test fails.
type process struct {
	name   string
	cmd    *exec.Cmd
	output *lockedBuffer
	// exited is closed once cmd.Wait has returned, after which
	// cmd.ProcessState may be read.
	exited chan struct{}
	// stopped is set by the first stop, so that a test may stop a process
	// before t.Cleanup does.
	stopped atomic.Bool
}

// startProcess runs path with exactly env as its environment, so settings
// of the developer's shell never reach the child.
func startProcess(t *testing.T, name, path string, env []string) *process {
	t.Helper()

	output := &lockedBuffer{}
	cmd := exec.Command(path)
	cmd.Env = env
	cmd.Stdout = output
	cmd.Stderr = output
	cmd.WaitDelay = 5 * time.Second

	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}

	p := &process{name: name, cmd: cmd, output: output, exited: make(chan struct{})}
	go func() {
		// The exit status is read from cmd.ProcessState in stop.
		_ = cmd.Wait()
		close(p.exited)
	}()

	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s (pid %d) output:\n%s", name, cmd.Process.Pid, output.String())
		}
	})
	return p
}

// waitReady polls GET /readyz on adminAddr until it returns 200 "ready".
func (p *process) waitReady(t *testing.T, adminAddr string) {
	t.Helper()

	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()

	deadline := time.Now().Add(readyTimeout)
	ticker := time.NewTicker(readyPollInterval)
	defer ticker.Stop()

	last := "no response yet"
	for {
		status, body, err := getText(client, "http://"+adminAddr+"/readyz")
		switch {
		case err != nil:
			last = err.Error()
		case status == http.StatusOK && body == "ready":
			return
		default:
			last = http.StatusText(status) + ": " + body
		}

		if time.Now().After(deadline) {
			t.Fatalf("%s not ready on %s within %s; last /readyz result: %s", p.name, adminAddr, readyTimeout, last)
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready: %v", p.name, p.cmd.ProcessState)
		case <-ticker.C:
		}
	}
}

// getText returns the status and the trimmed body of a GET request.
func getText(client *http.Client, url string) (int, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", err
	}
	return resp.StatusCode, strings.TrimSpace(string(body)), nil
}

// stop sends SIGTERM, waits up to stopTimeout and kills the process after
// that. It fails t unless the process exits with status 0 on its own.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if p.stopped.Swap(true) {
		return
	}

	select {
	case <-p.exited:
		t.Errorf("%s exited before SIGTERM: %v", p.name, p.cmd.ProcessState)
		return
	default:
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("send SIGTERM to %s (pid %d): %v", p.name, p.cmd.Process.Pid, err)
	}

	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()

	select {
	case <-p.exited:
	case <-timer.C:
		t.Errorf("%s (pid %d) did not exit within %s of SIGTERM; killing it", p.name, p.cmd.Process.Pid, stopTimeout)
		p.kill(t)
		return
	}

	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("%s exited with %v after SIGTERM, want exit status 0", p.name, p.cmd.ProcessState)
	}
}

// kill sends SIGKILL and waits up to stopTimeout for the exit.
func (p *process) kill(t *testing.T) {
	t.Helper()

	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("kill %s (pid %d): %v", p.name, p.cmd.Process.Pid, err)
	}

	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		t.Errorf("%s (pid %d) did not exit within %s of SIGKILL", p.name, p.cmd.Process.Pid, stopTimeout)
	}
}

// lockedBuffer is a bytes.Buffer that is safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stackKeys creates a stack's client token key: a PEM private key file
// for gatewayd and a JWK Set file for the services.
func stackKeys(t *testing.T, settings auth.Settings) (*auth.Signer, string, string) {
	t.Helper()
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := auth.NewSigner(settings, key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := auth.EncodePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := auth.EncodeJWKS(signer.PublicKeys())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, jwksFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jwksFile, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	return signer, keyFile, jwksFile
}
