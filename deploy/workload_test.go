package deploy_test

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// nonRootUID is the user of the distroless :nonroot image.
const nonRootUID = 65532

// workload describes what the manifests of one process must contain.
type workload struct {
	// servingPortName is the container port that clients call.
	servingPortName string
	// headless is true for gRPC services, which clients balance over pod
	// addresses with dns:/// targets.
	headless bool
	// secretEnv lists the variables that must come from a secretKeyRef.
	secretEnv []string
	// secretFiles maps *_FILE variables to the Secret whose read-only
	// volume must contain the file.
	secretFiles map[string]string
	// grpcEnv lists the gRPC listen address and targets that the
	// process's Config reads, which its production checks cover.
	grpcEnv []string
	// redisPrefix is the prefix of the Redis variables, or "" for a
	// process that uses no Redis.
	redisPrefix string
}

var workloads = map[string]workload{
	"wallet": {
		servingPortName: "grpc",
		headless:        true,
		secretEnv:       []string{"WALLET_DATABASE_URL", "WALLET_REDIS_PASSWORD", "LEDGER_JWT_SECRET"},
		secretFiles:     map[string]string{"LEDGER_JWT_JWKS_FILE": "ledger-jwt"},
		grpcEnv:         []string{"WALLET_GRPC_ADDR", "WALLET_IDEMPOTENCY_ADDR"},
		redisPrefix:     "WALLET_REDIS_",
	},
	"payment": {
		servingPortName: "grpc",
		headless:        true,
		secretEnv:       []string{"PAYMENT_DATABASE_URL", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "LEDGER_JWT_SECRET"},
		secretFiles:     map[string]string{"LEDGER_JWT_JWKS_FILE": "ledger-jwt"},
		grpcEnv:         []string{"PAYMENT_GRPC_ADDR", "PAYMENT_WALLET_ADDR", "PAYMENT_IDEMPOTENCY_ADDR"},
	},
	"idempotency": {
		servingPortName: "grpc",
		headless:        true,
		secretEnv:       []string{"IDEMPOTENCY_DATABASE_URL", "IDEMPOTENCY_REDIS_PASSWORD", "LEDGER_JWT_SECRET"},
		secretFiles:     map[string]string{"LEDGER_JWT_JWKS_FILE": "ledger-jwt"},
		grpcEnv:         []string{"IDEMPOTENCY_GRPC_ADDR"},
		redisPrefix:     "IDEMPOTENCY_REDIS_",
	},
	"ratelimit": {
		servingPortName: "grpc",
		headless:        true,
		secretEnv:       []string{"RATELIMIT_REDIS_PASSWORD", "LEDGER_JWT_SECRET"},
		secretFiles:     map[string]string{"LEDGER_JWT_JWKS_FILE": "ledger-jwt"},
		grpcEnv:         []string{"RATELIMIT_GRPC_ADDR"},
		redisPrefix:     "RATELIMIT_REDIS_",
	},
	"gateway": {
		servingPortName: "http",
		headless:        false,
		secretEnv:       []string{"GATEWAY_DATABASE_URL", "LEDGER_JWT_SECRET"},
		secretFiles: map[string]string{
			"LEDGER_JWT_JWKS_FILE":        "ledger-jwt",
			"LEDGER_JWT_SIGNING_KEY_FILE": "ledger-jwt-signing",
		},
		grpcEnv: []string{"GATEWAY_WALLET_ADDR", "GATEWAY_PAYMENT_ADDR", "GATEWAY_RATELIMIT_ADDR"},
	},
}

// secretName matches variable names whose values are credentials. Paths
// to secret files (*_FILE) are not credentials themselves.
var secretName = regexp.MustCompile(`(PASSWORD|SECRET|API_KEY|TOKEN|DATABASE_URL|PRIVATE)`)

func isSecretName(name string) bool {
	return secretName.MatchString(name) && !strings.HasSuffix(name, "_FILE")
}

// checkPodSecurity returns every way the pod spec falls short of the
// project's baseline: non-root user 65532, RuntimeDefault seccomp, and per
// container a read-only root filesystem, no privilege escalation and no
// capabilities.
func checkPodSecurity(spec corev1.PodSpec) []string {
	var problems []string
	pod := spec.SecurityContext
	if pod == nil {
		return []string{"pod: securityContext missing"}
	}
	if pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot {
		problems = append(problems, "pod: runAsNonRoot is not true")
	}
	if pod.RunAsUser == nil || *pod.RunAsUser != nonRootUID {
		problems = append(problems, fmt.Sprintf("pod: runAsUser is not %d", nonRootUID))
	}
	if pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		problems = append(problems, "pod: seccompProfile is not RuntimeDefault")
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		problems = append(problems, "pod: shares a host namespace")
	}

	containers := slices.Concat(spec.InitContainers, spec.Containers)
	for _, c := range containers {
		problems = append(problems, checkContainerSecurity(c)...)
	}
	return problems
}

