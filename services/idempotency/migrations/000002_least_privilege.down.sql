ALTER TABLE schema_migrations DISABLE ROW LEVEL SECURITY;
DROP POLICY reporting ON records;
DROP POLICY service ON records;
ALTER TABLE records DISABLE ROW LEVEL SECURITY;

REVOKE ALL ON records FROM ledger_idempotency, ledger_reporting;
REVOKE USAGE ON SCHEMA idempotency FROM ledger_idempotency, ledger_reporting;
