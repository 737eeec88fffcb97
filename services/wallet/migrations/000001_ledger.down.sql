-- Dropping the ledger destroys its history; it exists for development only.
DROP TABLE audit_events, postings, transactions, wallets;
DROP FUNCTION check_postings_balanced();
DROP FUNCTION reject_change();
