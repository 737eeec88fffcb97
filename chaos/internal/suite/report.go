package suite

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/advancia-pay/ledger/chaos/internal/workload"
)

// Row is the outcome of one scenario.
type Row struct {
	Scenario, Fault string
	// Operations counts every keyed request: funding, workload, captures
	// and voids.
	Operations, Acknowledged, Rejected int
	// Unknown counts operations that got at least one response without a
	// definite outcome; Resolved counts those that ended acknowledged or
	// rejected after retries with the same key.
	Unknown, Resolved int
	Lost, Duplicated  int
	// Recovery is how long after the fault ended every process' /readyz
	// returned 200 again.
	Recovery      time.Duration
	RecoveryError string
	Duration      time.Duration
	Violations    []string
	Notes         []string
}

// Passed reports whether every check held.
func (r Row) Passed() bool {
	return len(r.Violations) == 0 && r.Lost == 0 && r.Duplicated == 0 && r.Unknown == r.Resolved
}

func (r Row) result() string {
	if r.Passed() {
		return "pass"
	}
	return "FAIL"
}

func (r *Row) count(plan *workload.Plan) {
	for _, op := range plan.All() {
		r.Operations++
		switch op.Outcome {
		case workload.Acknowledged:
			r.Acknowledged++
		case workload.Rejected:
			r.Rejected++
		}
		if op.WasUnknown {
			r.Unknown++
			if op.Outcome == workload.Acknowledged || op.Outcome == workload.Rejected {
				r.Resolved++
			}
		}
	}
}

// maxListed bounds the violations listed per scenario.
const maxListed = 15

// WriteTable writes the rows as one Markdown table, then the notes and
// violations of each scenario.
func WriteTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| scenario | fault | operations | acknowledged | rejected | unknown → resolved | lost | duplicated | time to recover | result |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range rows {
		recovery := fmt.Sprintf("%.2f s", r.Recovery.Seconds())
		if r.RecoveryError != "" {
			recovery = "not recovered"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %d → %d | %d | %d | %s | %s |\n",
			r.Scenario, r.Fault, r.Operations, r.Acknowledged, r.Rejected, r.Unknown, r.Resolved, r.Lost, r.Duplicated, recovery, r.result())
	}
	for _, r := range rows {
		if len(r.Notes) == 0 && len(r.Violations) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%s):\n", r.Scenario, r.Duration.Round(time.Second))
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
		for i, v := range r.Violations {
			if i == maxListed {
				fmt.Fprintf(w, "- ... and %d more violations\n", len(r.Violations)-maxListed)
				break
			}
			fmt.Fprintf(w, "- VIOLATION: %s\n", strings.ReplaceAll(v, "\n", " "))
		}
	}
}
