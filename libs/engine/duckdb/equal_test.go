package duckdb_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/engine/duckdb"
)

// TestMatchEqualFirst compares with the oracle 1:1 rules over records that
// tie in blocks of equal values: a rule of join keys alone, whose pairs
// the engine numbers within each block instead of making them, and rules
// whose every condition ranks a pair 0 only where its values are equal,
// which take those pairs first where keys are coarse (under a fuzzy first,
// then the rest at once). Values come from few choices, so that blocks
// hold many records, and sit next to values a cent, a day or a microsecond
// away; some are empty, some text differs only in case or blanks or holds
// another. Half the seeds run after an exact rule, whose matches are no
// candidates. Each seed runs the engine's own way, with keys taken as
// fine, and in stages (the equal pairs first whatever their count), each
// under one of the ways rounds end. Across the seeds, the stage of equal
// pairs must take pairs.
func TestMatchEqualFirst(t *testing.T) {
	t.Parallel()
	rules := []string{
		`[{left: k, op: eq, right: k}, {left: amount, op: eq, right: amount}]`,
		`[{left: name, op: eq_ci, right: name}, {left: day, op: eq, right: day}]`,
		`[{left: units, op: eq, right: amount}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: gte, right: amount}, {left: amount, op: tolerance, right: amount, threshold: 0.5}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: 0.02}, {left: day, op: date_within, right: day, threshold: 3}]`,
		`[{left: k, op: eq, right: k}, {left: ts, op: date_within, right: ts, threshold: 1}, {left: amount, op: tolerance, right: amount, threshold: 0}]`,
		`[{left: k, op: eq, right: k}, {left: ts, op: lte, right: ts}, {left: amount, op: tolerance_pct, right: amount, threshold: 5}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: 1}, {left: name, op: fuzzy, right: name, threshold: 0.5}]`,
		`[{left: k, op: eq, right: k}, {left: day, op: gte, right: ts}, {left: units, op: lte, right: amount}]`,
		`[{left: k, op: eq, right: k}, {left: name, op: fuzzy, right: name, threshold: 0.6}, {left: amount, op: tolerance, right: amount, threshold: 1}]`,
		// Not all equal pairs: gt fails them, contains ranks unequal pairs 0.
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: 1}, {left: units, op: gt, right: units}]`,
		`[{left: k, op: eq, right: k}, {left: name, op: contains, right: name}, {left: amount, op: lte, right: amount}]`,
	}
	var mu sync.Mutex
	var taken int64 // pairs taken by the stage of equal pairs
	t.Cleanup(func() {
		if taken == 0 {
			t.Error("the stage of pairs equal in every condition took no pair")
		}
	})
	staged := func(e *duckdb.Engine) {
		duckdb.Staged(e, func(radius, n int64) {
			if radius < 0 {
				mu.Lock()
				defer mu.Unlock()
				taken += n
			}
		})
	}
	ways := []way{
		{"by_keys", func(*duckdb.Engine) {}},
		{"fine", duckdb.CoarseNever},
		{stagesWay.name, func(e *duckdb.Engine) { stagesWay.set(e); staged(e) }},
	}
	eachSeed(t, 66, 47, func(t *testing.T, seed uint64, rng *rand.Rand) {
		rule := nearRule(`"1:1"`, rules[int(seed)%len(rules)])
		if seed%2 == 0 {
			rule = "\n  - name: exact\n    pattern: \"1:1\"\n    conditions: [{left: k, op: eq, right: k}, {left: amount, op: eq, right: amount}, {left: day, op: eq, right: day}, {left: units, op: eq, right: units}]\n" + rule
		}
		size := func() int { return 20 + rng.IntN(150) }
		r, dir := oracleCase(t, tiedSide(rng, size()), tiedSide(rng, size()), recipeYAML(rule))
		want := oracleResult(t, r, dir)
		walk := walks[seed%uint64(len(walks))]
		for _, w := range ways {
			t.Run(w.name, func(t *testing.T) {
				compare(t, r, engineResult(t, r, w.set, walk.set), want)
			})
		}
	})
}

// tiedSide is a side of n records whose values come from few choices, so
// that many records share them, their ids shuffled (key order is not the
// file's); some values are empty.
func tiedSide(rng *rand.Rand, n int) string {
	ids := rng.Perm(n)
	return csvOf("id,k,name,amount,units,day,ts", n, func(i int) string {
		day := time.Date(2024, 3, 1+rng.IntN(3), 0, 0, 0, 0, time.UTC)
		ts := day.Add(time.Duration(pick(rng, 0, 0, 1, 3600_000_000)) * time.Microsecond)
		return strings.Join([]string{
			fmt.Sprint(ids[i] + 1),
			pick(rng, "A", "A", "B", ""),
			pick(rng, "acme", "ACME", " Acme", "acme co", "acne", "beta", ""),
			pick(rng, "10.00", "10.00", "10.01", "10.50", "-3.00", ""),
			pick(rng, "10", "11", "-3", ""),
			pick(rng, day.Format(time.DateOnly), ""),
			pick(rng, ts.Format("2006-01-02 15:04:05.000000"), ""),
		}, ",")
	})
}

// TestBlocksOfJoinKeys compares with the oracle 1:N, M:1 and M:N rules of
// join keys alone over tiedSide's records, 1:N and M:1 with and without an
// aggregate check (some groups pass it, most do not), after an exact rule
// on half the seeds: the engine gives each record of the many side to the
// first record in key order of the one side sharing its keys, and links
// an M:N rule's records sharing keys into one group, without making the
// pairs of their blocks.
func TestBlocksOfJoinKeys(t *testing.T) {
	t.Parallel()
	rules := []string{
		"  - name: blocks\n    pattern: \"1:N\"\n    conditions: [{left: k, op: eq, right: k}, {left: day, op: eq, right: day}]\n",
		"  - name: blocks\n    pattern: \"M:1\"\n    conditions: [{left: name, op: eq_ci, right: name}]\n",
		"  - name: blocks\n    pattern: \"1:N\"\n    conditions: [{left: k, op: eq, right: k}, {left: units, op: eq, right: units}]\n    aggregate: {left: amount, right: amount, tolerance: 10}\n",
		"  - name: blocks\n    pattern: \"M:1\"\n    conditions: [{left: day, op: eq, right: day}]\n    aggregate: {left: amount, right: amount, tolerance: 15}\n",
		"  - name: blocks\n    pattern: \"M:N\"\n    conditions: [{left: k, op: eq, right: k}, {left: units, op: eq, right: amount}]\n",
		"  - name: blocks\n    pattern: \"M:N\"\n    conditions: [{left: name, op: eq_ci, right: name}, {left: day, op: eq, right: ts}]\n",
	}
	eachSeed(t, 24, 48, func(t *testing.T, seed uint64, rng *rand.Rand) {
		rule := "\n" + rules[int(seed)%len(rules)]
		if seed%2 == 0 {
			rule = "\n  - name: exact\n    pattern: \"1:1\"\n    conditions: [{left: k, op: eq, right: k}, {left: amount, op: eq, right: amount}, {left: ts, op: eq, right: ts}]\n" + rule
		}
		r, dir := oracleCase(t, tiedSide(rng, 10+rng.IntN(60)), tiedSide(rng, 10+rng.IntN(120)), recipeYAML(rule))
		compareEachWay(t, r, oracleResult(t, r, dir), coarseWays)
	})
}
