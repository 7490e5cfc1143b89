package duckdb_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/sqlplan"
)

// keyed is one side of a TestKeysJudged case: each record's key as written
// and the key it stands for (-1: none, an empty or blank value).
type keyed struct {
	written []string
	key     []int
}

func (k *keyed) add(written string, key int) {
	k.written = append(k.written, written)
	k.key = append(k.key, key)
}

// csv writes the side with ids from 1, the key and an amount.
func (k keyed) csv() string {
	var b strings.Builder
	b.WriteString("id,k,amount\n")
	for i, w := range k.written {
		fmt.Fprintf(&b, "%d,%s,%d.%02d\n", i+1, w, 10+i%997, i%100)
	}
	return b.String()
}

// sharedPairs counts the pairs of records whose keys are the same key.
func sharedPairs(l, r keyed) float64 {
	right := map[int]float64{}
	for _, k := range r.key {
		right[k]++
	}
	var pairs float64
	for _, k := range l.key {
		if k >= 0 {
			pairs += right[k]
		}
	}
	return pairs
}

// TestKeysJudged checks each rule's estimate of the pairs sharing its keys
// (exact when neither side has more records than sqlplan.KeySample, within
// a fifth beyond), and the judgement drawn from it: coarse above 16 pairs
// a record. A key shared by many records among many keys shared by few
// (skewed) makes as many pairs as a currency: counting distinct keys took
// such keys as fine, and its near misses compared every pair sharing keys
// record by record.
func TestKeysJudged(t *testing.T) {
	t.Parallel()
	unique := func(n int, spell func(int) string) keyed {
		var k keyed
		for i := range n {
			k.add(spell(i), i)
		}
		return k
	}
	ref := func(i int) string { return fmt.Sprintf("REF%06d", i) }
	skewed := func(n, big int) keyed {
		k := unique(n-big, ref)
		for range big {
			k.add("BIG", 1<<30)
		}
		return k
	}
	few := func(n int, spellings ...func(int) string) keyed {
		var k keyed
		for i := range n {
			k.add(spellings[i%len(spellings)](i%3), i%3)
		}
		return k
	}
	blanks := func(n int, blank string) keyed {
		k := unique(n/3, ref)
		for range n - n/3 {
			k.add(blank, -1)
		}
		return k
	}
	eq := "[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]"
	eqCI := "[{left: k, op: eq_ci, right: k}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]"
	tests := []struct {
		name        string
		left, right keyed
		conditions  string
		coarse      bool
	}{
		{"unique", unique(3000, ref), unique(2500, ref), eq, false},
		{"unique_large", unique(40000, ref), unique(30000, ref), eq, false},
		{"currencies", few(3000, ref), few(2000, ref), eq, true},
		{"currencies_large", few(40000, ref), few(30000, ref), eq, true},
		{"skewed", skewed(5000, 500), skewed(4000, 500), eq, true},
		{"skewed_large", skewed(40000, 3000), skewed(30000, 3000), eq, true},
		{"skewed_below", skewed(5000, 100), skewed(4000, 100), eq, false},
		{"empty_values", blanks(6000, ""), blanks(6000, ""), eq, false},
		{"blank_ci", blanks(6000, `"  "`), blanks(6000, " "), eqCI, false},
		{"spellings_ci", few(3000, func(i int) string { return fmt.Sprintf("eur%d", i) }), few(3000,
			func(i int) string { return fmt.Sprintf("EUR%d", i) },
			func(i int) string { return fmt.Sprintf("\" Eur%d \"", i) }), eqCI, true},
		{"numbers", few(3000, func(i int) string { return fmt.Sprint(i) }), few(3000, func(i int) string { return fmt.Sprintf("%d.00", i) }), eq, true},
		{"empty_right", few(3000, ref), keyed{}, eq, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rule := fmt.Sprintf("\n  - name: judged\n    pattern: 1:1\n    conditions: %s\n", tt.conditions)
			dir := writeFiles(t, tt.left.csv(), tt.right.csv(), recipeYAML(rule))
			var judged []float64
			var coarse bool
			e := &duckdb.Engine{Threads: 2}
			duckdb.JudgeKeys(e, func(pairs float64, c bool) { judged, coarse = append(judged, pairs), c })
			if _, err := runRecipeOn(t, filepath.Join(dir, "recipe.yaml"), e); err != nil {
				t.Fatal(err)
			}
			want := sharedPairs(tt.left, tt.right)
			exact := max(len(tt.left.key), len(tt.right.key)) <= sqlplan.KeySample
			switch {
			case len(judged) != 1:
				t.Fatalf("judged %d times, want once", len(judged))
			case exact && judged[0] != want:
				t.Errorf("estimated %.0f pairs sharing keys, want exactly %.0f", judged[0], want)
			case !exact && math.Abs(judged[0]-want) > want/5:
				t.Errorf("estimated %.0f pairs sharing keys, want %.0f within a fifth", judged[0], want)
			}
			if coarse != tt.coarse {
				t.Errorf("coarse = %t, want %t (%.0f pairs share keys, %d records)", coarse, tt.coarse, want, len(tt.left.key)+len(tt.right.key))
			}
		})
	}
}
