REVOKE SELECT ON clients FROM ledger_reporting;
GRANT SELECT ON clients TO ledger_reporting;
