package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/advancia-pay/ledger/services/wallet/migrations"
)

// floors measures, in this run, what the workloads are compared with: a
// no-op gRPC call direct and through the gateway, pgbench's TPC-B-like
// transaction and the wallet's own transfer SQL, and Redis running the
// lock's and the rate limiter's commands.
func (b *bench) floors(ctx context.Context) error {
	b.closed(ctx, "floor: no-op gRPC (health check)", "gRPC", 8, b.opts.step()/2, func(ctx context.Context, _, _ int) outcome {
		_, err := b.health.Check(ctx, &healthpb.HealthCheckRequest{})
		return classify(err)
	})
	b.closed(ctx, "floor: no-op gRPC through the gateway (/readyz)", "REST", 8, b.opts.step()/2, func(ctx context.Context, _, _ int) outcome {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.opts.gatewayAdminURL+"/readyz", nil)
		return b.restCall(req)
	})

	b.pgbenchTPCB(ctx)
	b.pgbenchTransfer(ctx)
	b.redisBenchmarks(ctx)
	return nil
}

// toolCommand returns the command that runs a local client program, such as
// psql, pgbench or redis-cli, with args.
func toolCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, args...) // #nosec G204 -- the program and its arguments come from this harness and the flags its operator sets
}

// postgresAdmin contains the connection flags of the pgbench floors: the
// local server as the postgres superuser, which `make run` uses too.
var postgresAdmin = []string{"-h", "127.0.0.1", "-U", "postgres"}

// scratchDatabase creates an empty database for a floor and returns a
// func that drops it.
func scratchDatabase(ctx context.Context, name string) (func(), error) {
	_ = toolCommand(ctx, "dropdb", append(postgresAdmin, "--if-exists", name)...).Run()
	if out, err := toolCommand(ctx, "createdb", append(postgresAdmin, name)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("createdb: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return func() {
		_ = toolCommand(context.Background(), "dropdb", append(postgresAdmin, "--if-exists", name)...).Run()
	}, nil
}

// pgbenchTPCB runs the TPC-B-like script on a scratch database. A failure
// is reported as a check line, not fatal: the floor is a reference.
func (b *bench) pgbenchTPCB(ctx context.Context) {
	const db, name = "ledgerbench_tpcb", "floor: pgbench TPC-B-like"
	drop, err := scratchDatabase(ctx, db)
	if err != nil {
		b.checks = append(b.checks, name+" not run: "+err.Error())
		return
	}
	defer drop()
	if out, err := toolCommand(ctx, "pgbench", append(postgresAdmin, "-i", "-q", "-s", "1", db)...).CombinedOutput(); err != nil {
		b.checks = append(b.checks, fmt.Sprintf("%s not run: pgbench -i: %v: %s", name, err, strings.TrimSpace(string(out))))
		return
	}
	b.pgbench(ctx, name, nil, db)
}

// pgbenchTransfer runs bench/pgbench/transfer.sql, the wallet's own
// transfer statements at SERIALIZABLE, on a scratch database that holds
// the wallet schema and as many wallets as the uniform workloads.
func (b *bench) pgbenchTransfer(ctx context.Context) {
	const db, name = "ledgerbench_transfer", "floor: pgbench wallet transfer SQL"
	drop, err := scratchDatabase(ctx, db)
	if err != nil {
		b.checks = append(b.checks, name+" not run: "+err.Error())
		return
	}
	defer drop()
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", db)
	if err := migrations.Up(ctx, url); err != nil {
		b.checks = append(b.checks, fmt.Sprintf("%s not run: migrate: %v", name, err))
		return
	}
	wallets := strconv.Itoa(b.opts.wallets())
	seed := toolCommand(ctx, "psql", append(postgresAdmin, "-q", "-v", "ON_ERROR_STOP=1", "-v", "wallets="+wallets,
		"-f", filepath.Join(b.opts.repo, "bench/pgbench/setup.sql"), db)...)
	seed.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+migrations.Schema)
	if out, err := seed.CombinedOutput(); err != nil {
		b.checks = append(b.checks, fmt.Sprintf("%s not run: seed: %v: %s", name, err, strings.TrimSpace(string(out))))
		return
	}
	b.pgbench(ctx, name, []string{"-n", "-M", "prepared", "--max-tries", "10", "-D", "wallets=" + wallets,
		"-f", filepath.Join(b.opts.repo, "bench/pgbench/transfer.sql")}, db)
}

var (
	tpsPattern     = regexp.MustCompile(`tps = ([0-9.]+)`)
	retriesPattern = regexp.MustCompile(`total number of retries: ([0-9]+)`)
	donePattern    = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
	failedPattern  = regexp.MustCompile(`number of failed transactions: ([0-9]+)`)
)

