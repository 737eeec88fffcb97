// Package cluster runs the private PostgreSQL cluster and Redis server of
// one suite run on free loopback ports, and injects their faults. It never
// touches the machine's shared servers.
package cluster

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/chaos/internal/proc"
)

// Owner is the superuser of the private cluster, which owns every schema.
const Owner = "postgres"

// pgctlTimeout bounds each pg_ctl start or stop.
const pgctlTimeout = 60 * time.Second

// Postgres is a private PostgreSQL cluster in a folder of its own, with
// trust authentication, listening on 127.0.0.1 and a Unix socket in that
// folder.
type Postgres struct {
	bin     string
	dir     string
	dataDir string
	port    int
	cred    *syscall.Credential
}

// StartPostgres runs initdb in dir/pgdata, starts the server on a free
// port and creates the database name. Run as root, it runs the server as
// the system user "postgres", because initdb refuses to run as root.
func StartPostgres(ctx context.Context, dir, name string) (*Postgres, error) {
	bin, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	addr, err := proc.FreeAddr()
	if err != nil {
		return nil, err
	}
	_, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)

	pg := &Postgres{bin: bin, dir: dir, dataDir: filepath.Join(dir, "pgdata"), port: port}
	if err := pg.prepareDir(); err != nil {
		return nil, err
	}
	if err := pg.run(ctx, "initdb", "-D", pg.dataDir, "-U", Owner, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		return nil, err
	}
	if err := pg.Start(ctx); err != nil {
		return nil, err
	}
	if err := pg.createDatabase(ctx, name); err != nil {
		return nil, err
	}
	return pg, nil
}

// findPostgresBin returns the newest /usr/lib/postgresql/*/bin that has
// initdb and pg_ctl.
func findPostgresBin() (string, error) {
	matches, err := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if err != nil || len(matches) == 0 {
		return "", fmt.Errorf("initdb not found under /usr/lib/postgresql/*/bin: install the PostgreSQL server package")
	}
	slices.SortFunc(matches, func(a, b string) int { return versionOf(a) - versionOf(b) })
	return filepath.Dir(matches[len(matches)-1]), nil
}

// versionOf returns the major version in /usr/lib/postgresql/N/bin/initdb.
func versionOf(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// prepareDir creates the data folder and, as root, hands dir to the
// postgres user.
func (pg *Postgres) prepareDir() error {
	if err := os.MkdirAll(pg.dataDir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", pg.dataDir, err)
	}
	if os.Geteuid() != 0 {
		return nil
	}
	account, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the system user postgres for the private cluster: %w", err)
	}
	uid, _ := strconv.Atoi(account.Uid)
	gid, _ := strconv.Atoi(account.Gid)
	pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)} // #nosec G115 -- user ids from the passwd database fit in uint32
	for _, path := range []string{pg.dir, pg.dataDir} {
		if err := os.Chown(path, uid, gid); err != nil {
			return fmt.Errorf("hand %s to the postgres user: %w", path, err)
		}
	}
	// The postgres user must pass through the parent folder, which the
	// caller created with mode 0700; it still cannot list it.
	if err := os.Chmod(filepath.Dir(pg.dir), 0o711); err != nil { // #nosec G302 -- search permission only, so the cluster's user can reach its own folder
		return fmt.Errorf("let the postgres user reach %s: %w", pg.dir, err)
	}
	return nil
}

// run runs a PostgreSQL program as the cluster's user.
func (pg *Postgres) run(ctx context.Context, program string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, pgctlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(pg.bin, program), args...) // #nosec G204 -- PostgreSQL's own programs with arguments the suite builds
	cmd.Env = []string{"PATH=" + pg.bin + ":/usr/bin:/bin", "LC_ALL=C"}
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", program, args, err, out)
	}
	return nil
}

// Start starts the server and waits until it accepts connections.
func (pg *Postgres) Start(ctx context.Context) error {
	options := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", pg.port, pg.dir)
	return pg.run(ctx, "pg_ctl", "-D", pg.dataDir, "-l", filepath.Join(pg.dir, "postgresql.log"), "-o", options, "-w", "-t", "60", "start")
}

// StopImmediate stops the server in immediate mode: every backend exits
// at once and the next start runs crash recovery.
func (pg *Postgres) StopImmediate(ctx context.Context) error {
	return pg.run(ctx, "pg_ctl", "-D", pg.dataDir, "-m", "immediate", "-w", "-t", "60", "stop")
}

// Stop stops the server in fast mode.
func (pg *Postgres) Stop(ctx context.Context) error {
	return pg.run(ctx, "pg_ctl", "-D", pg.dataDir, "-m", "fast", "-w", "-t", "60", "stop")
}

// URL returns the URL of database name as user, over TCP on 127.0.0.1.
func (pg *Postgres) URL(user, name string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(user),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(pg.port)),
		Path:     "/" + name,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func (pg *Postgres) createDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, pg.URL(Owner, "postgres"))
	if err != nil {
		return fmt.Errorf("connect to the private cluster: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// The name is quoted with pgx.Identifier.Sanitize.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
