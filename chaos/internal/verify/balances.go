package verify

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/chaos/internal/workload"
)

// checkBalances compares each wallet of the plan with the sum of what its
// acknowledged operations moved.
func checkBalances(ctx context.Context, conn *pgx.Conn, plan *workload.Plan, r *Report) error {
	want := map[string]int64{}
	for _, id := range plan.WalletIDs() {
		want[id] = 0
	}
	for _, op := range plan.All() {
		for wallet, delta := range op.Effects() {
			want[wallet] += delta
		}
	}

	rows, err := conn.Query(ctx, `SELECT id::text, balance FROM wallet.wallets WHERE id = ANY($1::uuid[])`, plan.WalletIDs())
	if err != nil {
		return fmt.Errorf("read balances: %w", err)
	}
	var id string
	var balance int64
	_, err = pgx.ForEachRow(rows, []any{&id, &balance}, func() error {
		if balance != want[id] {
			r.violate("wallet %s has balance %d, the acknowledged operations give %d", id, balance, want[id])
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read balances: %w", err)
	}
	return nil
}

// invariantQueries each return rows that break a ledger invariant, over
// the whole database.
var invariantQueries = map[string]string{
	"user wallet balance differs from its postings": `SELECT w.id::text || ' balance ' || w.balance || ', postings ' || COALESCE(sum(p.amount), 0)
		FROM wallet.wallets w LEFT JOIN wallet.postings p ON p.wallet_id = w.id
		WHERE w.kind = 'user' GROUP BY w.id, w.balance HAVING w.balance <> COALESCE(sum(p.amount), 0) LIMIT 10`,
	"transaction postings do not sum to zero": `SELECT transaction_id::text || ' ' || currency || ' sums to ' || sum(amount)
		FROM wallet.postings GROUP BY transaction_id, currency HAVING sum(amount) <> 0 LIMIT 10`,
	"currency postings do not sum to zero": `SELECT currency || ' sums to ' || sum(amount)
		FROM wallet.postings GROUP BY currency HAVING sum(amount) <> 0 LIMIT 10`,
	"negative user wallet": `SELECT id::text || ' balance ' || balance FROM wallet.wallets
		WHERE kind = 'user' AND balance < 0 LIMIT 10`,
}

// Invariants checks the whole database: balances equal their postings,
// postings sum to zero per transaction and per currency, no user wallet is
// negative, and `ledgerctl verify` passes.
func Invariants(ctx context.Context, conn *pgx.Conn, ledgerctl, walletDatabaseURL string) ([]string, error) {
	var violations []string
	for name, query := range invariantQueries {
		rows, err := conn.Query(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", name, err)
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", name, err)
		}
		for _, f := range found {
			violations = append(violations, name+": "+f)
		}
	}

	cmd := exec.CommandContext(ctx, ledgerctl, "verify") // #nosec G204 -- the ledgerctl the suite built
	cmd.Env = []string{"WALLET_DATABASE_URL=" + walletDatabaseURL}
	if out, err := cmd.CombinedOutput(); err != nil {
		violations = append(violations, fmt.Sprintf("ledgerctl verify failed (%v): %s", err, strings.TrimSpace(string(out))))
	}
	return violations, nil
}
