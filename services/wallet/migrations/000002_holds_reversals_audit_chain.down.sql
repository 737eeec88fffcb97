-- Development only: drops holds and the audit chain columns.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_wallet_seq,
    DROP COLUMN hold_id, DROP COLUMN seq, DROP COLUMN prev_hash, DROP COLUMN hash;
CREATE INDEX audit_events_wallet_id ON audit_events (wallet_id, id);
DROP FUNCTION audit_event_digest;
ALTER TABLE wallets DROP COLUMN audit_seq, DROP COLUMN audit_hash;
DROP INDEX transactions_reverses;
ALTER TABLE transactions
    DROP CONSTRAINT transactions_capture_hold,
    DROP CONSTRAINT transactions_reversal_target,
    DROP COLUMN hold_id,
    DROP COLUMN reverses_transaction_id,
    DROP CONSTRAINT transactions_counterparty,
    ADD CONSTRAINT transactions_counterparty CHECK ((type = 'transfer') = (counterparty_wallet_id IS NOT NULL)),
    DROP CONSTRAINT transactions_type_check,
    ADD CONSTRAINT transactions_type_check CHECK (type IN ('credit', 'debit', 'transfer'));
DROP TABLE holds;
