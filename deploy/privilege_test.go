package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// repoRoot is the repository root as seen from this package's directory,
// where go test runs the tests.
const repoRoot = ".."

// rootUser matches a Compose or Dockerfile user that is root: "0", "root",
// with or without a group.
var rootUser = regexp.MustCompile(`^(0|root)(:.*)?$`)

// findPrivilegeProblems walks a decoded YAML or JSON tree and returns,
// with the path of each, every Docker socket mount, privileged setting and
// root user. It checks the field names of Kubernetes (privileged,
// runAsUser, runAsNonRoot) and of Compose (privileged, user), so one walk
// covers both formats.
func findPrivilegeProblems(node any, path string) []string {
	var problems []string
	switch v := node.(type) {
	case map[string]any:
		for _, key := range slices.Sorted(maps.Keys(v)) {
			child := path + "." + key
			problems = append(problems, checkPrivilegeField(key, v[key], child)...)
			problems = append(problems, findPrivilegeProblems(v[key], child)...)
		}
	case []any:
		for i, item := range v {
			problems = append(problems, findPrivilegeProblems(item, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case string:
		if strings.Contains(v, "docker.sock") {
			problems = append(problems, fmt.Sprintf("%s: mounts the Docker socket (%s)", path, v))
		}
	}
	return problems
}

func checkPrivilegeField(key string, value any, path string) []string {
	switch key {
	case "privileged":
		if value == true {
			return []string{path + ": privileged"}
		}
	case "runAsUser":
		if n, ok := value.(float64); ok && n == 0 {
			return []string{path + ": runs as root (uid 0)"}
		}
	case "runAsNonRoot":
		if value == false {
			return []string{path + ": runAsNonRoot is false"}
		}
	case "user":
		if s, ok := value.(string); ok && rootUser.MatchString(s) {
			return []string{fmt.Sprintf("%s: runs as root (%s)", path, s)}
		}
	}
	return nil
}

// decodeTree decodes YAML or JSON into maps, slices and scalars, with
// numbers as float64.
func decodeTree(t *testing.T, data []byte) any {
	t.Helper()

	var tree any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return tree
}

// loadCompose loads a Compose file as docker compose does: merged
// anchors, interpolated variables (from an empty environment, so the
// file's own defaults apply) and normalized short syntax.
func loadCompose(t *testing.T, path string) *types.Project {
	t.Helper()

	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatalf("resolve %s: %v", path, err)
	}
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs}},
		Environment: types.Mapping{},
	}
	project, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("advancia-ledger", true)
	})
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return project
}

// composeTree returns the loaded project as a tree for
// findPrivilegeProblems.
func composeTree(t *testing.T, project *types.Project) any {
	t.Helper()

	data, err := json.Marshal(project)
	if err != nil {
		t.Fatalf("encode the Compose project: %v", err)
	}
	return decodeTree(t, data)
}

func renderTree(t *testing.T, dir string) []any {
	t.Helper()

	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var trees []any
	for _, r := range resources.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatalf("encode %s: %v", r.CurId(), err)
		}
		trees = append(trees, decodeTree(t, data))
	}
	return trees
}

func TestComposeHasNoPrivilegeProblems(t *testing.T) {
	project := loadCompose(t, filepath.Join(repoRoot, "docker-compose.yml"))
	for _, problem := range findPrivilegeProblems(composeTree(t, project), "docker-compose.yml") {
		t.Error(problem)
	}
}

func TestManifestsHaveNoPrivilegeProblems(t *testing.T) {
	for _, dir := range overlays {
		t.Run(overlayName(dir), func(t *testing.T) {
			for i, tree := range renderTree(t, dir) {
				for _, problem := range findPrivilegeProblems(tree, fmt.Sprintf("object %d", i)) {
					t.Error(problem)
				}
			}
		})
	}
}

func TestPrivilegeCheckFindsBadCompose(t *testing.T) {
	project := loadCompose(t, filepath.Join("testdata", "bad-compose.yml"))

	got := findPrivilegeProblems(composeTree(t, project), "compose")

	want := []string{
		"compose.services.agent.privileged: privileged",
		"compose.services.agent.user: runs as root (root)",
		"compose.services.agent.volumes[0].source: mounts the Docker socket (/var/run/docker.sock)",
		"compose.services.agent.volumes[0].target: mounts the Docker socket (/var/run/docker.sock)",
		"compose.services.worker.user: runs as root (0:0)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPrivilegeCheckFindsBadManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "bad-deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	got := findPrivilegeProblems(decodeTree(t, data), "deployment")

	want := []string{
		"deployment.spec.template.spec.containers[0].securityContext.privileged: privileged",
		"deployment.spec.template.spec.containers[0].securityContext.runAsUser: runs as root (uid 0)",
		"deployment.spec.template.spec.containers[0].volumeMounts[0].mountPath: mounts the Docker socket (/var/run/docker.sock)",
		"deployment.spec.template.spec.securityContext.runAsNonRoot: runAsNonRoot is false",
		"deployment.spec.template.spec.volumes[0].hostPath.path: mounts the Docker socket (/var/run/docker.sock)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The same bad Deployment also fails the typed checks of TestWorkloads,
// which would catch it in a rendered overlay.
func TestWorkloadChecksFindBadDeployment(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "bad-deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objects, err := decodeManifests(data)
	if err != nil {
		t.Fatalf("decodeManifests: %v", err)
	}
	if len(objects.Deployments) != 1 {
		t.Fatalf("Deployments = %d, want 1", len(objects.Deployments))
	}
	c := objects.Deployments[0].Spec.Template.Spec.Containers[0]

	got := slices.Concat(
		checkPodSecurity(objects.Deployments[0].Spec.Template.Spec),
		checkInlineSecrets(c),
		checkResources(c),
	)

	want := []string{
		"pod: runAsNonRoot is not true",
		"pod: runAsUser is not 65532",
		"pod: seccompProfile is not RuntimeDefault",
		"container agent: runAsNonRoot is not true",
		"container agent: runAsUser is not 65532",
		"container agent: readOnlyRootFilesystem is not true",
		"container agent: allowPrivilegeEscalation is not false",
		"container agent: privileged",
		"container agent: capabilities.drop is not [ALL]",
		"container agent: STRIPE_API_KEY is not read from a Secret",
		"container agent: cpu request or limit missing",
		"container agent: memory request or limit missing",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
