package money

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"pgregory.net/rapid"
)

func TestParseCurrencyScales(t *testing.T) {
	tests := []struct {
		code  string
		scale int
	}{
		{"USD", 2},
		{"EUR", 2},
		{"JPY", 0},
		{"KRW", 0},
		{"BHD", 3},
		{"KWD", 3},
		{"CLF", 4},
		{"ISK", 0},
		{"XOF", 0},
		{"USN", 2},
	}

	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c, err := ParseCurrency(tt.code)
			if err != nil {
				t.Fatalf("ParseCurrency(%q) error = %v", tt.code, err)
			}

			if got := c.Code(); got != tt.code {
				t.Errorf("Code() = %q, want %q", got, tt.code)
			}

			if got := c.Scale(); got != tt.scale {
				t.Errorf("Scale() = %d, want %d", got, tt.scale)
			}

			if c.IsZero() {
				t.Errorf("IsZero() = true, want false")
			}
		})
	}
}

func TestParseCurrencyRejects(t *testing.T) {
	codes := []string{
		"", "usd", "Usd", "USDX", "US", "US1", " USD", "ZZZ",
		"XXX", "XTS", "XAU", "XDR", "DEM", "FRF",
	}

	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			c, err := ParseCurrency(code)
			if !errors.Is(err, ErrUnknownCurrency) {
				t.Fatalf("ParseCurrency(%q) error = %v, want ErrUnknownCurrency", code, err)
			}

			if !c.IsZero() {
				t.Errorf("ParseCurrency(%q) = %+v, want zero Currency", code, c)
			}
		})
	}
}

func TestCurrencyZeroValue(t *testing.T) {
	var c Currency

	if !c.IsZero() {
		t.Errorf("IsZero() = false, want true")
	}

	if c.Code() != "" {
		t.Errorf("Code() = %q, want empty", c.Code())
	}
}

func TestAddSubBoundaries(t *testing.T) {
	tests := []struct {
		name    string
		op      func(a, b int64) (int64, error)
		a, b    int64
		want    int64
		wantErr error
	}{
		{"add small", Add, 1234, 66, 1300, nil},
		{"add to max", Add, math.MaxInt64 - 1, 1, math.MaxInt64, nil},
		{"add past max", Add, math.MaxInt64, 1, 0, ErrOverflow},
		{"add max and max", Add, math.MaxInt64, math.MaxInt64, 0, ErrOverflow},
		{"add to min", Add, math.MinInt64 + 1, -1, math.MinInt64, nil},
		{"add past min", Add, math.MinInt64, -1, 0, ErrOverflow},
		{"add min and max", Add, math.MinInt64, math.MaxInt64, -1, nil},
		{"sub small", Sub, 100, 250, -150, nil},
		{"sub to min", Sub, math.MinInt64 + 1, 1, math.MinInt64, nil},
		{"sub past min", Sub, math.MinInt64, 1, 0, ErrOverflow},
		{"sub to max", Sub, math.MaxInt64 - 1, -1, math.MaxInt64, nil},
		{"sub past max", Sub, math.MaxInt64, -1, 0, ErrOverflow},
		{"sub min from zero", Sub, 0, math.MinInt64, 0, ErrOverflow},
		{"sub min from minus one", Sub, -1, math.MinInt64, math.MaxInt64, nil},
		{"sub min from min", Sub, math.MinInt64, math.MinInt64, 0, nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op(tt.a, tt.b)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}

			if got != tt.want {
				t.Errorf("result = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSum(t *testing.T) {
	tests := []struct {
		name    string
		amounts []int64
		want    int64
		wantErr error
	}{
		{"empty", nil, 0, nil},
		{"one", []int64{42}, 42, nil},
		{"mixed signs", []int64{100, -30, 5}, 75, nil},
		{"reaches max", []int64{math.MaxInt64 - 10, 4, 6}, math.MaxInt64, nil},
		{"overflows", []int64{math.MaxInt64, 1, -1}, 0, ErrOverflow},
		{"underflows", []int64{math.MinInt64, -1}, 0, ErrOverflow},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sum(tt.amounts...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}

			if got != tt.want {
				t.Errorf("Sum = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestValidatePositive(t *testing.T) {
	tests := []struct {
		amount  int64
		wantErr error
	}{
		{1, nil},
		{math.MaxInt64, nil},
		{0, ErrInvalidAmount},
		{-1, ErrInvalidAmount},
		{math.MinInt64, ErrInvalidAmount},
	}

	for _, tt := range tests {
		err := ValidatePositive(tt.amount)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("ValidatePositive(%d) = %v, want %v", tt.amount, err, tt.wantErr)
		}
	}
}

func TestFormat(t *testing.T) {
	usd := mustParse(t, "USD")
	jpy := mustParse(t, "JPY")
	bhd := mustParse(t, "BHD")

	tests := []struct {
		amount int64
		c      Currency
		want   string
	}{
		{1234, usd, "12.34 USD"},
		{-5, usd, "-0.05 USD"},
		{0, usd, "0.00 USD"},
		{100, usd, "1.00 USD"},
		{-1234, usd, "-12.34 USD"},
		{100, jpy, "100 JPY"},
		{-7, jpy, "-7 JPY"},
		{1, bhd, "0.001 BHD"},
		{12345, bhd, "12.345 BHD"},
		{math.MaxInt64, usd, "92233720368547758.07 USD"},
		{math.MinInt64, usd, "-92233720368547758.08 USD"},
	}

	for _, tt := range tests {
		if got := Format(tt.amount, tt.c); got != tt.want {
			t.Errorf("Format(%d, %s) = %q, want %q", tt.amount, tt.c.Code(), got, tt.want)
		}
	}
}

// TestAddSubMatchBigInt checks that Add and Sub either return ErrOverflow or
// the exact result computed with math/big.
func TestAddSubMatchBigInt(t *testing.T) {
	minInt := big.NewInt(math.MinInt64)
	maxInt := big.NewInt(math.MaxInt64)

	check := func(t *rapid.T, name string, got int64, err error, exact *big.Int) {
		fits := exact.Cmp(minInt) >= 0 && exact.Cmp(maxInt) <= 0
		if !fits {
			if !errors.Is(err, ErrOverflow) {
				t.Fatalf("%s: exact %s overflows, got %d, error %v", name, exact, got, err)
			}

			return
		}

		if err != nil {
			t.Fatalf("%s: exact %s fits, got error %v", name, exact, err)
		}

		if got != exact.Int64() {
			t.Fatalf("%s = %d, want %s", name, got, exact)
		}
	}

	rapid.Check(t, func(t *rapid.T) {
		a := rapid.Int64().Draw(t, "a")
		b := rapid.Int64().Draw(t, "b")

		sum, err := Add(a, b)
		check(t, "Add", sum, err, new(big.Int).Add(big.NewInt(a), big.NewInt(b)))

		diff, err := Sub(a, b)
		check(t, "Sub", diff, err, new(big.Int).Sub(big.NewInt(a), big.NewInt(b)))
	})
}

func mustParse(t *testing.T, code string) Currency {
	t.Helper()

	c, err := ParseCurrency(code)
	if err != nil {
		t.Fatalf("ParseCurrency(%q): %v", code, err)
	}

	return c
}
