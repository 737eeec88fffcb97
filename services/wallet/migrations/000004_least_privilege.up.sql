-- Least privilege. walletd connects as ledger_wallet, which owns nothing:
-- it cannot alter a table, disable a trigger or bypass row-level security.
-- It may append to the ledger tables and change only the columns it must
-- (balances, audit chain heads, hold states). ledger_reporting may read.
-- Both roles are created by the migration runner before this file runs.

GRANT USAGE ON SCHEMA wallet TO ledger_wallet, ledger_reporting;

GRANT SELECT, INSERT ON wallets, transactions, postings, audit_events, holds TO ledger_wallet;
GRANT UPDATE (balance, audit_seq, audit_hash) ON wallets TO ledger_wallet;
GRANT UPDATE (status, captured_amount, updated_at) ON holds TO ledger_wallet;
GRANT SELECT ON wallets, transactions, postings, audit_events, holds TO ledger_reporting;

-- Row-level security on every table, with a policy per role: a grant made
-- by mistake to any other role still returns no rows and writes none. The
-- migration version table has no policy: only its owner, the migration
-- runner, uses it.
ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE wallets ENABLE ROW LEVEL SECURITY;
ALTER TABLE transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE postings ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE holds ENABLE ROW LEVEL SECURITY;

CREATE POLICY wallet_service ON wallets TO ledger_wallet USING (true) WITH CHECK (true);
CREATE POLICY wallet_service ON transactions TO ledger_wallet USING (true) WITH CHECK (true);
CREATE POLICY wallet_service ON postings TO ledger_wallet USING (true) WITH CHECK (true);
CREATE POLICY wallet_service ON audit_events TO ledger_wallet USING (true) WITH CHECK (true);
CREATE POLICY wallet_service ON holds TO ledger_wallet USING (true) WITH CHECK (true);

CREATE POLICY reporting ON wallets FOR SELECT TO ledger_reporting USING (true);
CREATE POLICY reporting ON transactions FOR SELECT TO ledger_reporting USING (true);
CREATE POLICY reporting ON postings FOR SELECT TO ledger_reporting USING (true);
CREATE POLICY reporting ON audit_events FOR SELECT TO ledger_reporting USING (true);
CREATE POLICY reporting ON holds FOR SELECT TO ledger_reporting USING (true);
