-- The audit chain keeps principal ids: restoring subjects would re-chain
-- every event, and an erased principal has no subject to restore.
DROP TRIGGER transactions_append_only ON transactions;
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON transactions
    FOR EACH ROW EXECUTE FUNCTION reject_change();
DROP FUNCTION reject_transaction_change();
DROP TABLE privacy_events;
DROP TABLE principals;
