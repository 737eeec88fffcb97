-- Holds, reversals, and the per-wallet audit hash chain.

-- Two-phase holds reserve part of a wallet's balance. A hold is placed
-- 'active' and ends exactly once as 'captured', 'voided' or 'expired'.
CREATE TABLE holds (
    id               uuid PRIMARY KEY,
    wallet_id        uuid NOT NULL REFERENCES wallets (id),
    amount           bigint NOT NULL CHECK (amount > 0),
    captured_amount  bigint NOT NULL DEFAULT 0 CHECK (captured_amount >= 0 AND captured_amount <= amount),
    currency         char(3) NOT NULL,
    status           text NOT NULL CHECK (status IN ('active', 'captured', 'voided', 'expired')),
    description      text NOT NULL,
    -- NULL means the hold never expires. An active hold past expires_at no
    -- longer reserves funds even before the sweep marks it expired.
    expires_at       timestamptz,
    idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash     bytea NOT NULL,
    actor            text NOT NULL,
    request_id       text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT holds_idempotency_key UNIQUE (wallet_id, idempotency_key),
    CONSTRAINT holds_captured_only_when_captured CHECK (status = 'captured' OR captured_amount = 0)
);

CREATE INDEX holds_active_wallet_id ON holds (wallet_id) WHERE status = 'active';
CREATE INDEX holds_active_expires_at ON holds (expires_at) WHERE status = 'active' AND expires_at IS NOT NULL;

-- Captures and reversals are transactions too. A capture names its hold; a
-- reversal names the transaction it reverses.
ALTER TABLE transactions
    DROP CONSTRAINT transactions_type_check,
    ADD CONSTRAINT transactions_type_check CHECK (type IN ('credit', 'debit', 'transfer', 'capture', 'reversal')),
    DROP CONSTRAINT transactions_counterparty,
    ADD CONSTRAINT transactions_counterparty CHECK (type IN ('transfer', 'capture', 'reversal') OR counterparty_wallet_id IS NULL),
    ADD COLUMN hold_id uuid REFERENCES holds (id),
    ADD COLUMN reverses_transaction_id uuid REFERENCES transactions (id),
    ADD CONSTRAINT transactions_capture_hold CHECK ((type = 'capture') = (hold_id IS NOT NULL)),
    ADD CONSTRAINT transactions_reversal_target CHECK ((type = 'reversal') = (reverses_transaction_id IS NOT NULL));

CREATE INDEX transactions_reverses ON transactions (reverses_transaction_id) WHERE reverses_transaction_id IS NOT NULL;

-- Audit hash chain, one per user wallet. Each event stores the hash of the
-- wallet's previous event and its own hash over its content, and the wallet
-- row stores the head of its chain, so that a removed, altered or
-- reordered event, or a truncated tail, breaks a link the verifier finds.
ALTER TABLE wallets
    ADD COLUMN audit_seq bigint NOT NULL DEFAULT 0,
    ADD COLUMN audit_hash bytea;

ALTER TABLE audit_events
    ADD COLUMN hold_id uuid REFERENCES holds (id),
    ADD COLUMN seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;

-- audit_event_digest is the one definition of an event's hash: SHA-256 of a
-- JSON array of the previous hash (hex) and every audited field. Times are
-- taken as microseconds since the Unix epoch, so the session time zone does
-- not change the digest.
CREATE FUNCTION audit_event_digest(
    prev_hash bytea, wallet_id uuid, seq bigint, occurred_at timestamptz,
    actor text, action text, transaction_id uuid, hold_id uuid,
    amount bigint, currency text, request_id text
) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to(jsonb_build_array(
        encode(prev_hash, 'hex'), wallet_id, seq,
        (extract(epoch FROM occurred_at) * 1000000)::bigint,
        actor, action, transaction_id, hold_id, amount, currency, request_id
    )::text, 'UTF8'))
$$;

-- Chain the events written before this migration, in id order per wallet.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;

DO $$
DECLARE
    ev record;
    prev bytea;
    last_wallet uuid;
    n bigint;
BEGIN
    FOR ev IN SELECT * FROM audit_events WHERE wallet_id IS NOT NULL ORDER BY wallet_id, id LOOP
        IF last_wallet IS DISTINCT FROM ev.wallet_id THEN
            prev := NULL;
            n := 0;
            last_wallet := ev.wallet_id;
        END IF;
        n := n + 1;
        UPDATE audit_events
        SET seq = n,
            prev_hash = prev,
            hash = audit_event_digest(prev, ev.wallet_id, n, ev.occurred_at, ev.actor, ev.action,
                ev.transaction_id, NULL, ev.amount, ev.currency, ev.request_id)
        WHERE id = ev.id
        RETURNING hash INTO prev;
        UPDATE wallets SET audit_seq = n, audit_hash = prev WHERE id = ev.wallet_id;
    END LOOP;
END;
$$;

ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;

ALTER TABLE audit_events
    ALTER COLUMN wallet_id SET NOT NULL,
    ALTER COLUMN seq SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL,
    ADD CONSTRAINT audit_events_wallet_seq UNIQUE (wallet_id, seq);

DROP INDEX audit_events_wallet_id;
