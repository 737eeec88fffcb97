ALTER TABLE schema_migrations DISABLE ROW LEVEL SECURITY;
DROP POLICY reporting ON holds;
DROP POLICY reporting ON audit_events;
DROP POLICY reporting ON postings;
DROP POLICY reporting ON transactions;
DROP POLICY reporting ON wallets;
DROP POLICY wallet_service ON holds;
DROP POLICY wallet_service ON audit_events;
DROP POLICY wallet_service ON postings;
DROP POLICY wallet_service ON transactions;
DROP POLICY wallet_service ON wallets;

ALTER TABLE holds DISABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events DISABLE ROW LEVEL SECURITY;
ALTER TABLE postings DISABLE ROW LEVEL SECURITY;
ALTER TABLE transactions DISABLE ROW LEVEL SECURITY;
ALTER TABLE wallets DISABLE ROW LEVEL SECURITY;

REVOKE ALL ON wallets, transactions, postings, audit_events, holds FROM ledger_wallet, ledger_reporting;
REVOKE USAGE ON SCHEMA wallet FROM ledger_wallet, ledger_reporting;
