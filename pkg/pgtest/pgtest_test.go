package pgtest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var notes = NewTemplate("pgtest", func(ctx context.Context, databaseURL string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	_, err = conn.Exec(ctx, `CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL)`)

	return err
})

func TestMain(m *testing.M) {
	code := m.Run()
	notes.Close()
	os.Exit(code)
}

// TestClonesAreIsolated runs two parallel subtests that each insert a row
// and check that their clone holds only that row.
func TestClonesAreIsolated(t *testing.T) {
	// Both subtests insert before either counts, so a shared database would
	// show two rows.
	var inserted sync.WaitGroup
	inserted.Add(2)

	for _, id := range []int64{1, 2} {
		t.Run("clone", func(t *testing.T) {
			t.Parallel()

			// markInserted runs on every exit path so that a failing
			// subtest never leaves the other one waiting.
			var doneOnce sync.Once
			markInserted := func() { doneOnce.Do(inserted.Done) }
			defer markInserted()

			pool := notes.NewPool(t)
			ctx := context.Background()

			var before int64
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM notes`).Scan(&before); err != nil {
				t.Fatalf("count before insert: %v", err)
			}

			if before != 0 {
				t.Errorf("rows before insert = %d, want 0", before)
			}

			_, err := pool.Exec(ctx, `INSERT INTO notes (id, body) VALUES ($1, 'x')`, id)
			markInserted()
			if err != nil {
				t.Fatalf("insert: %v", err)
			}

			waitGroupWithTimeout(t, &inserted, 30*time.Second)

			rows, err := pool.Query(ctx, `SELECT id FROM notes ORDER BY id`)
			if err != nil {
				t.Fatalf("select ids: %v", err)
			}

			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				t.Fatalf("collect ids: %v", err)
			}

			if len(ids) != 1 || ids[0] != id {
				t.Errorf("ids = %v, want [%d]", ids, id)
			}
		})
	}
}

func TestDatabaseDroppedOnCleanup(t *testing.T) {
	var name string

	t.Run("inner", func(t *testing.T) {
		dbURL := notes.NewDatabase(t)
		name = dbURL[strings.LastIndex(dbURL, "/")+1 : strings.Index(dbURL, "?")]
	})

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("connect admin: %v", err)
	}
	defer conn.Close(ctx)

	var count int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&count)
	if err != nil {
		t.Fatalf("query pg_database: %v", err)
	}

	if count != 0 {
		t.Errorf("database %s still exists after cleanup", name)
	}
}

func TestDatabaseName(t *testing.T) {
	long := strings.Repeat("Ab/", 40)
	name := databaseName("t_"+sanitize(long), "0123abcd")

	if len(name) != maxIdentifierLen {
		t.Errorf("len(name) = %d, want %d", len(name), maxIdentifierLen)
	}

	if !strings.HasSuffix(name, "_0123abcd") {
		t.Errorf("name %q lost its suffix", name)
	}

	if got := sanitize("TestX/Sub case-1"); got != "testx_sub_case_1" {
		t.Errorf("sanitize = %q, want %q", got, "testx_sub_case_1")
	}
}

func waitGroupWithTimeout(t *testing.T, wg *sync.WaitGroup, timeout time.Duration) {
	t.Helper()

	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()

	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("other subtest did not insert within %s", timeout)
	}
}
