package deploy_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/redisclient"
	"github.com/advancia-pay/ledger/pkg/tlsconfig"
	"github.com/advancia-pay/ledger/pkg/tlstest"
)

// The Secrets and pod paths of TLS, as deploy/k8s/README.md documents
// them.
const (
	datastoreCASecret = "ledger-datastore-ca"
	// datastoreCAPath is the sslrootcert of every database URL and the
	// *_REDIS_TLS_CA_FILE of every Redis client.
	datastoreCAPath = "/etc/ledger/datastore-ca/ca.crt"
)

// tlsFileKeys maps each LEDGER_TLS_*_FILE variable to the key of the
// process's ledger-tls-<service> Secret that it must read.
var tlsFileKeys = map[string]string{
	"LEDGER_TLS_CERT_FILE": "tls.crt",
	"LEDGER_TLS_KEY_FILE":  "tls.key",
	"LEDGER_TLS_CA_FILE":   "ca.crt",
}

// tlsSecret returns the name of the TLS Secret of a workload.
func tlsSecret(workload string) string {
	return "ledger-tls-" + workload
}

// processVariablePrefixes are the prefixes of the variables that the
// transport checks read. They are removed from the test's environment
// before a pod's environment is set, so that the developer's shell cannot
// change a result.
var processVariablePrefixes = []string{"LEDGER_", "PG", "WALLET_", "PAYMENT_", "IDEMPOTENCY_", "RATELIMIT_", "GATEWAY_"}

// processTransport is the part of a process's configuration that the
// production start checks read, with the env tags of the services' own
// Config types. config.Load fills it as it fills those types.
type processTransport struct {
	Environment      config.Environment `env:"LEDGER_ENV" envDefault:"development"`
	TLS              tlsconfig.Config
	WalletRedis      redisclient.Config `envPrefix:"WALLET_REDIS_"`
	IdempotencyRedis redisclient.Config `envPrefix:"IDEMPOTENCY_REDIS_"`
	RateLimitRedis   redisclient.Config `envPrefix:"RATELIMIT_REDIS_"`
}

// redis returns the Redis block that the variables with prefix set.
func (p processTransport) redis(prefix string) redisclient.Config {
	switch prefix {
	case "WALLET_REDIS_":
		return p.WalletRedis
	case "IDEMPOTENCY_REDIS_":
		return p.IdempotencyRedis
	case "RATELIMIT_REDIS_":
		return p.RateLimitRedis
	}
	panic("no Redis block for prefix " + prefix)
}

// loadTransport sets exactly env as the process environment of the test,
// as a pod would see it, and loads processTransport from it with
// config.Load. It returns the parse problems too.
func loadTransport(t *testing.T, env map[string]string) (processTransport, []error) {
	t.Helper()

	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		if slices.ContainsFunc(processVariablePrefixes, func(prefix string) bool { return strings.HasPrefix(name, prefix) }) {
			t.Setenv(name, "") // restores the variable after the test
			if err := os.Unsetenv(name); err != nil {
				t.Fatalf("unset %s: %v", name, err)
			}
		}
	}
	for name, value := range env {
		t.Setenv(name, value)
	}

	cfg, err := config.Load[processTransport]()
	if err != nil {
		return cfg, []error{err}
	}
	return cfg, nil
}

// checkTransport runs the start checks of a process on the environment of
// its workload. Those are the checks of each service's validateTransport,
// with the gRPC variables of want as endpoints and every *_DATABASE_URL,
// and then the loading of the TLS files that the process does before it
// serves. It returns the loaded settings and one line per problem.
func checkTransport(t *testing.T, want workload, env map[string]string) (processTransport, []string) {
	t.Helper()

	cfg, problems := loadTransport(t, env)
	if len(problems) > 0 {
		return cfg, errorLines(problems...)
	}
	production := cfg.Environment.IsProduction()

	var endpoints []tlsconfig.Endpoint
	for _, variable := range want.grpcEnv {
		endpoints = append(endpoints, tlsconfig.Endpoint{Variable: variable, Address: env[variable]})
	}
	problems = append(problems,
		cfg.Environment.Validate(),
		cfg.TLS.Validate(),
		cfg.TLS.CheckPlaintext(production, endpoints...))
	for _, variable := range slices.Sorted(maps.Keys(env)) {
		if strings.HasSuffix(variable, "_DATABASE_URL") {
			problems = append(problems, tlsconfig.CheckPostgresURL(variable, env[variable], production))
		}
	}
	if want.redisPrefix != "" {
		problems = append(problems, redisProblems(cfg.redis(want.redisPrefix), want.redisPrefix, production))
	}
	if cfg.TLS.Enabled() {
		problems = append(problems, loadGRPCCredentials(cfg.TLS, want))
	}
	return cfg, errorLines(problems...)
}

