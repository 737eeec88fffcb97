package deploy_test

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// overlaySettings is what distinguishes one overlay from another.
type overlaySettings struct {
	replicas int32
	env      string
	sentinel bool
	// tls is true for mutual TLS on gRPC and TLS to Redis.
	tls bool
}

var overlaySettingsByDir = map[string]overlaySettings{
	"k8s/base":                {replicas: 2, env: "production", sentinel: false, tls: true},
	"k8s/overlays/dev":        {replicas: 1, env: "development", sentinel: false, tls: false},
	"k8s/overlays/production": {replicas: 3, env: "production", sentinel: true, tls: true},
}

func TestOverlaySettings(t *testing.T) {
	for _, dir := range overlays {
		want := overlaySettingsByDir[dir]
		t.Run(overlayName(dir), func(t *testing.T) {
			objects := renderKustomization(t, dir)
			for _, d := range objects.Deployments {
				if d.Spec.Replicas == nil || *d.Spec.Replicas != want.replicas {
					t.Errorf("%s replicas = %v, want %d", d.Name, d.Spec.Replicas, want.replicas)
				}

				env := objects.containerEnv(t, d.Spec.Template.Spec.Containers[0])
				if env["LEDGER_ENV"] != want.env {
					t.Errorf("%s LEDGER_ENV = %q, want %q", d.Name, env["LEDGER_ENV"], want.env)
				}
				checkSentinel(t, d.Name, env, want.sentinel)
			}
		})
	}
}

// checkSentinel checks that a Redis client has both Sentinel settings or
// neither, and that only Redis clients have them.
func checkSentinel(t *testing.T, name string, env map[string]string, want bool) {
	t.Helper()

	prefix := workloads[name].redisPrefix
	if prefix == "" {
		for variable := range env {
			if strings.Contains(variable, "_REDIS_") {
				t.Errorf("%s: %s is set, but %s uses no Redis", name, variable, name)
			}
		}
		return
	}

	addrs, master := env[prefix+"ADDRS"], env[prefix+"MASTER_NAME"]
	if !want {
		if addrs != "" || master != "" {
			t.Errorf("%s: %sADDRS = %q and %sMASTER_NAME = %q, want both unset", name, prefix, addrs, prefix, master)
		}
		return
	}
	if master == "" {
		t.Errorf("%s: %sMASTER_NAME is empty", name, prefix)
	}
	list := strings.Split(addrs, ",")
	if len(list) < 3 {
		t.Errorf("%s: %sADDRS = %q, want at least 3 Sentinels", name, prefix, addrs)
	}
	for _, addr := range list {
		if _, port, err := net.SplitHostPort(addr); err != nil || port != "26379" {
			t.Errorf("%s: %sADDRS entry %q, want host:26379", name, prefix, addr)
		}
	}
}

// Each dns:/// target in a ConfigMap must name a rendered Service with
// that port, or the gRPC client resolves nothing.
func TestGRPCTargetsNameServices(t *testing.T) {
	for _, dir := range overlays {
		t.Run(overlayName(dir), func(t *testing.T) {
			objects := renderKustomization(t, dir)

			var targets int
			for _, cm := range objects.ConfigMaps {
				for variable, value := range cm.Data {
					target, ok := strings.CutPrefix(value, "dns:///")
					if !ok {
						continue
					}
					targets++
					checkTarget(t, objects, variable, target)
				}
			}
			// Targets: wallet → idempotency, payment → wallet and
			// idempotency, gateway → wallet, payment and ratelimit.
			if targets != 6 {
				t.Errorf("dns:/// targets = %d, want 6", targets)
			}
		})
	}
}

func checkTarget(t *testing.T, objects *manifests, variable, target string) {
	t.Helper()

	host, port, err := net.SplitHostPort(target)
	if err != nil {
		t.Errorf("%s = dns:///%s: %v", variable, target, err)
		return
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil {
		t.Errorf("%s = dns:///%s: port: %v", variable, target, err)
		return
	}

	i := slices.IndexFunc(objects.Services, func(s *corev1.Service) bool { return s.Name == host })
	if i < 0 {
		t.Errorf("%s = dns:///%s: no Service %s", variable, target, host)
		return
	}
	svc := objects.Services[i]
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("%s = dns:///%s: Service %s is not headless, so every call goes to one virtual IP", variable, target, host)
	}
	if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == int32(n) }) {
		t.Errorf("%s = dns:///%s: Service %s has no port %d", variable, target, host, n)
	}
}

// No overlay may carry secret values: the Secrets are created outside
// these manifests, and ConfigMaps hold no credentials.
func TestNoSecretValuesInConfigMaps(t *testing.T) {
	for _, dir := range overlays {
		t.Run(overlayName(dir), func(t *testing.T) {
			objects := renderKustomization(t, dir)
			for _, cm := range objects.ConfigMaps {
				for key := range cm.Data {
					if isSecretName(key) {
						t.Errorf("ConfigMap %s holds %s, which belongs in a Secret", cm.Name, key)
					}
				}
			}
		})
	}
}
