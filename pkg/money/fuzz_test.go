package money

import (
	"errors"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseCurrency checks that ParseCurrency accepts only three upper-case
// ASCII letters, and that an accepted code parses back to the same Currency
// with an ISO 4217 scale (0 to 4). A rejected code must return the zero
// Currency and an error wrapping ErrUnknownCurrency that quotes the input.
func FuzzParseCurrency(f *testing.F) {
	f.Fuzz(func(t *testing.T, code string) {
		c, err := ParseCurrency(code)
		if err != nil {
			if !errors.Is(err, ErrUnknownCurrency) {
				t.Fatalf("ParseCurrency(%q) error %v does not wrap ErrUnknownCurrency", code, err)
			}
			if !strings.Contains(err.Error(), strconv.Quote(code)) {
				t.Errorf("ParseCurrency(%q) error %q does not quote the code", code, err)
			}
			if !c.IsZero() {
				t.Errorf("ParseCurrency(%q) = %+v with an error, want the zero Currency", code, c)
			}
			return
		}

		if !threeUpperLetters.MatchString(code) {
			t.Fatalf("ParseCurrency(%q) accepted a code that is not three upper-case letters", code)
		}
		if c.Code() != code || c.String() != code || c.IsZero() {
			t.Errorf("ParseCurrency(%q) = %+v, want a Currency with that code", code, c)
		}
		if c.Scale() < 0 || c.Scale() > 4 {
			t.Errorf("ParseCurrency(%q).Scale() = %d, want 0 to 4", code, c.Scale())
		}
		again, err := ParseCurrency(c.Code())
		if err != nil || again != c {
			t.Errorf("ParseCurrency(%q) again = %+v, %v; want %+v", c.Code(), again, err, c)
		}
	})
}

var threeUpperLetters = regexp.MustCompile(`^[A-Z]{3}$`)

// formatCurrencies cover every minor-unit scale in use: 0, 2, 3 and 4.
var formatCurrencies = []string{"JPY", "USD", "BHD", "CLF"}

// FuzzFormat checks the round trip: the digits that Format writes read back
// as the amount. The output must be an optional minus sign, digits without
// superfluous leading zeros, a decimal point and exactly Scale digits (none
// for scale 0), a space and the code.
func FuzzFormat(f *testing.F) {
	f.Fuzz(func(t *testing.T, amount int64, currencyIndex uint8) {
		code := formatCurrencies[int(currencyIndex)%len(formatCurrencies)]
		c := mustParse(t, code)

		text := Format(amount, c)
		number, ok := strings.CutSuffix(text, " "+code)
		if !ok {
			t.Fatalf("Format(%d, %s) = %q, want it to end with %q", amount, code, text, " "+code)
		}
		pattern := formatPatterns[c.Scale()]
		if !pattern.MatchString(number) {
			t.Fatalf("Format(%d, %s) = %q, want %s", amount, code, text, pattern)
		}

		parsed, ok := new(big.Int).SetString(strings.Replace(number, ".", "", 1), 10)
		if !ok || !parsed.IsInt64() || parsed.Int64() != amount {
			t.Errorf("Format(%d, %s) = %q, which reads back as %v", amount, code, text, parsed)
		}
		if strings.HasPrefix(number, "-") != (amount < 0) {
			t.Errorf("Format(%d, %s) = %q, want a minus sign exactly for negative amounts", amount, code, text)
		}
	})
}

// formatPatterns match the number part of Format's output by scale.
var formatPatterns = map[int]*regexp.Regexp{
	0: regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`),
	2: regexp.MustCompile(`^-?(0|[1-9][0-9]*)\.[0-9]{2}$`),
	3: regexp.MustCompile(`^-?(0|[1-9][0-9]*)\.[0-9]{3}$`),
	4: regexp.MustCompile(`^-?(0|[1-9][0-9]*)\.[0-9]{4}$`),
}
