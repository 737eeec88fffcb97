// Package pgtest gives each test its own PostgreSQL database, cloned from a
// template database that is migrated once per test process. Import it only
// from _test.go files.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	startHint       = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

	// maxIdentifierLen is PostgreSQL's NAMEDATALEN-1. The server truncates
	// longer names, which could make two names collide.
	maxIdentifierLen = 63

	// opTimeout bounds each administrative statement and the migration.
	opTimeout = 2 * time.Minute

	// cloneAttempts bounds the retries of CREATE DATABASE while the
	// template still has a session open (SQLSTATE 55006).
	cloneAttempts = 20
)

// AdminURL returns the URL of the database used to create and drop test
// databases: LEDGER_TEST_DATABASE_URL, or a trust-auth postgres user on
// 127.0.0.1:5432. It must be a URL (postgres://...), not a key=value DSN.
func AdminURL() string {
	if u := os.Getenv("LEDGER_TEST_DATABASE_URL"); u != "" {
		return u
	}

	return defaultAdminURL
}

// Template is a migrated template database created on first use. Its methods
// are safe for concurrent use by parallel tests.
type Template struct {
	name    string
	migrate func(ctx context.Context, databaseURL string) error
	// role is the user of the URLs NewDatabase returns; empty means the
	// admin user.
	role string

	once   sync.Once
	dbName string
	err    error
}

// NewTemplate returns a Template whose database is created and migrated by
// the first NewDatabase call. name is a short label such as "wallet". The
// database name adds the process id and a random suffix so that concurrent
// test processes never share a template. migrate receives the template URL
// and must close every connection it opens before returning, because
// PostgreSQL refuses to copy a template that has open sessions.
func NewTemplate(name string, migrate func(ctx context.Context, databaseURL string) error) *Template {
	return &Template{name: name, migrate: migrate}
}

// As makes NewDatabase and NewPool connect as role, such as the service
// role the migrations grant privileges to, instead of the admin user. The
// role must be able to log in without a password from the test host. It
// returns tp.
func (tp *Template) As(role string) *Template {
	tp.role = role
	return tp
}

// NewDatabase clones the template into a new empty-of-test-data database
// named after t.Name() and returns its URL. t.Cleanup drops the database with
// FORCE. It calls t.Fatalf when PostgreSQL is unreachable or the template
// cannot be created or migrated.
func (tp *Template) NewDatabase(t testing.TB) string {
	t.Helper()

	tp.once.Do(tp.create)
	if tp.err != nil {
		t.Fatalf("pgtest: template %q: %v", tp.name, tp.err)
	}

	name := databaseName("t_"+sanitize(t.Name()), randomHex(t))

	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	if err := tp.clone(ctx, name); err != nil {
		t.Fatalf("pgtest: clone template into %s: %v", name, err)
	}

	t.Cleanup(func() {
		if err := dropDatabase(name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})

	if tp.role != "" {
		return WithUser(databaseURL(name), tp.role)
	}
	return databaseURL(name)
}

// WithUser returns databaseURL with its user replaced by user and no
// password.
func WithUser(databaseURL, user string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return databaseURL
	}
	u.User = url.User(user)
	return u.String()
}

// AsAdmin returns databaseURL with the admin URL's user and password, for
// tests that must act as the owner, such as those that tamper with
// append-only tables.
func AsAdmin(databaseURL string) string {
	admin, err := url.Parse(AdminURL())
	if err != nil {
		return databaseURL
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return databaseURL
	}
	u.User = admin.User
	return u.String()
}

// NewPool calls NewDatabase and returns a pool connected to the new database.
// t.Cleanup closes the pool before the database is dropped.
func (tp *Template) NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()

	dbURL := tp.NewDatabase(t)

	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}

	t.Cleanup(pool.Close)

	return pool
}

// Close drops the template database if it was created. Call it from TestMain
// after m.Run. Errors are printed to stderr because TestMain has no testing.TB.
func (tp *Template) Close() {
	if tp.dbName == "" {
		return
	}

	if err := dropDatabase(tp.dbName); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
	}
}

func (tp *Template) create() {
	suffix, err := randomSuffix()
	if err != nil {
		tp.err = err
		return
	}

	name := databaseName(fmt.Sprintf("tmpl_%s_%d", sanitize(tp.name), os.Getpid()), suffix)

	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	err = withAdmin(ctx, func(conn *pgx.Conn) error {
		// A database name cannot be a parameter. name holds only [a-z0-9_],
		// from sanitize and a random suffix, and Sanitize quotes it.
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		return err
	})
	if err != nil {
		tp.err = fmt.Errorf("create database %s: %w", name, err)
		return
	}

	tp.dbName = name

	if err := tp.migrate(ctx, databaseURL(name)); err != nil {
		tp.err = fmt.Errorf("migrate %s: %w", name, err)
	}
}

func (tp *Template) clone(ctx context.Context, name string) error {
	// Database names cannot be parameters, so both are quoted identifiers.
	stmt := fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{tp.dbName}.Sanitize())

	return withAdmin(ctx, func(conn *pgx.Conn) error {
		var err error

		for attempt := 1; attempt <= cloneAttempts; attempt++ {
			_, err = conn.Exec(ctx, stmt)
			if !isObjectInUse(err) {
				return err
			}

			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		}

		return err
	})
}

func dropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	err := withAdmin(ctx, func(conn *pgx.Conn) error {
		// A database name cannot be a parameter; Sanitize quotes it.
		_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	})
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}

	return nil
}

// withAdmin runs fn on a new connection to the admin database and closes it.
func withAdmin(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()

	conn, err := pgx.Connect(connectCtx, AdminURL())
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL at %s (%s): %w", redactedAdminURL(), startHint, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	return fn(conn)
}

func isObjectInUse(err error) bool {
	var pgErr *pgconn.PgError

	return errors.As(err, &pgErr) && pgErr.Code == "55006"
}

// databaseURL returns AdminURL with its database replaced by name.
func databaseURL(name string) string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		// NOTE: a malformed AdminURL already failed in withAdmin, which
		// runs before any caller of databaseURL.
		return AdminURL()
	}

	u.Path = "/" + name
	u.RawPath = ""

	return u.String()
}

func redactedAdminURL() string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		return "LEDGER_TEST_DATABASE_URL (not a valid URL)"
	}

	return u.Redacted()
}

// sanitize lower-cases s and replaces every byte outside [a-z0-9_] with '_'.
func sanitize(s string) string {
	var b strings.Builder

	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}

	return b.String()
}

// databaseName joins base and suffix with '_', truncating base so that the
// result fits in maxIdentifierLen bytes and the suffix stays intact.
func databaseName(base, suffix string) string {
	limit := maxIdentifierLen - len(suffix) - 1
	if len(base) > limit {
		base = base[:limit]
	}

	return base + "_" + suffix
}

func randomHex(t testing.TB) string {
	t.Helper()

	suffix, err := randomSuffix()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}

	return suffix
}

// randomSuffix returns 8 random lower-case hex characters.
func randomSuffix() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random suffix: %w", err)
	}

	return hex.EncodeToString(b[:]), nil
}
