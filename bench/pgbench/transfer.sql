-- One transfer of 1 minor unit between two random wallets, with the SQL
-- the wallet service sends for POST /v1/transfers, in the same order and
-- round trips, at the same isolation level. Run with -M prepared (pgx
-- prepares and caches its statements too) and --max-tries, which retries
-- serialization failures as the wallet does.
\set a random(1, :wallets)
\set b 1 + (:a + random(0, :wallets - 2)) % :wallets
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT id, currency, balance FROM wallets
    WHERE id = ANY (ARRAY[bench_wallet_id(:a), bench_wallet_id(:b)]) AND kind = 'user' ORDER BY id FOR UPDATE;
WITH clock AS (SELECT clock_timestamp() AS now)
SELECT clock.now, w.id, coalesce(sum(h.amount - h.captured_amount), 0)
    FROM clock CROSS JOIN unnest(ARRAY[bench_wallet_id(:a), bench_wallet_id(:b)]) AS w (id)
    LEFT JOIN holds h ON h.wallet_id = w.id AND h.status = 'active'
        AND (h.expires_at IS NULL OR h.expires_at > clock.now)
    GROUP BY clock.now, w.id;
INSERT INTO transactions (id, type, status, wallet_id, counterparty_wallet_id, amount, currency,
        idempotency_key, request_hash, description, actor, request_id, created_at,
        hold_id, reverses_transaction_id)
    VALUES (bench_uuid_v7(), 'transfer', 'posted', bench_wallet_id(:a), bench_wallet_id(:b), 1, 'USD',
        gen_random_uuid()::text, sha256('pgbench'), '', 'pgbench', '', clock_timestamp(), NULL, NULL)
    ON CONFLICT (wallet_id, actor, idempotency_key) DO NOTHING
    RETURNING id AS tx_id \gset
\startpipeline
INSERT INTO postings (transaction_id, wallet_id, amount, currency, balance_after, created_at)
    SELECT :tx_id::uuid, w, a, 'USD', ba, clock_timestamp()
    FROM unnest(ARRAY[bench_wallet_id(:a), bench_wallet_id(:b)], ARRAY[-1, 1]::bigint[],
        ARRAY[(SELECT balance - 1 FROM wallets WHERE id = bench_wallet_id(:a)),
              (SELECT balance + 1 FROM wallets WHERE id = bench_wallet_id(:b))]) AS leg (w, a, ba);
UPDATE wallets SET balance = balance - 1 WHERE id = bench_wallet_id(:a);
WITH head AS (SELECT audit_seq, audit_hash FROM wallets WHERE id = bench_wallet_id(:a)),
event AS (
    INSERT INTO audit_events (wallet_id, seq, prev_hash, hash, occurred_at, actor, action,
        transaction_id, hold_id, amount, currency, request_id)
    SELECT bench_wallet_id(:a), head.audit_seq + 1, head.audit_hash,
        audit_event_digest(head.audit_hash, bench_wallet_id(:a), head.audit_seq + 1, clock_timestamp(),
            'pgbench', 'transfer', :tx_id::uuid, NULL, -1, 'USD', ''),
        clock_timestamp(), 'pgbench', 'transfer', :tx_id::uuid, NULL, -1, 'USD', ''
    FROM head
    RETURNING wallet_id, seq, hash
)
UPDATE wallets w SET audit_seq = event.seq, audit_hash = event.hash
    FROM event WHERE w.id = event.wallet_id;
UPDATE wallets SET balance = balance + 1 WHERE id = bench_wallet_id(:b);
WITH head AS (SELECT audit_seq, audit_hash FROM wallets WHERE id = bench_wallet_id(:b)),
event AS (
    INSERT INTO audit_events (wallet_id, seq, prev_hash, hash, occurred_at, actor, action,
        transaction_id, hold_id, amount, currency, request_id)
    SELECT bench_wallet_id(:b), head.audit_seq + 1, head.audit_hash,
        audit_event_digest(head.audit_hash, bench_wallet_id(:b), head.audit_seq + 1, clock_timestamp(),
            'pgbench', 'transfer', :tx_id::uuid, NULL, 1, 'USD', ''),
        clock_timestamp(), 'pgbench', 'transfer', :tx_id::uuid, NULL, 1, 'USD', ''
    FROM head
    RETURNING wallet_id, seq, hash
)
UPDATE wallets w SET audit_seq = event.seq, audit_hash = event.hash
    FROM event WHERE w.id = event.wallet_id;
\endpipeline
COMMIT;
