//go:build chaosbroken

package postgres

import "github.com/google/uuid"

// duplicateKey breaks the ledger on purpose: a transaction whose
// idempotency key is taken is written again under the key plus a random
// suffix, so a retried request moves money twice. Only the fault-tolerance
// suite (chaos/) builds walletd with this tag, to show that it catches the
// duplicate. The key is cut to fit the column's 255 characters.
var duplicateKey = func(key string) string {
	return key[:min(len(key), 233)] + "~chaosbroken-" + uuid.NewString()[:8]
}
