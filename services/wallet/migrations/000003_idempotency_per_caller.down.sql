-- Fails if two callers have used the same key on one wallet.
ALTER TABLE holds
    DROP CONSTRAINT holds_idempotency_key,
    ADD CONSTRAINT holds_idempotency_key UNIQUE (wallet_id, idempotency_key);

ALTER TABLE transactions
    DROP CONSTRAINT transactions_idempotency_key,
    ADD CONSTRAINT transactions_idempotency_key UNIQUE (wallet_id, idempotency_key);
