package deploy_test

import (
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// composeBinaries maps each Compose service built from the Dockerfile to
// its SERVICE build argument.
var composeBinaries = map[string]string{
	"wallet":      "walletd",
	"payment":     "paymentd",
	"idempotency": "idempotencyd",
	"ratelimit":   "ratelimitd",
	"gateway":     "gatewayd",
}

// composeImages are the pinned images of the other services.
var composeImages = map[string]string{
	"postgres":    "postgres:15",
	"redis":       "redis:7",
	"stripe-mock": "stripe/stripe-mock:v0.183.0",
}

func TestComposeServices(t *testing.T) {
	project := loadCompose(t, filepath.Join(repoRoot, "docker-compose.yml"))

	names := slices.Sorted(maps.Keys(project.Services))
	want := slices.Sorted(func(yield func(string) bool) {
		for name := range composeBinaries {
			yield(name)
		}
		for name := range composeImages {
			yield(name)
		}
	})
	if !slices.Equal(names, want) {
		t.Fatalf("services = %v, want %v", names, want)
	}

	for name, image := range composeImages {
		if got := project.Services[name].Image; got != image {
			t.Errorf("%s image = %q, want %q", name, got, image)
		}
	}
	for name, binary := range composeBinaries {
		t.Run(name, func(t *testing.T) {
			checkComposeLedgerService(t, project, project.Services[name], binary)
		})
	}
}

func checkComposeLedgerService(t *testing.T, project *types.Project, svc types.ServiceConfig, binary string) {
	if svc.Build == nil {
		t.Fatal("not built from the Dockerfile")
	}
	if got := svc.Build.Args["SERVICE"]; got == nil || *got != binary {
		t.Errorf("build arg SERVICE = %v, want %s", got, binary)
	}
	if svc.Build.Context != project.WorkingDir {
		t.Errorf("build context = %s, want the repository root %s", svc.Build.Context, project.WorkingDir)
	}

	if !svc.ReadOnly {
		t.Error("read_only is not true")
	}
	if svc.User != "65532:65532" {
		t.Errorf("user = %q, want 65532:65532", svc.User)
	}
	if !slices.Equal(svc.CapDrop, []string{"ALL"}) {
		t.Errorf("cap_drop = %v, want [ALL]", svc.CapDrop)
	}
	if len(svc.CapAdd) > 0 {
		t.Errorf("cap_add = %v, want none", svc.CapAdd)
	}
	if !slices.Contains(svc.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("security_opt = %v, want no-new-privileges:true", svc.SecurityOpt)
	}
	if svc.Privileged {
		t.Error("privileged")
	}

	checkComposeDependencies(t, svc)
	checkComposeEnvironment(t, project, svc)
}

// checkComposeDependencies checks that each dependency on PostgreSQL or
// Redis waits for its healthcheck, and each dependency on a distroless
// service (which has no healthcheck) only for its start.
func checkComposeDependencies(t *testing.T, svc types.ServiceConfig) {
	t.Helper()

	for name, dep := range svc.DependsOn {
		want := types.ServiceConditionStarted
		if name == "postgres" || name == "redis" {
			want = types.ServiceConditionHealthy
		}
		if dep.Condition != want {
			t.Errorf("depends_on %s condition = %q, want %q", name, dep.Condition, want)
		}
	}
}

// checkComposeEnvironment checks that the process listens on every
// interface of its container, and that every *_ADDR that names another
// process uses a service name of this file.
func checkComposeEnvironment(t *testing.T, project *types.Project, svc types.ServiceConfig) {
	t.Helper()

	for name, value := range svc.Environment {
		if value == nil {
			t.Errorf("environment %s has no value", name)
			continue
		}
		if !strings.HasSuffix(name, "_ADDR") {
			continue
		}
		host, _, err := net.SplitHostPort(strings.TrimPrefix(*value, "dns:///"))
		if err != nil {
			t.Errorf("%s = %q: %v", name, *value, err)
			continue
		}
		if isBindAddress(name) {
			if host != "0.0.0.0" {
				t.Errorf("%s = %q, want host 0.0.0.0", name, *value)
			}
			continue
		}
		if _, ok := project.Services[host]; !ok {
			t.Errorf("%s = %q names no service of the Compose file", name, *value)
		}
	}
}

func TestComposeStoresHaveHealthchecks(t *testing.T) {
	project := loadCompose(t, filepath.Join(repoRoot, "docker-compose.yml"))

	for _, name := range []string{"postgres", "redis"} {
		hc := project.Services[name].HealthCheck
		if hc == nil || len(hc.Test) < 2 || hc.Test[0] != "CMD" {
			t.Errorf("%s healthcheck = %+v, want a CMD test", name, hc)
		}
	}
}

// isBindAddress reports whether a variable is an address the process
// listens on, rather than one it connects to.
func isBindAddress(name string) bool {
	return strings.HasSuffix(name, "_GRPC_ADDR") || strings.HasSuffix(name, "_HTTP_ADDR") || strings.HasSuffix(name, "_ADMIN_ADDR")
}
