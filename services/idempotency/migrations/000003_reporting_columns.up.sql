-- ledger_reporting reads idempotency records without the stored responses,
-- which repeat what the services returned, personal data included.
REVOKE SELECT ON records FROM ledger_reporting;
GRANT SELECT (scope, key, fingerprint, state, lease_expires_at, created_at, expires_at) ON records TO ledger_reporting;
