// Package configtest loads a service's configuration in tests and returns
// the problems that config.Load reports, one by one. Import it only from
// _test.go files.
package configtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/config"
)

// SetEnv sets every variable in clear to the empty string, which
// config.Load treats as unset, so that the developer's shell cannot change
// a result, and then sets values. t.Setenv restores each variable after
// the test.
func SetEnv(t testing.TB, clear []string, values map[string]string) {
	t.Helper()
	for _, name := range clear {
		t.Setenv(name, "")
	}
	for name, value := range values {
		t.Setenv(name, value)
	}
}

// Problems loads T from the environment and returns the text of each
// problem that config.Load reports, or nil when T loads.
func Problems[T any](t testing.TB) []string {
	t.Helper()
	_, err := config.Load[T]()
	if err == nil {
		return nil
	}
	var loadErr *config.LoadError
	if !errors.As(err, &loadErr) {
		t.Fatalf("config.Load: %v, want a *config.LoadError", err)
	}
	problems := make([]string, 0, len(loadErr.Problems))
	for _, problem := range loadErr.Problems {
		problems = append(problems, problem.Error())
	}
	return problems
}

// ExpectProblems fails t unless T's problems are one per prefix, in order,
// each starting with its prefix.
func ExpectProblems[T any](t testing.TB, prefixes ...string) {
	t.Helper()
	problems := Problems[T](t)
	if len(problems) != len(prefixes) {
		t.Fatalf("problems = %q, want %d", problems, len(prefixes))
	}
	for i, prefix := range prefixes {
		if !strings.HasPrefix(problems[i], prefix) {
			t.Errorf("problem %d = %q, want it to start with %q", i, problems[i], prefix)
		}
	}
}