func checkContainerSecurity(c corev1.Container) []string {
	sc := c.SecurityContext
	if sc == nil {
		return []string{"container " + c.Name + ": securityContext missing"}
	}

	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, "container "+c.Name+": "+fmt.Sprintf(format, args...))
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		fail("runAsNonRoot is not true")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != nonRootUID {
		fail("runAsUser is not %d", nonRootUID)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		fail("readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		fail("allowPrivilegeEscalation is not false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		fail("privileged")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		fail("capabilities.drop is not [ALL]")
	}
	if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
		fail("capabilities.add is %v", sc.Capabilities.Add)
	}
	return problems
}

// checkInlineSecrets returns each env entry whose name marks a credential
// but whose value is written in the manifest instead of read from a
// Secret.
func checkInlineSecrets(c corev1.Container) []string {
	var problems []string
	for _, e := range c.Env {
		if !isSecretName(e.Name) {
			continue
		}
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			problems = append(problems, fmt.Sprintf("container %s: %s is not read from a Secret", c.Name, e.Name))
		}
	}
	return problems
}

// checkResources returns each missing CPU or memory request or limit, and
// each request above its limit.
func checkResources(c corev1.Container) []string {
	var problems []string
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		request, hasRequest := c.Resources.Requests[name]
		limit, hasLimit := c.Resources.Limits[name]
		if !hasRequest || !hasLimit {
			problems = append(problems, fmt.Sprintf("container %s: %s request or limit missing", c.Name, name))
			continue
		}
		if request.Cmp(limit) > 0 {
			problems = append(problems, fmt.Sprintf("container %s: %s request %s is above its limit %s", c.Name, name, request.String(), limit.String()))
		}
	}
	return problems
}

func TestWorkloads(t *testing.T) {
	for _, dir := range overlays {
		t.Run(overlayName(dir), func(t *testing.T) {
			objects := renderKustomization(t, dir)

			var names []string
			for _, d := range objects.Deployments {
				names = append(names, d.Name)
			}
			slices.Sort(names)
			want := []string{"gateway", "idempotency", "payment", "ratelimit", "wallet"}
			if !slices.Equal(names, want) {
				t.Fatalf("Deployments = %v, want %v", names, want)
			}

			for _, d := range objects.Deployments {
				t.Run(d.Name, func(t *testing.T) {
					checkWorkload(t, objects, d, workloads[d.Name])
				})
			}
		})
	}
}

func checkWorkload(t *testing.T, objects *manifests, d *appsv1.Deployment, want workload) {
	spec := d.Spec.Template.Spec
	for _, problem := range checkPodSecurity(spec) {
		t.Error(problem)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("containers = %d, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	for _, problem := range slices.Concat(checkInlineSecrets(c), checkResources(c)) {
		t.Error(problem)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken is not false")
	}

	env := objects.containerEnv(t, c)
	checkProbes(t, c, env)
	checkBindAddresses(t, c, env)
	checkSecretEnv(t, c, want.secretEnv)
	checkSecretFiles(t, spec, c, env, want.secretFiles)
	checkService(t, objects, d, want)
	checkAutoscaler(t, objects, d)
	checkDisruptionBudget(t, objects, d)
}

// checkProbes checks readiness on /readyz and liveness on /healthz, both
// on the admin port that the process binds (its *_ADMIN_ADDR).
func checkProbes(t *testing.T, c corev1.Container, env map[string]string) {
	t.Helper()

	adminPort := containerPort(t, c, "admin")
	adminAddr := envWithSuffix(t, env, "_ADMIN_ADDR")
	if got := addrPort(t, adminAddr); got != adminPort {
		t.Errorf("admin address %s listens on %d, the admin container port is %d", adminAddr, got, adminPort)
	}

	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"readinessProbe", c.ReadinessProbe, "/readyz"},
		{"livenessProbe", c.LivenessProbe, "/healthz"},
	}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: missing or not an HTTP GET", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s path = %q, want %q", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if got := resolvePort(t, c, p.probe.HTTPGet.Port.String()); got != adminPort {
			t.Errorf("%s port = %d, want the admin port %d", p.name, got, adminPort)
		}
	}
}

// checkBindAddresses checks that the process listens on every interface
// of the pod: the processes default to 127.0.0.1, which no probe or peer
// reaches.
func checkBindAddresses(t *testing.T, c corev1.Container, env map[string]string) {
	t.Helper()

	for name, value := range env {
		if !isBindAddress(name) {
			continue
		}
		host, _, err := net.SplitHostPort(value)
		if err != nil {
			t.Errorf("%s = %q: %v", name, value, err)
			continue
		}
		if host != "0.0.0.0" {
			t.Errorf("%s = %q, want host 0.0.0.0", name, value)
		}
	}
}

func checkSecretEnv(t *testing.T, c corev1.Container, names []string) {
	t.Helper()

	for _, name := range names {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
		if i < 0 {
			t.Errorf("env %s missing", name)
			continue
		}
		if from := c.Env[i].ValueFrom; from == nil || from.SecretKeyRef == nil {
			t.Errorf("env %s is not a secretKeyRef", name)
		}
	}
}

