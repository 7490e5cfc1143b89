package duckdb_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestExponentsAgainstBigRat reads random numbers written with exponents,
// in columns set to decimal, and compares each value the engine writes back
// with the value math/big reads from the same text. Even files hold narrow
// columns (DuckDB's 64-bit decimals), odd files wide ones.
func TestExponentsAgainstBigRat(t *testing.T) {
	t.Parallel()
	for file := range 16 {
		t.Run(fmt.Sprint("file_", file), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(file), 7))
			values := make([]string, 40)
			for i := range values {
				values[i] = randomExponent(rng, file%2 == 1)
			}
			readsExactly(t, values)
		})
	}
	t.Run("zeros", func(t *testing.T) {
		t.Parallel()
		readsExactly(t, []string{"0e999", "-0.00e-999", "0E5", "1.5"})
	})
}

// readsExactly reads values from a CSV column set to decimal and compares
// each value the engine writes back with the value math/big reads.
func readsExactly(t *testing.T, values []string) {
	t.Helper()
	var left strings.Builder
	left.WriteString("id,v\n")
	for i, v := range values {
		fmt.Fprintf(&left, "%d,%s\n", i+1, v)
	}
	recipe := strings.Replace(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: id, op: eq, right: id}]}\n"),
		"primary_key: [id]}", "primary_key: [id], types: {v: decimal}}", 1)
	o := mustReconcile(t, left.String(), "id\n0\n", recipe)
	if len(o.unmatchedLeft) != len(values) {
		t.Fatalf("%d unmatched, want %d", len(o.unmatchedLeft), len(values))
	}
	for i, u := range o.unmatchedLeft {
		want, _ := new(big.Rat).SetString(values[i])
		got, ok := new(big.Rat).SetString(u["v"])
		if !ok || got.Cmp(want) != 0 {
			t.Errorf("%s read as %s", values[i], u["v"])
		}
	}
}

// randomExponent writes a number as [+-]digits[.digits]e[+-]digits, with
// leading zeros now and then: a column of them needs at most 16 digits
// (narrow) or 36 (wide) once the points are moved.
func randomExponent(rng *rand.Rand, wide bool) string {
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	whole, frac, exp := 1+rng.IntN(4), rng.IntN(4), rng.IntN(9)-4
	if wide {
		whole, frac, exp = 1+rng.IntN(10), rng.IntN(11), rng.IntN(17)-8
	}
	s := []string{"", "-", "+"}[rng.IntN(3)] + digits(whole)
	if frac > 0 {
		s += "." + digits(frac)
	}
	sign := []string{"", "+"}[rng.IntN(2)]
	if exp < 0 {
		sign, exp = "-", -exp
	}
	return s + []string{"e", "E"}[rng.IntN(2)] + sign + fmt.Sprint(exp)
}
