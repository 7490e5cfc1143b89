package extract

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestParseDecimal compares parseDecimal, fast path included, with exact
// rational arithmetic over random numeric texts around the 18-digit edge.
func TestParseDecimal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		return b.String()
	}
	cases := []struct {
		text  string
		scale int
	}{
		{"0", 2}, {"-0.50", 2}, {"12.3", 2}, {"999999999999999999", 0}, {"9999999999999999.99", 2},
		{"99999999999999999.99", 2}, {"-99999999999999999999.99", 2}, {"1.2300", 2}, {"NaN", 2}, {"1e5", 0}, {"12.345", 2},
	}
	for range 5000 {
		text := digits(1 + rng.IntN(21))
		if rng.IntN(3) == 0 {
			text += "." + digits(1+rng.IntN(5))
		}
		if rng.IntN(2) == 0 {
			text = "-" + text
		}
		cases = append(cases, struct {
			text  string
			scale int
		}{text, rng.IntN(5)})
	}
	for _, tc := range cases {
		got, err := parseDecimal([]byte(tc.text), tc.scale)
		want, wantErr := exactDecimal(tc.text, tc.scale)
		switch {
		case (err != nil) != (wantErr != nil):
			t.Errorf("parseDecimal(%q, %d): error %v, want error %v", tc.text, tc.scale, err, wantErr)
		case err == nil && got.ToString(int32(tc.scale)) != want:
			t.Errorf("parseDecimal(%q, %d) = %s, want %s", tc.text, tc.scale, got.ToString(int32(tc.scale)), want)
		}
	}
}

// exactDecimal is the reference: the value as a rational, refused when it
// needs more fraction digits than scale or is not a plain decimal.
func exactDecimal(text string, scale int) (string, error) {
	for i, c := range strings.TrimPrefix(text, "-") {
		if (c < '0' || c > '9') && !(c == '.' && i > 0) {
			return "", fmt.Errorf("not a number")
		}
	}
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return "", fmt.Errorf("not a number")
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !scaled.IsInt() {
		return "", fmt.Errorf("too many decimal places")
	}
	return r.FloatString(scale), nil
}

func BenchmarkParseDecimal(b *testing.B) {
	v := []byte("-1234567.89")
	for b.Loop() {
		parseDecimal(v, 2)
	}
}
