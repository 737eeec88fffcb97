// Package money validates ISO 4217 currency codes and adds and subtracts
// amounts held as int64 counts of a currency's minor unit, failing on int64
// overflow instead of wrapping. It never uses floating point.
package money

import (
	"errors"
	"fmt"

	"golang.org/x/text/currency"
)

// ErrUnknownCurrency is wrapped by ParseCurrency when the code is not an
// ISO 4217 code of a currency in current use with a defined minor unit.
var ErrUnknownCurrency = errors.New("money: unknown currency")

// Currency is an ISO 4217 currency in current use with its minor-unit scale.
// The zero value is no currency and reports IsZero.
type Currency struct {
	code  string
	scale int
}

// unsupportedCodes are ISO 4217 codes that golang.org/x/text/currency
// reports as in use but that denote no currency (XXX), are reserved for
// testing (XTS), or have no minor unit in ISO 4217 (precious metals, SDR,
// bond-market and settlement units).
var unsupportedCodes = map[string]bool{
	"XXX": true, "XTS": true,
	"XAU": true, "XAG": true, "XPD": true, "XPT": true,
	"XBA": true, "XBB": true, "XBC": true, "XBD": true,
	"XDR": true, "XSU": true, "XUA": true,
}

// currentCodes lists the codes that golang.org/x/text/currency records as in
// use today in some region, tender or not (for example USN, CLF). Historical
// codes such as DEM are absent.
//
// NOTE: the x/text v0.44.0 data predates some ISO 4217 changes, so it still
// lists replaced codes (HRK, VEF, MRO) and lacks newer ones (VES, MRU, SLE,
// ZWG, XCG), which ParseCurrency therefore rejects.
var currentCodes = loadCurrentCodes()

func loadCurrentCodes() map[string]bool {
	codes := make(map[string]bool)

	it := currency.Query(currency.NonTender)
	for it.Next() {
		codes[it.Unit().String()] = true
	}

	return codes
}

// ParseCurrency returns the currency for an ISO 4217 alphabetic code. The code
// must be exactly three upper-case ASCII letters ("usd" is rejected). Codes
// that are historical, unassigned, XXX, XTS or without an ISO 4217 minor unit
// return an error wrapping ErrUnknownCurrency that quotes the code.
func ParseCurrency(code string) (Currency, error) {
	if !isUpperAlpha3(code) || unsupportedCodes[code] || !currentCodes[code] {
		return Currency{}, fmt.Errorf("%w: %q", ErrUnknownCurrency, code)
	}

	unit, err := currency.ParseISO(code)
	if err != nil {
		return Currency{}, fmt.Errorf("%w: %q: %w", ErrUnknownCurrency, code, err)
	}

	// NOTE: x/text takes these digits from CLDR, which differ from the
	// ISO 4217 minor unit for a few codes (IQD 0 rather than 3, IDR and
	// HUF 0 rather than 2). The ledger stores integer minor units and uses
	// the scale only to format amounts for people.
	scale, _ := currency.Standard.Rounding(unit)

	return Currency{code: code, scale: scale}, nil
}

func isUpperAlpha3(code string) bool {
	if len(code) != 3 {
		return false
	}

	for i := range len(code) {
		if code[i] < 'A' || code[i] > 'Z' {
			return false
		}
	}

	return true
}

// Code returns the three-letter ISO 4217 code, or "" for the zero Currency.
func (c Currency) Code() string { return c.code }

// Scale returns the minor-unit exponent: an amount of n minor units
// is n / 10^Scale major units (USD 2, JPY 0, BHD 3, CLF 4).
func (c Currency) Scale() int { return c.scale }

// IsZero reports whether c is the zero Currency, which ParseCurrency never
// returns without an error.
func (c Currency) IsZero() bool { return c.code == "" }

// String returns the ISO 4217 code.
func (c Currency) String() string { return c.code }
