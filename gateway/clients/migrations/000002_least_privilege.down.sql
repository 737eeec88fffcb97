ALTER TABLE schema_migrations DISABLE ROW LEVEL SECURITY;
DROP POLICY reporting ON clients;
DROP POLICY service ON clients;
ALTER TABLE clients DISABLE ROW LEVEL SECURITY;

REVOKE ALL ON clients FROM ledger_gateway, ledger_reporting;
REVOKE USAGE ON SCHEMA gateway FROM ledger_gateway, ledger_reporting;
