-- Idempotency keys belong to the caller that sent them, as in the
-- idempotency service: the same key from the wallet's owner and from a
-- service are two requests, not a retry.
ALTER TABLE transactions
    DROP CONSTRAINT transactions_idempotency_key,
    ADD CONSTRAINT transactions_idempotency_key UNIQUE (wallet_id, actor, idempotency_key);

ALTER TABLE holds
    DROP CONSTRAINT holds_idempotency_key,
    ADD CONSTRAINT holds_idempotency_key UNIQUE (wallet_id, actor, idempotency_key);
