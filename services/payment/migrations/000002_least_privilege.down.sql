ALTER TABLE schema_migrations DISABLE ROW LEVEL SECURITY;
DROP POLICY reporting ON payments;
DROP POLICY service ON payments;
ALTER TABLE payments DISABLE ROW LEVEL SECURITY;
DROP POLICY reporting ON refunds;
DROP POLICY service ON refunds;
ALTER TABLE refunds DISABLE ROW LEVEL SECURITY;
DROP POLICY reporting ON outbox;
DROP POLICY service ON outbox;
ALTER TABLE outbox DISABLE ROW LEVEL SECURITY;
DROP POLICY reporting ON webhook_events;
DROP POLICY service ON webhook_events;
ALTER TABLE webhook_events DISABLE ROW LEVEL SECURITY;
DROP POLICY reporting ON disputes;
DROP POLICY service ON disputes;
ALTER TABLE disputes DISABLE ROW LEVEL SECURITY;

REVOKE ALL ON payments, refunds, outbox, webhook_events, disputes FROM ledger_payment, ledger_reporting;
REVOKE USAGE ON SCHEMA payment FROM ledger_payment, ledger_reporting;
