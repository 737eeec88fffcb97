package graphql

import (
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/apperr"
)

// canonicalAmount is how amountString writes an amount: no plus sign, no
// leading zeros and no "-0".
var canonicalAmount = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)

// FuzzParseAmount checks that parseAmount accepts exactly the decimal
// integers (an optional minus sign and ASCII digits) that fit in an int64,
// and reads them as math/big does. amountString must write an accepted
// amount in canonical form that parses back to the same value (round
// trip). Every rejection is invalid_request and names the field.
func FuzzParseAmount(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		amount, err := parseAmount("amount", text)

		exact, isInteger := new(big.Int).SetString(text, 10)
		wantValid := isInteger && exact.IsInt64() && !strings.HasPrefix(text, "+")
		if (err == nil) != wantValid {
			t.Fatalf("parseAmount(%q) = %d, %v; want valid %v", text, amount, err, wantValid)
		}
		if err != nil {
			var appErr *apperr.Error
			if !errors.As(err, &appErr) || appErr.Code != apperr.InvalidRequest || !strings.Contains(appErr.Message, "amount") {
				t.Errorf("parseAmount(%q) error %v, want invalid_request naming the field", text, err)
			}
			return
		}
		if amount != exact.Int64() {
			t.Fatalf("parseAmount(%q) = %d, want %s", text, amount, exact)
		}

		written := amountString(amount)
		if !canonicalAmount.MatchString(written) {
			t.Errorf("amountString(%d) = %q, want canonical decimal", amount, written)
		}
		again, err := parseAmount("amount", written)
		if err != nil || again != amount {
			t.Errorf("parseAmount(amountString(%d) = %q) = %d, %v; want the same amount", amount, written, again, err)
		}
	})
}