// checkSecretFiles checks that each *_FILE variable points into a
// read-only volume of the expected Secret.
func checkSecretFiles(t *testing.T, spec corev1.PodSpec, c corev1.Container, env map[string]string, files map[string]string) {
	t.Helper()

	for _, mount := range c.VolumeMounts {
		if volumeSecret(spec, mount.Name) != "" && !mount.ReadOnly {
			t.Errorf("Secret volume %s is mounted writable", mount.Name)
		}
	}

	for variable, secret := range files {
		checkSecretFile(t, spec, c, env, variable, secret, "")
	}
}

// volumeSecret returns the Secret a pod volume comes from, or "".
func volumeSecret(spec corev1.PodSpec, volume string) string {
	for _, v := range spec.Volumes {
		if v.Name == volume && v.Secret != nil {
			return v.Secret.SecretName
		}
	}
	return ""
}

func checkService(t *testing.T, objects *manifests, d *appsv1.Deployment, want workload) {
	t.Helper()

	i := slices.IndexFunc(objects.Services, func(s *corev1.Service) bool { return s.Name == d.Name })
	if i < 0 {
		t.Errorf("Service %s missing", d.Name)
		return
	}
	svc := objects.Services[i]

	if !selects(labelSelector(svc.Spec.Selector), d.Spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}
	if headless := svc.Spec.ClusterIP == corev1.ClusterIPNone; headless != want.headless {
		t.Errorf("Service clusterIP = %q, headless = %t, want headless = %t", svc.Spec.ClusterIP, headless, want.headless)
	}
	if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
		return p.TargetPort.String() == want.servingPortName
	}) {
		t.Errorf("Service has no port to the container port %s", want.servingPortName)
	}
}

func checkAutoscaler(t *testing.T, objects *manifests, d *appsv1.Deployment) {
	t.Helper()

	var found int
	for _, hpa := range objects.HPAs {
		ref := hpa.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.Name != d.Name {
			continue
		}
		found++

		if ref.APIVersion != "apps/v1" {
			t.Errorf("HPA %s scaleTargetRef.apiVersion = %q, want apps/v1", hpa.Name, ref.APIVersion)
		}
		if hpa.Spec.MinReplicas == nil || d.Spec.Replicas == nil || *hpa.Spec.MinReplicas != *d.Spec.Replicas {
			t.Errorf("HPA %s minReplicas = %v, Deployment replicas = %v: they must match", hpa.Name, hpa.Spec.MinReplicas, d.Spec.Replicas)
		}
		if hpa.Spec.MinReplicas != nil && hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
			t.Errorf("HPA %s maxReplicas %d is below minReplicas %d", hpa.Name, hpa.Spec.MaxReplicas, *hpa.Spec.MinReplicas)
		}
		if got := cpuTarget(hpa.Spec.Metrics); got != 70 {
			t.Errorf("HPA %s CPU utilization target = %d, want 70", hpa.Name, got)
		}
	}
	if found != 1 {
		t.Errorf("HorizontalPodAutoscalers of Deployment %s = %d, want 1", d.Name, found)
	}
}

func checkDisruptionBudget(t *testing.T, objects *manifests, d *appsv1.Deployment) {
	t.Helper()

	var found int
	for _, pdb := range objects.PDBs {
		if pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector, d.Spec.Template.Labels) {
			continue
		}
		found++

		if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
			t.Errorf("PDB %s sets neither minAvailable nor maxUnavailable", pdb.Name)
		}
	}
	if found != 1 {
		t.Errorf("PodDisruptionBudgets of Deployment %s = %d, want 1", d.Name, found)
	}
}

func cpuTarget(metrics []autoscalingv2.MetricSpec) int32 {
	for _, m := range metrics {
		if m.Resource != nil && m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil {
			return *m.Resource.Target.AverageUtilization
		}
	}
	return 0
}

func labelSelector(matchLabels map[string]string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: matchLabels}
}

// selects reports whether a label selector matches a set of labels. A nil
// selector matches nothing, as in a PodDisruptionBudget, and an empty one
// matches everything.
func selects(selector *metav1.LabelSelector, set map[string]string) bool {
	if selector == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(set))
}

func containerPort(t *testing.T, c corev1.Container, name string) int32 {
	t.Helper()

	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port named %s", c.Name, name)
	return 0
}

// resolvePort returns the number of a port given by number or by name.
func resolvePort(t *testing.T, c corev1.Container, port string) int32 {
	t.Helper()

	if n, err := strconv.ParseInt(port, 10, 32); err == nil {
		return int32(n)
	}
	return containerPort(t, c, port)
}

func envWithSuffix(t *testing.T, env map[string]string, suffix string) string {
	t.Helper()

	var found []string
	for name := range env {
		if strings.HasSuffix(name, suffix) {
			found = append(found, name)
		}
	}
	if len(found) != 1 {
		t.Fatalf("variables ending in %s = %v, want exactly one", suffix, found)
	}
	return env[found[0]]
}

func addrPort(t *testing.T, addr string) int32 {
	t.Helper()

	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil {
		t.Fatalf("address %q: port: %v", addr, err)
	}
	return int32(n)
}
