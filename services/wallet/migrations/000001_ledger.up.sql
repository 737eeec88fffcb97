-- Wallets, double-entry postings, transactions and audit events.
-- All objects live in the schema "wallet", which the service's database
-- role owns; the migration runner sets search_path to it.

CREATE TABLE wallets (
    id          uuid PRIMARY KEY,
    owner_id    text NOT NULL CHECK (length(owner_id) BETWEEN 1 AND 255),
    -- 'user' wallets belong to callers; 'system' wallets (one external
    -- clearing wallet per currency) are where money enters and leaves.
    kind        text NOT NULL CHECK (kind IN ('user', 'system')),
    currency    char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Posted balance in minor units. Maintained for user wallets only: a
    -- system wallet's balance is the sum of its postings, so that every
    -- credit and debit of a currency does not contend on one row.
    balance     bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    CONSTRAINT wallets_user_balance_non_negative CHECK (kind = 'system' OR balance >= 0),
    CONSTRAINT wallets_system_balance_unused CHECK (kind = 'user' OR balance = 0)
);

-- One wallet per owner and currency, and one system wallet per currency.
CREATE UNIQUE INDEX wallets_user_owner_currency ON wallets (owner_id, currency) WHERE kind = 'user';
CREATE UNIQUE INDEX wallets_system_currency ON wallets (currency) WHERE kind = 'system';

CREATE TABLE transactions (
    id                      uuid PRIMARY KEY,
    type                    text NOT NULL CHECK (type IN ('credit', 'debit', 'transfer')),
    status                  text NOT NULL CHECK (status IN ('posted')),
    -- The wallet the idempotency key is scoped to: the credited wallet of a
    -- credit, the debited wallet of a debit or transfer.
    wallet_id               uuid NOT NULL REFERENCES wallets (id),
    counterparty_wallet_id  uuid REFERENCES wallets (id),
    amount                  bigint NOT NULL CHECK (amount > 0),
    currency                char(3) NOT NULL,
    idempotency_key         text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    -- SHA-256 of the method and the request; a key reused with another
    -- request is rejected instead of replayed.
    request_hash            bytea NOT NULL,
    description             text NOT NULL,
    actor                   text NOT NULL,
    request_id              text NOT NULL,
    created_at              timestamptz NOT NULL,
    CONSTRAINT transactions_idempotency_key UNIQUE (wallet_id, idempotency_key),
    CONSTRAINT transactions_counterparty CHECK ((type = 'transfer') = (counterparty_wallet_id IS NOT NULL))
);

CREATE TABLE postings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  uuid NOT NULL REFERENCES transactions (id),
    wallet_id       uuid NOT NULL REFERENCES wallets (id),
    -- Signed amount in minor units: negative leaves the wallet.
    amount          bigint NOT NULL CHECK (amount <> 0),
    currency        char(3) NOT NULL,
    -- The wallet's balance right after this posting; NULL for system
    -- wallets, whose balance is not maintained.
    balance_after   bigint,
    created_at      timestamptz NOT NULL
);

CREATE INDEX postings_wallet_id_id ON postings (wallet_id, id DESC);
CREATE INDEX postings_transaction_id ON postings (transaction_id);

CREATE TABLE audit_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at     timestamptz NOT NULL,
    actor           text NOT NULL,
    action          text NOT NULL,
    wallet_id       uuid REFERENCES wallets (id),
    transaction_id  uuid REFERENCES transactions (id),
    amount          bigint,
    currency        char(3),
    request_id      text NOT NULL
);

CREATE INDEX audit_events_wallet_id ON audit_events (wallet_id, id);

-- Postings, transactions and audit events are append-only: corrections are
-- new transactions, never edits.
CREATE FUNCTION reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table %.% is append-only: % is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON transactions
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();

-- Every statement that inserts postings must leave each transaction
-- balanced per currency, so a transaction's postings sum to zero. The check
-- reads only the statement's new rows: reading the postings table instead
-- would take predicate locks that make concurrent SERIALIZABLE transactions
-- abort each other.
CREATE FUNCTION check_postings_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT transaction_id, currency INTO unbalanced
    FROM new_postings
    GROUP BY transaction_id, currency
    HAVING sum(amount) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'postings of transaction % do not sum to zero in %', unbalanced.transaction_id, unbalanced.currency
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER postings_balanced AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION check_postings_balanced();
