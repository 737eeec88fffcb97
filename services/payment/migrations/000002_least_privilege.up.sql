-- Least privilege. paymentd connects as ledger_payment, which owns nothing: it
-- cannot alter a table, disable a trigger or bypass row-level security.
-- ledger_reporting may read. Both roles are created by the migration
-- runner before this file runs.

GRANT USAGE ON SCHEMA payment TO ledger_payment, ledger_reporting;

GRANT SELECT, INSERT, UPDATE ON payments, refunds, outbox, webhook_events, disputes TO ledger_payment;
GRANT SELECT ON payments, refunds, outbox, webhook_events, disputes TO ledger_reporting;

-- Row-level security on every table, with a policy per role: a grant made
-- by mistake to any other role still returns no rows and writes none. The
-- migration version table has no policy: only its owner, the migration
-- runner, uses it.
ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE refunds ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE disputes ENABLE ROW LEVEL SECURITY;

CREATE POLICY service ON payments TO ledger_payment USING (true) WITH CHECK (true);
CREATE POLICY service ON refunds TO ledger_payment USING (true) WITH CHECK (true);
CREATE POLICY service ON outbox TO ledger_payment USING (true) WITH CHECK (true);
CREATE POLICY service ON webhook_events TO ledger_payment USING (true) WITH CHECK (true);
CREATE POLICY service ON disputes TO ledger_payment USING (true) WITH CHECK (true);

CREATE POLICY reporting ON payments FOR SELECT TO ledger_reporting USING (true);
CREATE POLICY reporting ON refunds FOR SELECT TO ledger_reporting USING (true);
CREATE POLICY reporting ON outbox FOR SELECT TO ledger_reporting USING (true);
CREATE POLICY reporting ON webhook_events FOR SELECT TO ledger_reporting USING (true);
CREATE POLICY reporting ON disputes FOR SELECT TO ledger_reporting USING (true);
