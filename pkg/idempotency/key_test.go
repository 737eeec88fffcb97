package idempotency

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	cases := map[string]bool{
		"order-17":               true,
		"a":                      true,
		strings.Repeat("k", 255): true,
		strings.Repeat("k", 256): false,
		"clé":                    false,
		"tab\there":              false,
		"line\nbreak":            false,
	}
	for key, valid := range cases {
		if err := ValidateKey(key); (err == nil) != valid {
			t.Errorf("ValidateKey(%q) = %v, want valid %v", key, err, valid)
		}
	}
	if err := ValidateKey(""); !errors.Is(err, ErrMissing) {
		t.Errorf("ValidateKey(\"\") = %v, want ErrMissing", err)
	}
}