// redisProblems returns what redisclient.Config.Validate reports and, with
// TLS on, the error of loading the files that redisclient.New loads.
// redisclient.New itself is not called, because its client may dial the
// Sentinels.
func redisProblems(redis redisclient.Config, prefix string, production bool) error {
	if err := redis.Validate(prefix, production); err != nil || !redis.TLS {
		return err
	}
	files := tlsconfig.Files{CertFile: redis.TLSCertFile, KeyFile: redis.TLSKeyFile, CAFile: redis.TLSCAFile}
	if _, err := tlsconfig.Client(files); err != nil {
		return fmt.Errorf("%sTLS_*: %w", prefix, err)
	}
	return nil
}

// loadGRPCCredentials loads the gRPC credentials as the process's run
// does: server credentials for a process that serves gRPC, and client
// credentials for one that calls another service.
func loadGRPCCredentials(tls tlsconfig.Config, want workload) error {
	var problems []error
	if slices.ContainsFunc(want.grpcEnv, isBindAddress) {
		_, err := tls.ServerCredentials(slog.New(slog.NewTextHandler(io.Discard, nil)))
		problems = append(problems, err)
	}
	if slices.ContainsFunc(want.grpcEnv, func(variable string) bool { return !isBindAddress(variable) }) {
		_, err := tls.ClientCredentials()
		problems = append(problems, err)
	}
	return errors.Join(problems...)
}

// errorLines returns the text of each error, with joined errors split
// into one line each.
func errorLines(errs ...error) []string {
	var lines []string
	for _, err := range errs {
		if err == nil {
			continue
		}
		if multi, ok := err.(interface{ Unwrap() []error }); ok {
			lines = append(lines, errorLines(multi.Unwrap()...)...)
			continue
		}
		lines = append(lines, err.Error())
	}
	return lines
}

// secretFile returns the Secret and key that container c reads at path,
// through a read-only mount of a Secret volume.
func secretFile(spec corev1.PodSpec, c corev1.Container, path string) (secret, key string, err error) {
	for _, mount := range c.VolumeMounts {
		relative, ok := strings.CutPrefix(path, strings.TrimSuffix(mount.MountPath, "/")+"/")
		if !ok {
			continue
		}
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == mount.Name })
		if i < 0 || spec.Volumes[i].Secret == nil {
			return "", "", fmt.Errorf("%s is in volume %s, which is not a Secret volume", path, mount.Name)
		}
		if !mount.ReadOnly {
			return "", "", fmt.Errorf("%s is in Secret volume %s, which is mounted writable", path, mount.Name)
		}
		if mount.SubPath != "" {
			return "", "", fmt.Errorf("%s is in a subPath mount of %s, which does not receive Secret updates", path, mount.Name)
		}
		source := spec.Volumes[i].Secret
		if len(source.Items) == 0 {
			return source.SecretName, relative, nil
		}
		j := slices.IndexFunc(source.Items, func(item corev1.KeyToPath) bool { return item.Path == relative })
		if j < 0 {
			return "", "", fmt.Errorf("%s: Secret volume %s has no item at %s", path, mount.Name, relative)
		}
		return source.SecretName, source.Items[j].Key, nil
	}
	return "", "", fmt.Errorf("%s is under no volume mount", path)
}

// checkSecretFile checks that variable names a file that container c
// reads from Secret wantSecret, through a read-only mount, and from key
// wantKey unless wantKey is empty.
func checkSecretFile(t *testing.T, spec corev1.PodSpec, c corev1.Container, env map[string]string, variable, wantSecret, wantKey string) {
	t.Helper()

	path, ok := env[variable]
	if !ok {
		t.Errorf("%s is not set", variable)
		return
	}
	secret, key, err := secretFile(spec, c, path)
	if err != nil {
		t.Errorf("%s: %v", variable, err)
		return
	}
	if secret != wantSecret {
		t.Errorf("%s = %s is in Secret %s, want Secret %s", variable, path, secret, wantSecret)
	}
	if wantKey != "" && key != wantKey {
		t.Errorf("%s = %s reads key %s of Secret %s, want key %s", variable, path, key, secret, wantKey)
	}
}

