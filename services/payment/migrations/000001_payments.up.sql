-- Payments, refunds, the outbox of ledger calls, processed webhook events
-- and disputes. Money itself lives in the wallet service; these rows
-- record what was asked of Stripe and of the ledger.

CREATE TABLE payments (
    id                        uuid PRIMARY KEY,
    -- 'pending' until the charge is known, then 'succeeded' or 'failed';
    -- the status only moves forward.
    status                    text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    method                    text NOT NULL CHECK (method IN ('wallet', 'card')),
    amount                    bigint NOT NULL CHECK (amount > 0),
    refunded_amount           bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    currency                  char(3) NOT NULL,
    -- The caller that created the payment, and its idempotency key: a
    -- retried request resumes this row instead of charging again.
    payer_id                  text NOT NULL,
    idempotency_key           text NOT NULL,
    payer_wallet_id           uuid,
    payee_wallet_id           uuid NOT NULL,
    payment_method            text NOT NULL DEFAULT '',
    stripe_payment_intent_id  text UNIQUE,
    -- The wallet transaction that moved the money, once it moved.
    ledger_transaction_id     uuid,
    description               text NOT NULL DEFAULT '',
    metadata                  jsonb NOT NULL DEFAULT '{}',
    failure_reason            text NOT NULL DEFAULT '',
    disputed                  boolean NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    CONSTRAINT payments_wallet_payer CHECK (method <> 'wallet' OR payer_wallet_id IS NOT NULL),
    CONSTRAINT payments_idempotency_key UNIQUE (payer_id, idempotency_key)
);

CREATE INDEX payments_payer_id ON payments (payer_id, created_at DESC, id DESC);

CREATE TABLE refunds (
    id                uuid PRIMARY KEY,
    payment_id        uuid NOT NULL REFERENCES payments (id),
    amount            bigint NOT NULL CHECK (amount > 0),
    status            text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason            text NOT NULL DEFAULT '',
    stripe_refund_id  text UNIQUE,
    requested_by      text NOT NULL,
    idempotency_key   text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    CONSTRAINT refunds_idempotency_key UNIQUE (payment_id, requested_by, idempotency_key)
);

CREATE INDEX refunds_payment_id ON refunds (payment_id, created_at);

-- Ledger calls to make after a commit: the relay sends each to the wallet
-- service with a key derived from the payment or refund id, so a crash
-- between "Stripe said yes" and "wallet credited" is repaired, once.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('credit_payee', 'reverse_for_refund')),
    payment_id    uuid NOT NULL REFERENCES payments (id),
    refund_id     uuid REFERENCES refunds (id),
    created_at    timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    processed_at  timestamptz
);

CREATE INDEX outbox_pending ON outbox (id) WHERE processed_at IS NULL;

-- Stripe events already handled: each event id is processed once.
CREATE TABLE webhook_events (
    id            text PRIMARY KEY,
    type          text NOT NULL,
    received_at   timestamptz NOT NULL
);

CREATE TABLE disputes (
    id                 text PRIMARY KEY,
    payment_id         uuid NOT NULL REFERENCES payments (id),
    status             text NOT NULL,
    amount             bigint NOT NULL,
    created_at         timestamptz NOT NULL
);
