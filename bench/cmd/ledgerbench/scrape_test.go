package main

import "testing"

const exposition = `# HELP ledger_wallet_operations_total Money-moving operations.
# TYPE ledger_wallet_operations_total counter
ledger_wallet_operations_total{outcome="posted",type="transfer"} 12
ledger_wallet_operations_total{outcome="posted",type="debit"} 3
ledger_wallet_operations_total{outcome="replayed",type="debit"} 40
ledger_wallet_operations_total_created{outcome="posted",type="debit"} 1.7e+09
process_cpu_seconds_total 4.25
`

func TestMetricSum(t *testing.T) {
	cases := []struct {
		name, metric, label string
		want                float64
	}{
		{"all series", "ledger_wallet_operations_total", "", 55},
		{"label filter", "ledger_wallet_operations_total", `outcome="posted"`, 15},
		{"unlabelled", "process_cpu_seconds_total", "", 4.25},
		{"absent", "ledger_pgtx_retries_total", "", 0},
	}
	for _, c := range cases {
		if got := metricSum([]byte(exposition), c.metric, c.label); got != c.want {
			t.Errorf("%s: metricSum(%s, %q) = %v, want %v", c.name, c.metric, c.label, got, c.want)
		}
	}
}

func TestResultCost(t *testing.T) {
	r := result{OK: 1500, Rejected: 300, Busy: 150, Errors: 50}
	before := snapshot{cpu: map[string]float64{"wallet": 10, "redis": 1}, retries: 4, commits: 100}
	after := snapshot{cpu: map[string]float64{"wallet": 14, "redis": 1.5, "postgres": 9}, retries: 154, commits: 1600}
	r.cost(before, after)

	if got := r.CPUPerThousand["wallet"]; got != 2 {
		t.Errorf("wallet CPU per 1,000 ops = %v, want 2", got)
	}
	if got := r.CPUPerThousand["redis"]; got != 0.25 {
		t.Errorf("redis CPU per 1,000 ops = %v, want 0.25", got)
	}
	if _, ok := r.CPUPerThousand["postgres"]; ok {
		t.Error("postgres has a CPU figure although the first snapshot missed it")
	}
	if r.RetriesPerCommit == nil || *r.RetriesPerCommit != 0.1 {
		t.Errorf("retries per commit = %v, want 0.1", r.RetriesPerCommit)
	}
}