// pgbench runs pgbench with args on db at concurrency 8 for one step and
// records its rate, and its retries when it reports them.
func (b *bench) pgbench(ctx context.Context, name string, args []string, db string) {
	secs := strconv.Itoa(int(b.opts.step().Seconds()))
	args = append(append(append([]string{}, postgresAdmin...), "-c", "8", "-j", "2", "-T", secs), append(args, db)...)
	cmd := toolCommand(ctx, "pgbench", args...)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+migrations.Schema+",public")
	out, err := cmd.CombinedOutput()
	tps := number(tpsPattern, out)
	if err != nil || tps == nil {
		b.checks = append(b.checks, fmt.Sprintf("%s failed: %v: %s", name, err, lastLines(out, 3)))
		return
	}
	r := result{Workload: name, Transport: "libpq", Mode: "closed", Concurrency: 8, Rate: *tps}
	if done := number(donePattern, out); done != nil {
		r.OK = int64(*done)
	}
	if failed := number(failedPattern, out); failed != nil {
		r.Errors = int64(*failed)
	}
	if retries := number(retriesPattern, out); retries != nil && r.OK > 0 {
		perCommit := *retries / float64(r.OK)
		r.RetriesPerCommit = &perCommit
	}
	b.results = append(b.results, r)
}

// number returns the first group of pattern in out, or nil.
func number(pattern *regexp.Regexp, out []byte) *float64 {
	m := pattern.FindSubmatch(out)
	if m == nil {
		return nil
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return nil
	}
	return &v
}

func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " / ")
}

// redisBenchmarks measures, with redis-benchmark, the commands the wallet
// and the rate limiter send per request: the lock's SET NX PX, its release
// script, and the rate limiter's script for one tier far above the load.
// Keys are random among 1,000 under ledgerbench: and expire by themselves.
func (b *bench) redisBenchmarks(ctx context.Context) {
	b.redisBenchmark(ctx, "floor: Redis SET NX PX (lock)",
		"SET", "ledgerbench:lock:__rand_int__", "token", "NX", "PX", "5000")
	release, err := b.loadScript(ctx, "pkg/lock/release.lua")
	if err != nil {
		b.checks = append(b.checks, "floor: lock release script not run: "+err.Error())
	} else {
		b.redisBenchmark(ctx, "floor: Redis lock release script", "EVALSHA", release, "1", "ledgerbench:lock:__rand_int__", "token")
	}
	window, err := b.loadScript(ctx, "services/ratelimit/internal/limiter/window.lua")
	if err != nil {
		b.checks = append(b.checks, "floor: rate limit script not run: "+err.Error())
		return
	}
	// One tier: 1 hit, not a dry run, 1,000,000 per 1 s window.
	b.redisBenchmark(ctx, "floor: Redis rate limit script (one tier)", "EVALSHA", window, "2",
		"ledgerbench:rl:__rand_int__", "ledgerbench:rl:seq", "1", "0", "1000000", "1000000")
	_ = toolCommand(ctx, "redis-cli", b.redisArgs("DEL", "ledgerbench:rl:seq")...).Run()
}

func (b *bench) redisArgs(args ...string) []string {
	host, port, _ := strings.Cut(b.opts.redisAddr, ":")
	return append([]string{"-h", host, "-p", port}, args...)
}

// loadScript loads the Lua script at path (relative to the repository)
// into Redis' script cache and returns its SHA-1.
func (b *bench) loadScript(ctx context.Context, path string) (string, error) {
	src, err := os.ReadFile(filepath.Join(b.opts.repo, path)) // #nosec G304 -- path is a script of this repository, under the -repo flag
	if err != nil {
		return "", err
	}
	out, err := toolCommand(ctx, "redis-cli", b.redisArgs("SCRIPT", "LOAD", string(src))...).CombinedOutput()
	sha := strings.TrimSpace(string(out))
	if err != nil || len(sha) != 40 {
		return "", fmt.Errorf("SCRIPT LOAD: %v: %s", err, sha)
	}
	return sha, nil
}

var rpsPattern = regexp.MustCompile(`([0-9.]+) requests per second`)

// redisBenchmark runs one command 20,000 times from 8 connections.
func (b *bench) redisBenchmark(ctx context.Context, name string, command ...string) {
	args := b.redisArgs("-n", "20000", "-c", "8", "-r", "1000", "-q")
	out, err := toolCommand(ctx, "redis-benchmark", append(args, command...)...).CombinedOutput()
	rps := number(rpsPattern, out)
	if err != nil || rps == nil {
		b.checks = append(b.checks, fmt.Sprintf("%s not run: %v: %s", name, err, lastLines(out, 2)))
		return
	}
	b.results = append(b.results, result{Workload: name, Transport: "RESP", Mode: "closed", Concurrency: 8, Rate: *rps})
}

// verify runs `ledgerctl verify` and fails the run when an invariant broke.
func (b *bench) verify(ctx context.Context, after string) error {
	out, err := toolCommand(ctx, b.opts.ledgerctl, "verify").CombinedOutput()
	if err != nil {
		return fmt.Errorf("invariants broken after %s:\n%s", after, out)
	}
	b.checks = append(b.checks, fmt.Sprintf("after %s: %s", after, strings.TrimSpace(string(out))))
	return nil
}

