// Package verify checks the private database against the responses the
// workload's clients received: every acknowledged operation applied exactly once,
// nothing rejected applied, balances that match, and the ledger's own
// invariants.
package verify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/chaos/internal/workload"
)

// Report is the outcome of the checks of one scenario.
type Report struct {
	// Lost counts acknowledged operations, and payee credits of
	// succeeded payments, that the database does not hold.
	Lost int
	// Duplicated counts effects applied more than once: extra rows for
	// one key, rows that no operation explains, extra PaymentIntents and
	// replays that returned another resource.
	Duplicated int
	// Violations describe every failed check.
	Violations []string
}

func (r *Report) violate(format string, args ...any) {
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

// Input holds the plan and the counters that Check compares with the
// database.
type Input struct {
	Plan *workload.Plan
	// ChargesCreated is how many PaymentIntents the fake Stripe created
	// during the scenario.
	ChargesCreated int
}

// Check runs every check of one scenario on conn, which must be the
// database owner's connection.
func Check(ctx context.Context, conn *pgx.Conn, in Input) (Report, error) {
	var r Report
	ops := in.Plan.All()
	for _, op := range ops {
		r.Duplicated += op.Duplicates
		for _, v := range op.Violations {
			r.violate("%s", v)
		}
		if op.Outcome != workload.Acknowledged && op.Outcome != workload.Rejected {
			r.violate("%s %s is still %s after the replays: last response HTTP %d %s %s", op.Kind, op.Key, op.Outcome, op.Status, op.Code, op.Detail)
		}
	}

	payments, err := checkPayments(ctx, conn, in, &r)
	if err != nil {
		return r, err
	}
	if err := checkTransactions(ctx, conn, in.Plan, payments, &r); err != nil {
		return r, err
	}
	if err := checkHolds(ctx, conn, in.Plan, &r); err != nil {
		return r, err
	}
	if err := checkBalances(ctx, conn, in.Plan, &r); err != nil {
		return r, err
	}
	return r, nil
}
