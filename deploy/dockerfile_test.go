package deploy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	Line    int
	Keyword string // upper case, such as FROM
	Args    string
}

// stage is the instructions from one FROM up to the next.
type stage struct {
	Image        string
	Name         string
	Instructions []instruction
}

// parseDockerfile splits a Dockerfile into stages. It handles comments,
// blank lines and backslash continuations, which is all the project's
// Dockerfile uses. It does not expand variables or heredocs.
func parseDockerfile(data []byte) ([]stage, error) {
	var (
		stages  []stage
		pending strings.Builder
		start   int
	)
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if strings.HasPrefix(line, "#") || (line == "" && pending.Len() == 0) {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(body + " ")
			continue
		}
		pending.WriteString(line)

		keyword, args, _ := strings.Cut(strings.TrimSpace(pending.String()), " ")
		pending.Reset()
		ins := instruction{Line: start, Keyword: strings.ToUpper(keyword), Args: strings.TrimSpace(args)}

		if ins.Keyword == "FROM" {
			stages = append(stages, newStage(ins.Args))
			continue
		}
		if len(stages) == 0 {
			if ins.Keyword == "ARG" {
				continue
			}
			return nil, fmt.Errorf("line %d: %s before the first FROM", ins.Line, ins.Keyword)
		}
		last := &stages[len(stages)-1]
		last.Instructions = append(last.Instructions, ins)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read Dockerfile: %w", err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("no FROM instruction")
	}
	return stages, nil
}

func newStage(from string) stage {
	fields := strings.Fields(from)
	fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, "--") })
	s := stage{Image: fields[0]}
	if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
		s.Name = fields[2]
	}
	return s
}

// last returns the final value of a stage's instruction, or "".
func (s stage) last(keyword string) string {
	value := ""
	for _, ins := range s.Instructions {
		if ins.Keyword == keyword {
			value = ins.Args
		}
	}
	return value
}

// runtimeImage matches the images the final stage may use: distroless
// static or base images, or scratch.
var runtimeImage = regexp.MustCompile(`^(gcr\.io/distroless/(static|base)[a-z0-9-]*(:[a-z0-9.-]+)?(@sha256:[0-9a-f]{64})?|scratch)$`)

// checkDockerfile returns every way a Dockerfile breaks the image rules:
// a final stage that is not distroless or scratch, a final stage without a
// non-root USER, and ADD of a URL in any stage.
func checkDockerfile(stages []stage) []string {
	var problems []string
	for _, s := range stages {
		for _, ins := range s.Instructions {
			if ins.Keyword == "ADD" && strings.Contains(ins.Args, "://") {
				problems = append(problems, fmt.Sprintf("line %d: ADD fetches a URL: %s", ins.Line, ins.Args))
			}
		}
	}

	final := stages[len(stages)-1]
	if !runtimeImage.MatchString(final.Image) {
		problems = append(problems, fmt.Sprintf("final stage image %s is not distroless or scratch", final.Image))
	}
	user := final.last("USER")
	switch {
	case user == "":
		problems = append(problems, "final stage has no USER")
	case rootUser.MatchString(user):
		problems = append(problems, fmt.Sprintf("final stage USER %s is root", user))
	}
	return problems
}

func readDockerfile(t *testing.T, path string) []stage {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stages, err := parseDockerfile(data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return stages
}

func TestDockerfileRules(t *testing.T) {
	stages := readDockerfile(t, filepath.Join(repoRoot, "Dockerfile"))

	for _, problem := range checkDockerfile(stages) {
		t.Error(problem)
	}

	final := stages[len(stages)-1]
	if final.Image != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("final image = %s, want gcr.io/distroless/static-debian12:nonroot", final.Image)
	}
	if got := final.last("USER"); got != "65532:65532" {
		t.Errorf("final USER = %q, want 65532:65532", got)
	}
	if got := final.last("ENTRYPOINT"); !strings.HasPrefix(got, `["/`) {
		t.Errorf("ENTRYPOINT = %s, want the exec form with an absolute path: distroless has no shell", got)
	}
	if got := stages[0].Image; !strings.HasPrefix(got, "golang:1.26") {
		t.Errorf("build image = %s, want golang:1.26", got)
	}
}

// buildPackage matches a "name) pkg=./path ;;" line of the SERVICE case.
var buildPackage = regexp.MustCompile(`(\w+)\)\s+pkg=(\./[\w/]+)\s*;;`)

func TestDockerfileBuildsEveryService(t *testing.T) {
	stages := readDockerfile(t, filepath.Join(repoRoot, "Dockerfile"))
	build := stages[0]

	var script string
	for _, ins := range build.Instructions {
		if ins.Keyword == "RUN" && strings.Contains(ins.Args, "go build") {
			script = ins.Args
		}
	}
	if script == "" {
		t.Fatal("no RUN with go build in the first stage")
	}
	for _, flag := range []string{"CGO_ENABLED=0", "-trimpath"} {
		if !strings.Contains(script, flag) {
			t.Errorf("go build step lacks %s", flag)
		}
	}

	packages := map[string]string{}
	for _, m := range buildPackage.FindAllStringSubmatch(script, -1) {
		packages[m[1]] = m[2]
	}
	want := map[string]string{
		"walletd":      "./services/wallet/cmd/walletd",
		"paymentd":     "./services/payment/cmd/paymentd",
		"idempotencyd": "./services/idempotency/cmd/idempotencyd",
		"ratelimitd":   "./services/ratelimit/cmd/ratelimitd",
		"gatewayd":     "./gateway/cmd/gatewayd",
	}
	for name, pkg := range want {
		if packages[name] != pkg {
			t.Errorf("SERVICE=%s builds %q, want %q", name, packages[name], pkg)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, pkg, "main.go")); err != nil {
			t.Errorf("SERVICE=%s: %v", name, err)
		}
	}
	if len(packages) != len(want) {
		t.Errorf("SERVICE values = %v, want %d", packages, len(want))
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "deploy", "ratelimit", "policies.yaml")); err != nil {
		t.Errorf("the ratelimitd image copies the policy: %v", err)
	}
}

// The build context must contain the whole workspace, or go build fails
// on the modules that go.work lists.
func TestDockerfileCopiesWorkspace(t *testing.T) {
	stages := readDockerfile(t, filepath.Join(repoRoot, "Dockerfile"))

	var copies []string
	for _, ins := range stages[0].Instructions {
		if ins.Keyword == "COPY" {
			copies = append(copies, ins.Args)
		}
	}
	if !slices.Contains(copies, ". .") {
		t.Errorf("build stage COPY instructions = %q, want COPY . .", copies)
	}
}

func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, want := range []string{".git", ".bin", "bin", ".run"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}

func TestDockerfileCheckFindsBadDockerfile(t *testing.T) {
	stages := readDockerfile(t, filepath.Join("testdata", "bad.Dockerfile"))

	got := checkDockerfile(stages)

	want := []string{
		"line 4: ADD fetches a URL: https://example.com/tool.tar.gz /tmp/",
		"line 9: ADD fetches a URL: http://example.com/config.yaml /etc/app/",
		"final stage image debian:bookworm is not distroless or scratch",
		"final stage USER root is root",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDockerfileCheckFindsMissingUser(t *testing.T) {
	stages, err := parseDockerfile([]byte("FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n"))
	if err != nil {
		t.Fatal(err)
	}

	got := checkDockerfile(stages)

	if want := []string{"final stage has no USER"}; !slices.Equal(got, want) {
		t.Errorf("problems = %v, want %v", got, want)
	}
}
