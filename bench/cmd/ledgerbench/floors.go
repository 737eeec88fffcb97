package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// floors measures, in this run, what the workloads are compared with: a
// no-op gRPC call, the cheapest REST call through the gateway, pgbench's
// TPC-B-like transaction and Redis' own speed.
func (b *bench) floors(ctx context.Context) error {
	rec, elapsed := closedLoop(ctx, 8, b.opts.step()/2, func(ctx context.Context, _, _ int) outcome {
		_, err := b.health.Check(ctx, &healthpb.HealthCheckRequest{})
		return classify(err)
	})
	r := rec.result("floor: no-op gRPC (health check)", "gRPC", "closed", elapsed)
	r.Concurrency = 8
	b.results = append(b.results, r)

	rec, elapsed = closedLoop(ctx, 8, b.opts.step()/2, func(ctx context.Context, w, _ int) outcome {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.opts.gatewayURL+"/v1/wallets/"+b.ids[w], nil)
		req.Header.Set("Authorization", "Bearer "+b.tokens[w])
		resp, err := b.http.Do(req)
		if err != nil {
			return outcomeError
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return outcomeError
		}
		return outcomeOK
	})
	r = rec.result("floor: one read through the gateway", "REST", "closed", elapsed)
	r.Concurrency = 8
	b.results = append(b.results, r)

	b.pgbench(ctx)
	b.redisBenchmark(ctx)
	return nil
}

var tpsPattern = regexp.MustCompile(`tps = ([0-9.]+)`)

// pgbench runs the TPC-B-like script on a scratch database; its output is
// kept as a check line, and a failure is reported there, not fatal.
func (b *bench) pgbench(ctx context.Context) {
	db := "ledgerbench_pgbench"
	admin := []string{"-h", "127.0.0.1", "-U", "postgres"}
	_ = exec.CommandContext(ctx, "dropdb", append(admin, "--if-exists", db)...).Run()
	steps := [][]string{
		{"createdb", db},
		{"pgbench", "-i", "-q", "-s", "1", db},
	}
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, s[0], append(admin, s[1:]...)...).CombinedOutput(); err != nil {
			b.checks = append(b.checks, fmt.Sprintf("floor: pgbench not run (%s: %v: %s)", s[0], err, strings.TrimSpace(string(out))))
			return
		}
	}
	defer exec.Command("dropdb", append(admin, "--if-exists", db)...).Run()
	secs := strconv.Itoa(int(b.opts.step().Seconds()))
	out, err := exec.CommandContext(ctx, "pgbench", append(admin, "-c", "8", "-j", "2", "-T", secs, db)...).CombinedOutput()
	m := tpsPattern.FindSubmatch(out)
	if err != nil || m == nil {
		b.checks = append(b.checks, fmt.Sprintf("floor: pgbench failed: %v", err))
		return
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	b.results = append(b.results, result{Workload: "floor: pgbench TPC-B-like", Transport: "libpq", Mode: "closed", Concurrency: 8, Rate: tps})
}

// redisBenchmark measures the lock's SET NX PX against the local Redis.
func (b *bench) redisBenchmark(ctx context.Context) {
	out, err := exec.CommandContext(ctx, "redis-benchmark", "-h", "127.0.0.1", "-n", "20000", "-c", "8", "-q",
		"SET", "ledgerbench:lock:__rand_int__", "token", "NX", "PX", "5000").CombinedOutput()
	if err != nil {
		b.checks = append(b.checks, fmt.Sprintf("floor: redis-benchmark not run: %v", err))
		return
	}
	m := regexp.MustCompile(`([0-9.]+) requests per second`).FindSubmatch(out)
	if m == nil {
		b.checks = append(b.checks, "floor: redis-benchmark printed no rate")
		return
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	b.results = append(b.results, result{Workload: "floor: Redis SET NX PX (lock)", Transport: "RESP", Mode: "closed", Concurrency: 8, Rate: rps})
}

// verify runs `ledgerctl verify` and fails the run when an invariant broke.
func (b *bench) verify(ctx context.Context, after string) error {
	out, err := exec.CommandContext(ctx, b.opts.ledgerctl, "verify").CombinedOutput()
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
	if err := os.WriteFile(b.opts.out, raw, 0o644); err != nil {
		return err
	}
	fmt.Println("| workload | transport | mode | conc. / offered | achieved/s | ok | rejected | busy | errors | p50 ms | p90 ms | p99 ms | max ms |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range b.results {
		load := strconv.Itoa(r.Concurrency)
		if r.OfferedRate > 0 {
			load = fmt.Sprintf("%.0f/s", r.OfferedRate)
		}
		fmt.Printf("| %s | %s | %s | %s | %.0f | %d | %d | %d | %d | %.2f | %.2f | %.2f | %.2f |\n",
			r.Workload, r.Transport, r.Mode, load, r.Rate, r.OK, r.Rejected, r.Busy, r.Errors, r.P50, r.P90, r.P99, r.Max)
	}
	fmt.Println()
	for name, v := range b.ratios() {
		fmt.Printf("- %s: %.3f\n", name, v)
	}
	for _, c := range b.checks {
		fmt.Println("-", c)
	}
	return nil
}

// ratios compares workloads measured in this run.
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
	out := map[string]float64{}
	w1, rest, hot := find("W1 transfers", "gRPC", 8), find("W1 transfers", "REST", 8), find("W2 hot wallet", "gRPC", 8)
	pg, fresh, replay := find("floor: pgbench TPC-B-like", "libpq", 0), find("W3 fresh keys", "gRPC", 0), find("W3 sequential replays", "gRPC", 0)
	if w1 != nil && pg != nil && pg.Rate > 0 {
		out["transfers per second / pgbench TPS"] = w1.Rate / pg.Rate
	}
	if w1 != nil && rest != nil && w1.Rate > 0 {
		out["REST / gRPC transfer rate"] = rest.Rate / w1.Rate
	}
	if w1 != nil && hot != nil && w1.Rate > 0 {
		out["hot / uniform transfer rate"] = hot.Rate / w1.Rate
	}
	if fresh != nil && replay != nil && fresh.P50 > 0 {
		out["replay p50 / fresh p50"] = replay.P50 / fresh.P50
	}
	return out
}
