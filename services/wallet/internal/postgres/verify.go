package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Violation is one broken ledger invariant, naming the rows involved.
type Violation struct {
	// Check names the invariant, such as "audit chain".
	Check string
	// Detail names the offending rows and values.
	Detail string
}

func (v Violation) String() string {
	return v.Check + ": " + v.Detail
}

// invariant is one check: a query whose every row is a violation, and the
// format of its detail.
type invariant struct {
	name   string
	query  string
	detail func(values []any) string
}

// invariants are checked in order. Each query returns the offending rows,
// at most maxViolationsPerCheck of them.
var invariants = []invariant{
	{
		name: "unbalanced transaction",
		query: `SELECT transaction_id::text, currency, sum(amount)::bigint FROM postings
			GROUP BY transaction_id, currency HAVING sum(amount) <> 0 ORDER BY 1 LIMIT $1`,
		detail: func(v []any) string {
			return fmt.Sprintf("postings of transaction %s sum to %d %s", v[0], v[2], v[1])
		},
	},
	{
		name: "unbalanced currency",
		query: `SELECT currency, sum(amount)::bigint FROM postings
			GROUP BY currency HAVING sum(amount) <> 0 ORDER BY 1 LIMIT $1`,
		detail: func(v []any) string { return fmt.Sprintf("all postings in %s sum to %d", v[0], v[1]) },
	},
	{
		name: "balance differs from postings",
		query: `SELECT w.id::text, w.balance, coalesce(p.total, 0)::bigint FROM wallets w
			LEFT JOIN (SELECT wallet_id, sum(amount) AS total FROM postings GROUP BY wallet_id) p ON p.wallet_id = w.id
			WHERE w.kind = 'user' AND w.balance <> coalesce(p.total, 0) ORDER BY 1 LIMIT $1`,
		detail: func(v []any) string {
			return fmt.Sprintf("wallet %s has balance %d but its postings sum to %d", v[0], v[1], v[2])
		},
	},
	{
		name:   "negative user wallet",
		query:  `SELECT id::text, balance FROM wallets WHERE kind = 'user' AND balance < 0 ORDER BY 1 LIMIT $1`,
		detail: func(v []any) string { return fmt.Sprintf("wallet %s has balance %d", v[0], v[1]) },
	},
	{
		name: "holds exceed balance",
		query: `SELECT w.id::text, w.balance, sum(h.amount - h.captured_amount)::bigint FROM wallets w
			JOIN holds h ON h.wallet_id = w.id AND h.status = 'active'
				AND (h.expires_at IS NULL OR h.expires_at > clock_timestamp())
			GROUP BY w.id, w.balance HAVING sum(h.amount - h.captured_amount) > w.balance ORDER BY 1 LIMIT $1`,
		detail: func(v []any) string {
			return fmt.Sprintf("wallet %s has balance %d but active holds of %d", v[0], v[1], v[2])
		},
	},
	{
		name: "over-reversed transaction",
		query: `SELECT t.id::text, t.amount, sum(r.amount)::bigint FROM transactions t
			JOIN transactions r ON r.reverses_transaction_id = t.id
			GROUP BY t.id, t.amount HAVING sum(r.amount) > t.amount ORDER BY 1 LIMIT $1`,
		detail: func(v []any) string {
			return fmt.Sprintf("transaction %s of %d has reversals summing to %d", v[0], v[1], v[2])
		},
	},
	{
		name:  "audit chain",
		query: auditChainQuery,
		detail: func(v []any) string {
			return fmt.Sprintf("wallet %s event seq %d (id %d): %s", v[0], v[1], v[2], v[3])
		},
	},
}

// auditChainQuery returns the first broken link of each wallet's chain. A
// link is broken when an event's hash does not match its content, its
// prev_hash is not the previous event's hash, or its seq skips. A wallet
// whose stored head is not its last event is broken too.
const auditChainQuery = `
	WITH chain AS (
		SELECT e.*,
			lag(e.hash) OVER w AS expected_prev,
			coalesce(lag(e.seq) OVER w, 0) + 1 AS expected_seq
		FROM audit_events e
		WINDOW w AS (PARTITION BY e.wallet_id ORDER BY e.seq)
	),
	broken AS (
		SELECT wallet_id, seq, id,
			CASE
				WHEN seq <> expected_seq THEN 'seq ' || seq || ' follows ' || (expected_seq - 1) || ': an event is missing'
				WHEN prev_hash IS DISTINCT FROM expected_prev THEN 'prev_hash does not match the previous event''s hash'
				WHEN hash <> audit_event_digest(prev_hash, wallet_id, seq, occurred_at, actor, action,
					transaction_id, hold_id, amount, currency, request_id) THEN 'hash does not match the event''s content'
			END AS problem
		FROM chain
	),
	heads AS (
		SELECT w.id AS wallet_id, w.audit_seq AS seq, NULL::bigint AS id,
			'wallet head is seq ' || w.audit_seq || ' but the last event is seq ' || coalesce(max(e.seq), 0) AS problem
		FROM wallets w LEFT JOIN audit_events e ON e.wallet_id = w.id
		WHERE w.kind = 'user'
		GROUP BY w.id, w.audit_seq, w.audit_hash
		HAVING w.audit_seq <> coalesce(max(e.seq), 0)
			OR w.audit_hash IS DISTINCT FROM (SELECT hash FROM audit_events x WHERE x.wallet_id = w.id ORDER BY seq DESC LIMIT 1)
	)
	SELECT DISTINCT ON (wallet_id) wallet_id::text, seq, coalesce(id, 0), problem
	FROM (SELECT * FROM broken WHERE problem IS NOT NULL UNION ALL SELECT * FROM heads) b
	ORDER BY wallet_id, seq
	LIMIT $1`

// maxViolationsPerCheck bounds the report of each check.
const maxViolationsPerCheck = 20

// Verify checks every ledger invariant and returns the violations found:
// at most 20 per check, and for the audit chain only the first broken link
// of each wallet. It reads the whole ledger, so it suits a periodic job or
// an operator's command rather than a request path.
func (s *Store) Verify(ctx context.Context) ([]Violation, error) {
	// One read-only snapshot, so that the checks see the same ledger.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, translate(err, "begin verification")
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	var found []Violation
	for _, inv := range invariants {
		rows, err := tx.Query(ctx, inv.query, maxViolationsPerCheck)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", inv.name, err)
		}
		for rows.Next() {
			values, err := rows.Values()
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("check %s: %w", inv.name, err)
			}
			found = append(found, Violation{Check: inv.name, Detail: inv.detail(values)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("check %s: %w", inv.name, err)
		}
	}
	return found, nil
}
