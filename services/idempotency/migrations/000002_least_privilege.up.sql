-- Least privilege. idempotencyd connects as ledger_idempotency, which owns nothing: it
-- cannot alter a table, disable a trigger or bypass row-level security.
-- ledger_reporting may read. Both roles are created by the migration
-- runner before this file runs.

GRANT USAGE ON SCHEMA idempotency TO ledger_idempotency, ledger_reporting;

GRANT SELECT, INSERT, UPDATE, DELETE ON records TO ledger_idempotency;
GRANT SELECT ON records TO ledger_reporting;

-- Row-level security on every table, with a policy per role: a grant made
-- by mistake to any other role still returns no rows and writes none. The
-- migration version table has no policy: only its owner, the migration
-- runner, uses it.
ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE records ENABLE ROW LEVEL SECURITY;

CREATE POLICY service ON records TO ledger_idempotency USING (true) WITH CHECK (true);

CREATE POLICY reporting ON records FOR SELECT TO ledger_reporting USING (true);
