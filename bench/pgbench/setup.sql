-- Seeds a scratch database that already contains the wallet schema for
-- transfer.sql: :wallets user wallets of 1,000,000 USD minor units each,
-- with ids that bench_wallet_id(n) computes. Transfers need no clearing
-- wallet.
CREATE FUNCTION bench_wallet_id(n bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid
$$;

-- bench_uuid_v7 returns a time-ordered UUID, as the wallet's uuid.NewV7
-- does, so that transaction ids land at the right edge of their index.
CREATE FUNCTION bench_uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;

INSERT INTO wallets (id, owner_id, kind, currency, balance, created_at)
SELECT bench_wallet_id(n), 'pgbench-' || n, 'user', 'USD', 1000000, now()
FROM generate_series(1, :wallets) AS n;

-- Statistics, so that the planner finds the wallets by index. Without them
-- it scans the table, and a sequential scan under SERIALIZABLE takes a
-- predicate lock on the whole relation, so nearly every pair of concurrent
-- transfers conflicts.
ANALYZE;