// forEachDeployment runs check in a subtest for each Deployment of each
// overlay.
func forEachDeployment(t *testing.T, check func(t *testing.T, dir string, objects *manifests, d *appsv1.Deployment)) {
	t.Helper()

	for _, dir := range overlays {
		t.Run(overlayName(dir), func(t *testing.T) {
			objects := renderKustomization(t, dir)
			for _, d := range objects.Deployments {
				t.Run(d.Name, func(t *testing.T) {
					check(t, dir, objects, d)
				})
			}
		})
	}
}

// In every overlay with TLS on, each process reads its certificate, key
// and CA from its own TLS Secret, and each Redis client has TLS on with
// the datastore CA. The dev overlay turns both off.
func TestTLSSettings(t *testing.T) {
	forEachDeployment(t, func(t *testing.T, dir string, objects *manifests, d *appsv1.Deployment) {
		tlsOn := overlaySettingsByDir[dir].tls
		spec := d.Spec.Template.Spec
		c := spec.Containers[0]
		env := objects.containerEnv(t, c)

		wantMode, wantRedisTLS := tlsconfig.ModeOff, "false"
		if tlsOn {
			wantMode, wantRedisTLS = tlsconfig.ModeOn, "true"
		}
		if got := env["LEDGER_TLS_MODE"]; got != wantMode {
			t.Errorf("LEDGER_TLS_MODE = %q, want %q", got, wantMode)
		}
		for variable, key := range tlsFileKeys {
			checkSecretFile(t, spec, c, env, variable, tlsSecret(d.Name), key)
		}

		prefix := workloads[d.Name].redisPrefix
		if prefix == "" {
			return
		}
		if got := env[prefix+"TLS"]; got != wantRedisTLS {
			t.Errorf("%sTLS = %q, want %q", prefix, got, wantRedisTLS)
		}
		if tlsOn {
			checkSecretFile(t, spec, c, env, prefix+"TLS_CA_FILE", datastoreCASecret, "ca.crt")
		}
	})
}

// With LEDGER_ENV=production, plaintext may go to loopback addresses and
// Unix sockets. No value in the manifests may use that exception, and no
// gRPC variable may be left to its default, which is a loopback address.
func TestNoLoopbackInProduction(t *testing.T) {
	for _, dir := range overlays {
		if overlaySettingsByDir[dir].env != string(config.Production) {
			continue
		}
		t.Run(overlayName(dir), func(t *testing.T) {
			objects := renderKustomization(t, dir)
			for _, d := range objects.Deployments {
				env := objects.containerEnv(t, d.Spec.Template.Spec.Containers[0])
				for _, problem := range loopbackProblems(env, workloads[d.Name]) {
					t.Errorf("%s: %s", d.Name, problem)
				}
			}
		})
	}
}

// loopbackProblems returns every loopback address or Unix socket in env,
// every PG* variable (which would change each database URL), and every
// gRPC or Redis address of want that env leaves unset.
func loopbackProblems(env map[string]string, want workload) []string {
	var problems []string
	for _, variable := range slices.Sorted(maps.Keys(env)) {
		if strings.HasPrefix(variable, "PG") {
			problems = append(problems, fmt.Sprintf("%s is set: put PostgreSQL settings in the database URL", variable))
		}
		for part := range strings.SplitSeq(env[variable], ",") {
			if tlsconfig.IsLoopback(strings.TrimSpace(part)) {
				problems = append(problems, fmt.Sprintf("%s = %q names a loopback address or Unix socket", variable, env[variable]))
			}
		}
	}

	required := slices.Clone(want.grpcEnv)
	if want.redisPrefix != "" && env[want.redisPrefix+"ADDRS"] == "" {
		required = append(required, want.redisPrefix+"ADDR")
	}
	for _, variable := range required {
		if env[variable] == "" {
			problems = append(problems, fmt.Sprintf("%s is not set, so the process uses its loopback default", variable))
		}
	}
	return problems
}

