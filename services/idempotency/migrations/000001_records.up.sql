-- Idempotency records: the durable copy of every claimed key. Redis holds
-- completed records as a cache in front of this table.
CREATE TABLE records (
    -- Caller and method, such as 'user-1 /ledger.wallet.v1.WalletService/Debit'.
    scope             text NOT NULL,
    key               text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method and the request; another request under the
    -- same key is a mismatch.
    fingerprint       bytea NOT NULL,
    state             text NOT NULL CHECK (state IN ('in_progress', 'completed')),
    -- The claimant's proof while in progress; a claim after
    -- lease_expires_at takes the record over with a new token.
    lease_token       text,
    lease_expires_at  timestamptz,
    -- Serialized ledger.idempotency.v1.StoredResponse once completed.
    response          bytea,
    created_at        timestamptz NOT NULL,
    -- After this the key is new again, and the cleanup job deletes the row.
    expires_at        timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    CONSTRAINT records_state_fields CHECK (
        (state = 'in_progress' AND lease_token IS NOT NULL AND lease_expires_at IS NOT NULL AND response IS NULL)
        OR (state = 'completed' AND lease_token IS NULL AND response IS NOT NULL))
);

CREATE INDEX records_expires_at ON records (expires_at);