// write saves the JSON summary and prints the Markdown tables.
func (b *bench) write() error {
	summary := map[string]any{"at": time.Now().UTC().Format(time.RFC3339), "full": b.opts.full, "results": b.results, "checks": b.checks, "ratios": b.ratios()}
	raw, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(b.opts.out, raw, 0o644); err != nil { // #nosec G306 -- benchmark results hold no secret and are meant to be shared
		return err
	}
	b.printResults()
	fmt.Println()
	b.printCPU()
	fmt.Println()
	ratios := b.ratios()
	for _, name := range slices.Sorted(maps.Keys(ratios)) {
		fmt.Printf("- %s: %.3f\n", name, ratios[name])
	}
	for _, c := range b.checks {
		fmt.Println("-", c)
	}
	return nil
}

func (b *bench) printResults() {
	fmt.Println("| workload | transport | mode | conc. / offered | achieved/s | ok | rejected | busy | errors | p50 ms | p90 ms | p99 ms | max ms | retries/commit |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range b.results {
		load := strconv.Itoa(r.Concurrency)
		if r.OfferedRate > 0 {
			load = fmt.Sprintf("%.0f/s", r.OfferedRate)
		}
		retries := ""
		if r.RetriesPerCommit != nil {
			retries = fmt.Sprintf("%.2f", *r.RetriesPerCommit)
		}
		// Floors measured by external tools have no latencies or counts.
		counts := fmt.Sprintf("%d | %d | %d | %d", r.OK, r.Rejected, r.Busy, r.Errors)
		latencies := fmt.Sprintf("%.2f | %.2f | %.2f | %.2f", r.P50, r.P90, r.P99, r.Max)
		if r.Max == 0 {
			latencies = " |  |  | "
			if r.OK == 0 {
				counts = " |  |  | "
			}
		}
		fmt.Printf("| %s | %s | %s | %s | %.0f | %s | %s | %s |\n",
			r.Workload, r.Transport, r.Mode, load, r.Rate, counts, latencies, retries)
	}
}

// printCPU prints CPU seconds per 1,000 operations, a row per measured
// step and a column per process.
func (b *bench) printCPU() {
	var names []string
	for _, p := range b.opts.processes {
		names = append(names, p.name)
	}
	names = append(names, "postgres", "redis")
	fmt.Printf("| CPU s per 1,000 ops | %s |\n", strings.Join(names, " | "))
	fmt.Printf("|---%s|\n", strings.Repeat("|---", len(names)))
	for _, r := range b.results {
		if r.CPUPerThousand == nil {
			continue
		}
		cells := make([]string, len(names))
		for i, name := range names {
			if v, ok := r.CPUPerThousand[name]; ok {
				cells[i] = fmt.Sprintf("%.2f", v)
			}
		}
		label := r.Workload
		if r.Transport != "gRPC" || r.Concurrency != 8 || r.OfferedRate > 0 {
			label = fmt.Sprintf("%s (%s, %s)", r.Workload, r.Transport, b.load(r))
		}
		fmt.Printf("| %s | %s |\n", label, strings.Join(cells, " | "))
	}
}

func (b *bench) load(r result) string {
	if r.OfferedRate > 0 {
		return fmt.Sprintf("%.0f/s", r.OfferedRate)
	}
	return fmt.Sprintf("c=%d", r.Concurrency)
}

// ratios compares steps measured in this run.
func (b *bench) ratios() map[string]float64 {
	find := func(workload, transport string, concurrency int) *result {
		for i := range b.results {
			r := &b.results[i]
			if r.Workload == workload && r.Transport == transport && (concurrency == 0 || r.Concurrency == concurrency) {
				return r
			}
		}
		return nil
	}
	pairs := []struct {
		name     string
		num, den *result
		latency  bool
	}{
		{"transfers per second / pgbench TPC-B-like TPS", find("W1 transfers", "gRPC", 8), find("floor: pgbench TPC-B-like", "libpq", 0), false},
		{"transfers per second / pgbench wallet transfer SQL TPS", find("W1 transfers", "gRPC", 8), find("floor: pgbench wallet transfer SQL", "libpq", 0), false},
		{"REST / gRPC transfer rate", find("W1 transfers", "REST", 8), find("W1 transfers", "gRPC", 8), false},
		{"hot / uniform transfer rate", find("W2 hot wallet", "gRPC", 8), find("W1 transfers", "gRPC", 8), false},
		{"replay p50 / fresh p50", find("W3 sequential replays", "gRPC", 0), find("W3 fresh keys", "gRPC", 0), true},
		{"with limiter / without limiter read rate", find("W4 reads, limiter far above load", "REST", 8), find("W4 reads, no limiter", "REST", 8), false},
		{"default / baseline wallet transfer rate", find("W1 transfers", "gRPC", 8), find("W1 transfers, baseline wallet", "gRPC", 8), false},
	}
	out := map[string]float64{}
	for _, p := range pairs {
		if p.num == nil || p.den == nil {
			continue
		}
		num, den := p.num.Rate, p.den.Rate
		if p.latency {
			num, den = p.num.P50, p.den.P50
		}
		if den > 0 {
			out[p.name] = num / den
		}
	}
	return out
}
