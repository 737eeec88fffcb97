//go:build !chaosbroken

package postgres

// duplicateKey is nil, so a transaction whose idempotency key is taken
// replays the first one. The chaosbroken build sets it to show that the
// fault-tolerance suite (chaos/) catches a ledger that applies a key twice.
var duplicateKey func(key string) string
