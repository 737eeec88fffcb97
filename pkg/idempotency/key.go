// Package idempotency holds the rules for the idempotency keys that
// money-moving calls carry.
package idempotency

import (
	"errors"
	"fmt"
)

// MaxKeyLength is the longest accepted key, in bytes.
const MaxKeyLength = 255

// ErrMissing is returned by ValidateKey for an empty key.
var ErrMissing = errors.New("an idempotency key is required for calls that move money")

// ValidateKey checks that key is 1 to MaxKeyLength printable ASCII
// characters (0x20 to 0x7E). It returns ErrMissing for an empty key and a
// descriptive error otherwise.
func ValidateKey(key string) error {
	if key == "" {
		return ErrMissing
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("idempotency key is %d characters, at most %d are allowed", len(key), MaxKeyLength)
	}
	for _, r := range key {
		if r < 0x20 || r > 0x7e {
			return errors.New("idempotency key must be printable ASCII")
		}
	}
	return nil
}
