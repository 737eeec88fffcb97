-- ledger_reporting reads API clients without their secret hashes.
REVOKE SELECT ON clients FROM ledger_reporting;
GRANT SELECT (id, owner, name, roles, created_at, revoked_at) ON clients TO ledger_reporting;
