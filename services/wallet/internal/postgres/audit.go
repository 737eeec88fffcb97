package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
)

// auditEvent is one entry of a wallet's audit chain.
type auditEvent struct {
	walletID      string
	action        string
	transactionID string
	holdID        string
	// amount is signed: negative when money or reservation left the
	// wallet's available balance.
	amount int64
}

// appendAuditSQL appends an event to its wallet's hash chain. The wallet
// row, which the transaction holds locked, stores the chain's head, so the
// statement reads the previous hash from it and moves the head forward.
// The hash comes from audit_event_digest, the one definition of the chain,
// which the verifier also uses.
//
// The event names its actor by principal id, never by subject, so that
// erasing a person's subject leaves the chain intact. A subject's first
// event creates its principal. When a concurrent transaction creates the
// same principal first, the insert fails with a serialization failure
// under SERIALIZABLE, so the transaction is retried and then finds it.
const appendAuditSQL = `
	WITH new_principal AS (
		INSERT INTO principals (id, subject, created_at) VALUES (gen_random_uuid(), $3, $2)
		ON CONFLICT (subject) DO NOTHING
		RETURNING id
	),
	principal AS (
		SELECT id FROM new_principal
		UNION ALL
		SELECT id FROM principals WHERE subject = $3
	),
	head AS (SELECT audit_seq, audit_hash FROM wallets WHERE id = $1),
	event AS (
		INSERT INTO audit_events (wallet_id, seq, prev_hash, hash, occurred_at, actor, action,
			transaction_id, hold_id, amount, currency, request_id)
		SELECT $1, head.audit_seq + 1, head.audit_hash,
			audit_event_digest(head.audit_hash, $1, head.audit_seq + 1, $2, principal.id::text, $4, $5, $6, $7, $8, $9),
			$2, principal.id::text, $4, $5, $6, $7, $8, $9
		FROM head CROSS JOIN principal
		RETURNING wallet_id, seq, hash
	)
	UPDATE wallets w SET audit_seq = event.seq, audit_hash = event.hash
	FROM event WHERE w.id = event.wallet_id`

// queueAudit adds the statement that appends ev to pb.
func (b *batch) queueAudit(pb *pgx.Batch, op ledger.Operation, ev auditEvent) {
	pb.Queue(appendAuditSQL, ev.walletID, b.now, op.Actor, ev.action,
		nullable(ev.transactionID), nullable(ev.holdID), ev.amount, op.Currency, op.RequestID)
}
