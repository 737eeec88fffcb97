-- Personal identifiers stay out of the audit chain. The chain names who
-- acted by an opaque principal id; principals maps it to the subject that
-- the identity provider issued, and erasing a person removes that
-- mapping, so the chain, which must never change, holds nothing personal.
CREATE TABLE principals (
    id          uuid PRIMARY KEY,
    -- NULL once erased.
    subject     text UNIQUE CHECK (length(subject) BETWEEN 1 AND 255),
    created_at  timestamptz NOT NULL,
    erased_at   timestamptz,
    CONSTRAINT principals_erased CHECK ((subject IS NULL) = (erased_at IS NOT NULL))
);

-- Exports and erasures of personal data, written by ledgerctl users.
CREATE TABLE privacy_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    action        text NOT NULL CHECK (action IN ('export', 'erase')),
    -- NULL for an export of a subject the ledger never saw.
    principal_id  uuid REFERENCES principals (id),
    -- Who ran the command, as given to it.
    operator      text NOT NULL CHECK (length(operator) BETWEEN 1 AND 255),
    -- Counts of the records exported or changed, by table.
    counts        jsonb NOT NULL
);

CREATE TRIGGER privacy_events_append_only BEFORE UPDATE OR DELETE ON privacy_events
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER privacy_events_no_truncate BEFORE TRUNCATE ON privacy_events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();

-- Re-chain the existing events with principal ids in place of subjects.
INSERT INTO principals (id, subject, created_at)
SELECT gen_random_uuid(), actor, min(occurred_at) FROM audit_events GROUP BY actor;

ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;

DO $$
DECLARE
    ev record;
    prev bytea;
    last_wallet uuid;
BEGIN
    FOR ev IN
        SELECT e.id, e.wallet_id, e.seq, e.occurred_at, p.id::text AS actor, e.action, e.transaction_id,
            e.hold_id, e.amount, e.currency, e.request_id
        FROM audit_events e JOIN principals p ON p.subject = e.actor
        ORDER BY e.wallet_id, e.seq
    LOOP
        IF last_wallet IS DISTINCT FROM ev.wallet_id THEN
            prev := NULL;
            last_wallet := ev.wallet_id;
        END IF;
        UPDATE audit_events
        SET actor = ev.actor,
            prev_hash = prev,
            hash = audit_event_digest(prev, ev.wallet_id, ev.seq, ev.occurred_at, ev.actor, ev.action,
                ev.transaction_id, ev.hold_id, ev.amount, ev.currency, ev.request_id)
        WHERE id = ev.id
        RETURNING hash INTO prev;
        UPDATE wallets SET audit_hash = prev WHERE id = ev.wallet_id AND audit_seq = ev.seq;
    END LOOP;
END;
$$;

ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;

-- Transactions stay append-only, except that an erasure, which sets
-- ledger.erasure for its own transaction, may clear the description and
-- replace the actor with a pseudonym ("erased:" and a principal id). Every
-- other column must stay as it was. Only the tables' owner holds UPDATE on
-- transactions, so the setting lets no service role change a row.
CREATE FUNCTION reject_transaction_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('ledger.erasure', true) = 'on'
        AND to_jsonb(NEW) - 'actor' - 'description' = to_jsonb(OLD) - 'actor' - 'description'
        AND (NEW.actor = OLD.actor OR NEW.actor LIKE 'erased:%') AND NEW.description = '' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'table %.% is append-only: % is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

DROP TRIGGER transactions_append_only ON transactions;
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON transactions
    FOR EACH ROW EXECUTE FUNCTION reject_transaction_change();

GRANT SELECT, INSERT ON principals TO ledger_wallet;
GRANT SELECT ON principals, privacy_events TO ledger_reporting;

ALTER TABLE principals ENABLE ROW LEVEL SECURITY;
ALTER TABLE privacy_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY wallet_service ON principals TO ledger_wallet USING (true) WITH CHECK (true);
CREATE POLICY reporting ON principals FOR SELECT TO ledger_reporting USING (true);
CREATE POLICY reporting ON privacy_events FOR SELECT TO ledger_reporting USING (true);
