package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// process is one process of the stack whose CPU time the harness reads
// from its admin endpoint's /metrics.
type process struct {
	name, adminURL string
	// wallet marks a wallet service, whose transaction retries and commits
	// are read too.
	wallet bool
}

// snapshot is the CPU time and wallet counters of the stack's processes at
// one moment.
type snapshot struct {
	// cpu is CPU seconds by process name; PostgreSQL and Redis included
	// when they could be read.
	cpu map[string]float64
	// retries and commits are summed over the wallet services: serialization
	// failures retried, and operations posted.
	retries, commits float64
}

// snapshot reads every process' counters. A process whose /metrics
// request fails is left out, so its column stays empty rather than wrong.
func (b *bench) snapshot(ctx context.Context) snapshot {
	s := snapshot{cpu: map[string]float64{}}
	for _, p := range b.opts.processes {
		body, err := b.get(ctx, p.adminURL+"/metrics")
		if err != nil {
			continue
		}
		s.cpu[p.name] = metricSum(body, "process_cpu_seconds_total", "")
		if p.wallet {
			s.retries += metricSum(body, "ledger_pgtx_retries_total", "")
			s.commits += metricSum(body, "ledger_wallet_operations_total", `outcome="posted"`)
		}
	}
	if v, ok := postgresCPU(); ok {
		s.cpu["postgres"] = v
	}
	if v, ok := redisCPU(ctx, b.opts.redisAddr); ok {
		s.cpu["redis"] = v
	}
	return s
}

func (b *bench) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// metricSum adds up every sample of name in a Prometheus text exposition
// whose labels contain label (any sample when label is empty).
func metricSum(body []byte, name, label string) float64 {
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		rest, found := strings.CutPrefix(line, name)
		if !found || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if label != "" && !strings.Contains(rest, label) {
			continue
		}
		fields := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(fields) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(fields[0], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat; Linux
// fixes it at 100 on every architecture Go supports.
const clockTicks = 100

// postgresCPU sums the CPU time of every process named postgres,
// including what exited backends left in their parent's children times.
// It reads /proc, so it reports false off Linux.
func postgresCPU() (float64, bool) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return 0, false
	}
	var ticks int64
	for _, path := range stats {
		raw, err := os.ReadFile(path) // #nosec G304 -- path is a /proc/PID/stat file that filepath.Glob listed
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
		if open < 0 || end < open || string(raw[open+1:end]) != "postgres" {
			continue
		}
		// After the name: state is field 3, utime, stime, cutime and
		// cstime are fields 14 to 17.
		fields := strings.Fields(string(raw[end+1:]))
		if len(fields) < 15 {
			continue
		}
		for _, f := range fields[11:15] {
			n, _ := strconv.ParseInt(f, 10, 64)
			ticks += n
		}
	}
	return float64(ticks) / clockTicks, true
}

// redisCPU reads Redis' own account of its CPU time.
func redisCPU(ctx context.Context, addr string) (float64, bool) {
	host, port, _ := strings.Cut(addr, ":")
	out, err := toolCommand(ctx, "redis-cli", "-h", host, "-p", port, "INFO", "cpu").Output()
	if err != nil {
		return 0, false
	}
	var sum float64
	for _, line := range strings.Split(string(out), "\n") {
		key, value, _ := strings.Cut(strings.TrimSpace(line), ":")
		if key == "used_cpu_sys" || key == "used_cpu_user" {
			v, _ := strconv.ParseFloat(value, 64)
			sum += v
		}
	}
	return sum, true
}

// cost fills r's CPU seconds per 1,000 operations and serialization
// retries per commit from the snapshots taken around it.
func (r *result) cost(before, after snapshot) {
	ops := float64(r.OK + r.Rejected + r.Busy + r.Errors)
	if ops == 0 {
		return
	}
	r.CPUPerThousand = map[string]float64{}
	for name, end := range after.cpu {
		if start, ok := before.cpu[name]; ok {
			r.CPUPerThousand[name] = (end - start) / ops * 1000
		}
	}
	if commits := after.commits - before.commits; commits > 0 {
		perCommit := (after.retries - before.retries) / commits
		r.RetriesPerCommit = &perCommit
	}
}
