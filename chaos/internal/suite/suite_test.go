package suite

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/chaos/internal/stack"
)

// TestShortScenarios runs the suite's short variant: the walletd kill and
// the Redis FLUSHALL scenarios with 60 operations each, against binaries
// built with -race. It needs initdb and pg_ctl under
// /usr/lib/postgresql/*/bin and redis-server in PATH, and starts its own
// servers on free loopback ports.
func TestShortScenarios(t *testing.T) {
	// t.TempDir sits in a folder of mode 0700, which the postgres user
	// that runs the cluster under root could not pass through.
	dir, err := os.MkdirTemp("", "ledgerchaos-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs and data kept in %s", dir)
			return
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	rows, err := Run(ctx, Options{
		Dir:        dir,
		Scenarios:  []string{"wallet-kill", "redis-flushall"},
		Seed:       1,
		Operations: 60,
		Workers:    8,
		Pace:       40 * time.Millisecond,
		Build:      stack.BuildOptions{Race: true},
		Progress:   testWriter{t},
	})
	var table strings.Builder
	WriteTable(&table, rows)
	t.Logf("\n%s", table.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	for _, row := range rows {
		if row.Operations < 60 {
			t.Errorf("%s: %d operations, want at least the 60 of the workload", row.Scenario, row.Operations)
		}
		if row.Acknowledged == 0 {
			t.Errorf("%s: no operation was acknowledged", row.Scenario)
		}
		if !row.Passed() {
			t.Errorf("%s failed: lost %d, duplicated %d, unknown %d, resolved %d, violations %q",
				row.Scenario, row.Lost, row.Duplicated, row.Unknown, row.Resolved, row.Violations)
		}
	}
}

// testWriter sends the suite's progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
