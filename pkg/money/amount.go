package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrOverflow is returned when the exact result of an operation on minor-unit
// amounts does not fit in an int64.
var ErrOverflow = errors.New("money: amount overflows int64")

// ErrInvalidAmount is wrapped by ValidatePositive for amounts of zero or less.
var ErrInvalidAmount = errors.New("money: invalid amount")

// Add returns a+b, or an error wrapping ErrOverflow if the sum does not fit in
// an int64.
func Add(a, b int64) (int64, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, fmt.Errorf("%w: %d + %d", ErrOverflow, a, b)
	}

	return a + b, nil
}

// Sub returns a-b, or an error wrapping ErrOverflow if the difference does not
// fit in an int64.
func Sub(a, b int64) (int64, error) {
	if (b < 0 && a > math.MaxInt64+b) || (b > 0 && a < math.MinInt64+b) {
		return 0, fmt.Errorf("%w: %d - %d", ErrOverflow, a, b)
	}

	return a - b, nil
}

// Sum adds amounts left to right and returns 0 for no amounts. It returns an
// error wrapping ErrOverflow as soon as a partial sum overflows, even if later
// amounts would bring the total back into range.
func Sum(amounts ...int64) (int64, error) {
	var total int64

	for _, amount := range amounts {
		next, err := Add(total, amount)
		if err != nil {
			return 0, err
		}

		total = next
	}

	return total, nil
}

// ValidatePositive returns an error wrapping ErrInvalidAmount when amount is
// zero or negative, and nil otherwise.
func ValidatePositive(amount int64) error {
	if amount <= 0 {
		return fmt.Errorf("%w: %d must be greater than zero", ErrInvalidAmount, amount)
	}

	return nil
}

// Format renders a minor-unit amount in major units followed by the code,
// such as "12.34 USD", "-0.05 USD" or "100 JPY". It is meant for logs and
// documentation, not for parsing or for display to end users.
func Format(amount int64, c Currency) string {
	negative := amount < 0

	// FormatInt also renders math.MinInt64, whose magnitude does not fit in
	// an int64, so the sign is cut from its output.
	digits := strconv.FormatInt(amount, 10)
	if negative {
		digits = digits[1:]
	}

	if c.scale > 0 {
		digits = insertPoint(digits, c.scale)
	}

	var b strings.Builder
	if negative {
		b.WriteByte('-')
	}

	b.WriteString(digits)
	b.WriteByte(' ')
	b.WriteString(c.code)

	return b.String()
}

// insertPoint places a decimal point scale digits from the right of digits,
// padding with leading zeros so that at least one digit precedes the point.
func insertPoint(digits string, scale int) string {
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}

	split := len(digits) - scale

	return digits[:split] + "." + digits[split:]
}