func TestLoopbackCheckFindsExceptions(t *testing.T) {
	env := map[string]string{
		"WALLET_GRPC_ADDR":        "0.0.0.0:9091",
		"WALLET_REDIS_ADDRS":      "redis-sentinel-0.redis-sentinel:26379,127.0.0.1:26379",
		"PGSSLMODE":               "disable",
		"WALLET_IDEMPOTENCY_ADDR": "unix:///run/ledger/idempotency.sock",
	}

	got := loopbackProblems(env, workloads["wallet"])

	want := []string{
		"PGSSLMODE is set: put PostgreSQL settings in the database URL",
		`WALLET_IDEMPOTENCY_ADDR = "unix:///run/ledger/idempotency.sock" names a loopback address or Unix socket`,
		`WALLET_REDIS_ADDRS = "redis-sentinel-0.redis-sentinel:26379,127.0.0.1:26379" names a loopback address or Unix socket`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	delete(env, "WALLET_IDEMPOTENCY_ADDR")
	delete(env, "WALLET_REDIS_ADDRS")
	got = loopbackProblems(env, workloads["wallet"])
	want = []string{
		"PGSSLMODE is set: put PostgreSQL settings in the database URL",
		"WALLET_IDEMPOTENCY_ADDR is not set, so the process uses its loopback default",
		"WALLET_REDIS_ADDR is not set, so the process uses its loopback default",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems without the addresses =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// podFixture is what the cluster provides to the pods in these tests: the
// contents of the Secrets, with certificates issued for this test.
type podFixture struct {
	secrets map[string]map[string][]byte
}

// newPodFixture issues a certificate per workload from one ledger CA, and
// a separate CA for PostgreSQL and Redis, as deploy/k8s/README.md lays
// them out.
func newPodFixture(t *testing.T) podFixture {
	t.Helper()

	ledgerCA := tlstest.NewCA(t, "ledger")
	datastoreCA := tlstest.NewCA(t, "datastore")
	secrets := map[string]map[string][]byte{
		datastoreCASecret: {"ca.crt": readFile(t, datastoreCA.CertFile)},
	}
	for name := range workloads {
		identity := ledgerCA.Issue(t, name)
		secrets[tlsSecret(name)] = map[string][]byte{
			"tls.crt": readFile(t, identity.CertFile),
			"tls.key": readFile(t, identity.KeyFile),
			"ca.crt":  readFile(t, ledgerCA.CertFile),
		}
	}
	return podFixture{secrets: secrets}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

// secretValue returns the value a secretKeyRef reads. For ledger-postgres
// that is a database URL of the form deploy/k8s/README.md requires. Any
// other Secret gets a placeholder, because the transport checks read no
// other Secret value.
func (f podFixture) secretValue(ref *corev1.SecretKeySelector) string {
	if ref.Name != "ledger-postgres" {
		return "placeholder-" + ref.Name + "-" + ref.Key
	}
	role := "ledger_" + strings.TrimSuffix(ref.Key, "-url")
	return fmt.Sprintf("postgres://%s:placeholder@postgres.databases.svc:5432/ledger?sslmode=verify-full&sslrootcert=%s",
		role, datastoreCAPath)
}

// podEnvironment returns the environment of container c as its process
// would see it: the ConfigMap and literal values, the Secret values of
// the fixture, and every path under a Secret volume mount rewritten to
// the copy of that volume in a temporary directory.
func (f podFixture) podEnvironment(t *testing.T, objects *manifests, spec corev1.PodSpec, c corev1.Container) map[string]string {
	t.Helper()

	env := objects.containerEnv(t, c)
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			env[e.Name] = f.secretValue(e.ValueFrom.SecretKeyRef)
		}
	}

	mounts := f.writeSecretVolumes(t, spec, c)
	for name, value := range env {
		for mountPath, dir := range mounts {
			value = strings.ReplaceAll(value, mountPath+"/", dir+"/")
		}
		env[name] = value
	}
	return env
}

// writeSecretVolumes writes, for each Secret volume that c mounts and the
// fixture has, the files that Kubernetes would project, and returns the
// directory of each mount path.
func (f podFixture) writeSecretVolumes(t *testing.T, spec corev1.PodSpec, c corev1.Container) map[string]string {
	t.Helper()

	mounts := map[string]string{}
	for _, mount := range c.VolumeMounts {
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == mount.Name })
		if i < 0 || spec.Volumes[i].Secret == nil {
			continue
		}
		source := spec.Volumes[i].Secret
		data, ok := f.secrets[source.SecretName]
		if !ok {
			continue
		}

		dir := t.TempDir()
		items := source.Items
		if len(items) == 0 {
			for _, key := range slices.Sorted(maps.Keys(data)) {
				items = append(items, corev1.KeyToPath{Key: key, Path: key})
			}
		}
		for _, item := range items {
			content, ok := data[item.Key]
			if !ok {
				t.Fatalf("volume %s: Secret %s has no key %s", mount.Name, source.SecretName, item.Key)
			}
			path := filepath.Join(dir, filepath.FromSlash(item.Path))
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatalf("create the directory of %s: %v", path, err)
			}
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatalf("write %s: %v", path, err)
			}
		}
		mounts[strings.TrimSuffix(mount.MountPath, "/")] = dir
	}
	return mounts
}

