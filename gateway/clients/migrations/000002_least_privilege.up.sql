-- Least privilege. gatewayd connects as ledger_gateway, which owns nothing: it
-- cannot alter a table, disable a trigger or bypass row-level security.
-- ledger_reporting may read. Both roles are created by the migration
-- runner before this file runs.

GRANT USAGE ON SCHEMA gateway TO ledger_gateway, ledger_reporting;

GRANT SELECT, INSERT, UPDATE ON clients TO ledger_gateway;
GRANT SELECT ON clients TO ledger_reporting;

-- Row-level security on every table, with a policy per role: a grant made
-- by mistake to any other role still returns no rows and writes none. The
-- migration version table has no policy: only its owner, the migration
-- runner, uses it.
ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE clients ENABLE ROW LEVEL SECURITY;

CREATE POLICY service ON clients TO ledger_gateway USING (true) WITH CHECK (true);

CREATE POLICY reporting ON clients FOR SELECT TO ledger_reporting USING (true);
