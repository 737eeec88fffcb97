REVOKE SELECT ON records FROM ledger_reporting;
GRANT SELECT ON records TO ledger_reporting;