// Every process of every overlay passes the checks it runs at start, with
// the environment, Secret values and mounted files it would have in a
// pod. In the overlays with LEDGER_ENV=production those are the
// production checks.
func TestWorkloadsPassStartChecks(t *testing.T) {
	fixture := newPodFixture(t)
	forEachDeployment(t, func(t *testing.T, dir string, objects *manifests, d *appsv1.Deployment) {
		settings := overlaySettingsByDir[dir]
		spec := d.Spec.Template.Spec
		env := fixture.podEnvironment(t, objects, spec, spec.Containers[0])

		cfg, problems := checkTransport(t, workloads[d.Name], env)
		for _, problem := range problems {
			t.Error(problem)
		}
		if got := string(cfg.Environment); got != settings.env {
			t.Errorf("environment = %q, want %q", got, settings.env)
		}
		if cfg.TLS.Enabled() != settings.tls {
			t.Errorf("TLS enabled = %t, want %t", cfg.TLS.Enabled(), settings.tls)
		}
	})
}

// The same checks reject the production wallet once its connections are
// plaintext, so TestWorkloadsPassStartChecks cannot pass by checking
// nothing.
func TestStartChecksRejectPlaintext(t *testing.T) {
	fixture := newPodFixture(t)
	objects := renderKustomization(t, "k8s/overlays/production")
	i := slices.IndexFunc(objects.Deployments, func(d *appsv1.Deployment) bool { return d.Name == "wallet" })
	if i < 0 {
		t.Fatal("Deployment wallet is not rendered")
	}
	spec := objects.Deployments[i].Spec.Template.Spec
	env := fixture.podEnvironment(t, objects, spec, spec.Containers[0])

	env["LEDGER_TLS_MODE"] = tlsconfig.ModeOff
	env["WALLET_REDIS_TLS"] = "false"
	delete(env, "WALLET_REDIS_TLS_CA_FILE")
	env["WALLET_DATABASE_URL"] = "postgres://ledger_wallet:placeholder@postgres.databases.svc:5432/ledger?sslmode=require"

	_, got := checkTransport(t, workloads["wallet"], env)

	want := []string{
		`WALLET_GRPC_ADDR is "0.0.0.0:9091", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		`WALLET_IDEMPOTENCY_ADDR is "dns:///idempotency:9093", which is not a loopback address, and LEDGER_TLS_MODE is off`,
		"WALLET_DATABASE_URL reaches PostgreSQL at postgres.databases.svc:5432 without verifying its certificate",
		`WALLET_REDIS_ADDRS contains "redis-sentinel-0.redis-sentinel:26379", which is not a loopback address, and WALLET_REDIS_TLS is false`,
		`WALLET_REDIS_ADDRS contains "redis-sentinel-1.redis-sentinel:26379", which is not a loopback address, and WALLET_REDIS_TLS is false`,
		`WALLET_REDIS_ADDRS contains "redis-sentinel-2.redis-sentinel:26379", which is not a loopback address, and WALLET_REDIS_TLS is false`,
	}
	if len(got) != len(want) {
		t.Fatalf("problems =\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
}

// docker-compose.yml runs plaintext between containers, which only
// LEDGER_ENV=development allows: each process passes its start checks
// there, in development.
func TestComposePassesStartChecks(t *testing.T) {
	project := loadCompose(t, filepath.Join(repoRoot, "docker-compose.yml"))
	for name := range composeBinaries {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{}
			for variable, value := range project.Services[name].Environment {
				if value != nil {
					env[variable] = *value
				}
			}

			cfg, problems := checkTransport(t, workloads[name], env)
			for _, problem := range problems {
				t.Error(problem)
			}
			if cfg.Environment != config.Development {
				t.Errorf("environment = %q, want %q", cfg.Environment, config.Development)
			}
		})
	}
}
