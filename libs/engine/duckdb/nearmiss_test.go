package duckdb_test

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine/duckdb"
)

// TestNearMissCarriesItsColumns: a near miss's reason and other key are
// worked out once the closest record is chosen (sqlplan.NearMisses), from
// the columns its pair carried or, for a rule of one tolerance, from the
// records joined back. A column named with quotes and a space, and a side
// without a primary key (its records named by row number), come out as
// they do everywhere else, either way: the engine made to take the nearest
// value's path where it can, a condition that always holds (startswith on
// the key) takes the rule off it.
func TestNearMissCarriesItsColumns(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, extra string }{
		{"nearest_value", ""},
		{"every_pair", `, {left: ref, op: startswith, right: ref}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _ := oracleCase(t,
				"id,ref,\"it's \"\"amt\"\"\"\n1,A,10.00\n",
				"ref,\"it's \"\"amt\"\"\"\nA,15.00\nA,12.00\nB,10.00\n", `
recipe_id: test
sources:
  left: {alias: l, uri: "file://left.csv", primary_key: [id]}
  right: {alias: r, uri: "file://right.csv"}
match_rules:
  - {name: t, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: "it's \"amt\"", op: tolerance, right: "it's \"amt\"", threshold: 0.01}`+tt.extra+`]}
`)
			o := engineResult(t, r, duckdb.CoarseAlways)
			near := func(u map[string]string) string { return u["kalla_near_key"] + ": " + u["kalla_near_reason"] }
			if got, want := near(o.unmatchedLeft[0]), `2: l.it's "amt" differs from r.it's "amt" by 2.00, tolerance 0.01`; got != want {
				t.Errorf("left 1's near miss %q, want %q", got, want)
			}
			var got []string
			for _, u := range o.unmatchedRight {
				got = append(got, u["kalla_row"]+" "+near(u))
			}
			want := []string{
				`1 1: l.it's "amt" differs from r.it's "amt" by 5.00, tolerance 0.01`,
				`2 1: l.it's "amt" differs from r.it's "amt" by 2.00, tolerance 0.01`,
				"3 : no l record has ref equal to its ref (rule t)",
			}
			if !slices.Equal(got, want) {
				t.Errorf("right near misses:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestNearMissNearestValues compares with the oracle the near misses of
// rules whose one condition besides their joins is a tolerance on numbers,
// a tolerance_pct or a date_within, which the engine finds as the nearest
// value below or above a record's (sqlplan's nearestValues): keys as coarse
// as a currency, repeated values, values at equal distances below and
// above (a tolerance_pct passing the one and failing the other), negative
// numbers and 0, integers, empty values and keys, eq_ci keys with blanks,
// and a tolerance_pct past 100%, which the right side's near misses find
// by comparing every pair.
func TestNearMissNearestValues(t *testing.T) {
	t.Parallel()
	rules := []string{
		`[{left: cur, op: eq, right: cur}, {left: amount, op: tolerance, right: amount, threshold: 0.5}]`,
		`[{left: cur, op: eq, right: cur}, {left: amount, op: tolerance, right: amount, threshold: 0}]`,
		`[{left: cur, op: eq, right: cur}, {left: units, op: tolerance, right: units, threshold: 2}]`,
		`[{left: name, op: eq_ci, right: name}, {left: day, op: date_within, right: day, threshold: 1}]`,
		`[{left: cur, op: eq, right: cur}, {left: name, op: eq_ci, right: name}, {left: amount, op: tolerance, right: amount, threshold: 1}]`,
		`[{left: cur, op: eq, right: cur}, {left: spread, op: tolerance_pct, right: spread, threshold: 20}]`,
		`[{left: cur, op: eq, right: cur}, {left: spread, op: tolerance_pct, right: spread, threshold: 100}]`,
		`[{left: cur, op: eq, right: cur}, {left: spread, op: tolerance_pct, right: spread, threshold: 150}]`,
		`[{left: cur, op: eq, right: cur}, {left: units, op: tolerance_pct, right: units, threshold: 0}]`,
		`[{left: cur, op: eq, right: cur}, {left: units, op: tolerance_pct, right: amount, threshold: 50}]`,
	}
	patterns := []string{`"1:1"`, `"1:N"`, `"M:N"`}
	eachSeed(t, 40, 25, func(t *testing.T, seed uint64, rng *rand.Rand) {
		side := func(n int) string {
			return csvOf("id,cur,name,amount,units,day,spread", n, func(i int) string {
				return fmt.Sprintf("%d,%s,%s,%s,%s,%s,%s", i+1,
					pick(rng, "EUR", "USD", "GBP", ""),
					pick(rng, "Acme", " acme", "ACME ", "Bolt", "bolt", "  ", ""),
					pick(rng, "", fmt.Sprintf("%d.%02d", rng.IntN(9)-4, 25*rng.IntN(4)), fmt.Sprintf("%d.00", rng.IntN(20))),
					pick(rng, "", fmt.Sprint(rng.IntN(30)-10), "-9223372036854775807"),
					pick(rng, "", fmt.Sprintf("2024-01-%02d", 1+rng.IntN(9))),
					// Far apart, so that the nearest values fail a
					// tolerance_pct where farther ones pass.
					pick(rng, "", "0.0", fmt.Sprintf("%d.%d", rng.IntN(2001)-1000, 5*rng.IntN(2))))
			})
		}
		rule := nearRule(patterns[rng.IntN(len(patterns))], rules[int(seed)%len(rules)])
		// Past 64 records DuckDB's ASOF join sorts instead of looping,
		// and there it matched empty values to the largest or smallest.
		size := func() int { return 10 + rng.IntN(60) + int(seed%2)*(100+rng.IntN(200)) }
		r, dir := oracleCase(t, side(size()), side(size()), recipeYAML(rule))
		compareEachWay(t, r, oracleResult(t, r, dir), nearWays)
	})
}

// TestNearMissPastAHundredPercent: past 100%, a tolerance_pct passes a
// right record with the left values of the other sign far enough from 0
// too, so the nearest left value may fail where a farther one passes. Right
// 2 takes left 1 (-30, equal); right 1 (10) is left unmatched, and its near
// miss is left 1 (passing, |-30 - 10| = 40 <= 150% of 30), not left 2 (1,
// the nearest, failing). Either way the engine takes keys, the right
// side's near misses compare every pair.
func TestNearMissPastAHundredPercent(t *testing.T) {
	t.Parallel()
	r, dir := oracleCase(t, "id,cur,v\n1,EUR,-30\n2,EUR,1\n", "id,cur,v\n1,EUR,10\n2,EUR,-30\n", recipeYAML(`
  - {name: pct, pattern: "1:1", conditions: [{left: cur, op: eq, right: cur}, {left: v, op: tolerance_pct, right: v, threshold: 150}]}
`))
	compareEachWay(t, r, oracleResult(t, r, dir), nearWays)
	wantNearMiss(t, r, "right", "1", "1")
}

// apartRule is TestNearMissApart's and TestNearMissApartWideDecimals'
// recipe: the amount within a cent and the day within 30, under one
// currency.
var apartRule = recipeYAML(`
  - {name: apart, pattern: "1:1", conditions: [{left: cur, op: eq, right: cur}, {left: amount, op: tolerance, right: amount, threshold: 0.01}, {left: day, op: date_within, right: day, threshold: 30}]}
`)

// TestNearMissApart: a record whose every pair fails every condition, all
// of which band, has its closest at its nearest values on the first
// condition, below or above its own, then the nearest on the next, then
// the smaller key. Invoice 1 (100.00 on 1 January) is 200.00 from
// payments 1 and 2 (300.00 on 15 June, alike) and 3 (-100.00 on 15
// July): payment 1, on the nearer day, with the smaller key. Invoice 2
// (500.00 on 1 January 2025) is 200.00 from payments 1 and 2 (200 days)
// and 4 (700.00 on 1 March, 59 days): payment 4. Under coarse keys no round
// settles them (their closest fails both conditions) and the bands hold
// no pair passing one, so the lookups at the nearest values must settle
// both.
func TestNearMissApart(t *testing.T) {
	t.Parallel()
	r, dir := oracleCase(t, "id,cur,amount,day\n1,EUR,100.00,2024-01-01\n2,EUR,500.00,2025-01-01\n",
		"id,cur,amount,day\n1,EUR,300.00,2024-06-15\n2,EUR,300.00,2024-06-15\n3,EUR,-100.00,2024-07-15\n4,EUR,700.00,2025-03-01\n", apartRule)
	compareEachWay(t, r, oracleResult(t, r, dir), nearWays)
	var apart int64
	o := engineResult(t, r, duckdb.CoarseAlways, func(e *duckdb.Engine) {
		duckdb.Widened(e, func(step duckdb.WidenStep) {
			if step.Kind == "apart" && step.Left == 2 { // the invoices'
				apart += step.Settled
			}
		})
	})
	got := map[string]string{}
	for _, u := range o.unmatchedLeft {
		got[u["id"]] = u["kalla_near_key"]
	}
	if want := map[string]string{"1": "1", "2": "4"}; !maps.Equal(got, want) || apart != 2 {
		t.Errorf("invoices' near misses %v, want %v; settled at the nearest values: %d, want 2", got, want, apart)
	}
}

// TestNearMissApartWideDecimals: amounts of two places against values of
// 17 (scaled, 38 digits) are counted in whole units, where the nearest in
// units is not the nearest: invoice 1 (1000.00) is in the unit of payment
// 1 (1000.9), 0.9 away, and a unit from payment 2 (999.5), 0.5 away.
// Every pair failing both conditions, its closest is payment 2, which
// lookups in whole units would not see.
func TestNearMissApartWideDecimals(t *testing.T) {
	t.Parallel()
	r, dir := oracleCase(t, "id,cur,amount,day\n1,EUR,1000.00,2024-01-01\n",
		"id,cur,amount,day\n1,EUR,1000.90000000000000000,2024-06-15\n2,EUR,999.50000000000000000,2024-06-15\n", apartRule)
	compareEachWay(t, r, oracleResult(t, r, dir), nearWays)
	wantNearMiss(t, r, "left", "1", "2")
}

// wantNearMiss checks, each of coarseWays, that side's one unmatched record
// is id, with its near miss the other side's record key.
func wantNearMiss(t *testing.T, r *kallav1.Recipe, side, id, key string) {
	t.Helper()
	for _, w := range coarseWays {
		o := engineResult(t, r, w.set)
		unmatched := o.unmatchedLeft
		if side == "right" {
			unmatched = o.unmatchedRight
		}
		if len(unmatched) != 1 || unmatched[0]["id"] != id || unmatched[0]["kalla_near_key"] != key {
			t.Errorf("%s: unmatched %s %v, want %s %s with its near miss %s", w.name, side, unmatched, side, id, key)
		}
	}
}

// TestNearMissInBands compares with the oracle the near misses of rules of
// two or three conditions besides their joins, each of which bands (a
// tolerance, a tolerance_pct, a date_within), which under coarse keys the
// engine first seeks among the records in each condition's bands (sqlplan's
// NearMissSteps.Banded) where the rule does not widen (a fuzzy first),
// else by widening and then in the bands: values spread far apart, so
// that some records have records in their bands and others none, which
// are then compared with every record sharing their keys; empty values and
// keys; conditions in either order; a condition that does not band (gt,
// lte, text) before or after those that do.
func TestNearMissInBands(t *testing.T) {
	t.Parallel()
	rules := []string{
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
		`[{left: day, op: date_within, right: day, threshold: %[2]d}, {left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance_pct, right: amount, threshold: %[1]s}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: units, op: tolerance, right: units, threshold: 3}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: units, op: gt, right: units}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: day, op: date_within, right: day, threshold: %[2]d}, {left: units, op: lte, right: units}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance_pct, right: amount, threshold: %[1]s}, {left: units, op: tolerance, right: units, threshold: 3}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: units, op: lte, right: units}, {left: day, op: date_within, right: day, threshold: %[2]d}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}]`,
		`[{left: k, op: eq, right: k}, {left: ref, op: fuzzy, right: ref, threshold: 0.5}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: ref, op: startswith, right: ref}, {left: ref, op: fuzzy, right: ref, threshold: 0.8}, {left: amount, op: tolerance_pct, right: amount, threshold: %[1]s}, {left: units, op: tolerance, right: units, threshold: 3}]`,
		`[{left: k, op: eq, right: k}, {left: ref, op: endswith, right: ref}, {left: day, op: date_within, right: day, threshold: %[2]d}, {left: units, op: lte, right: units}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}]`,
	}
	patterns := []string{`"1:1"`, `"1:N"`, `"M:N"`}
	eachSeed(t, 44, 28, func(t *testing.T, seed uint64, rng *rand.Rand) {
		side := func(n int) string {
			return csvOf("id,k,amount,units,day,ref", n, func(i int) string {
				return fmt.Sprintf("%d,%s,%s,%s,%s,%s", i+1, pick(rng, "A", "B", "B", ""),
					pick(rng, "", fmt.Sprintf("%d.%02d", rng.IntN(1001)-500, rng.IntN(100))),
					pick(rng, "", fmt.Sprint(rng.IntN(200)-100)),
					pick(rng, "", time.Date(2023, 1, 1+rng.IntN(730), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)),
					pick(rng, "", "INV-1", "INV-12", "X", "INV-2"))
			})
		}
		thresholds := []string{"0.5", "5", "20"}
		conditions := fmt.Sprintf(rules[int(seed)%len(rules)], thresholds[rng.IntN(len(thresholds))], []int{0, 3, 30}[rng.IntN(3)])
		rule := nearRule(patterns[rng.IntN(len(patterns))], conditions)
		size := func() int { return 10 + rng.IntN(60) + int(seed%2)*(100+rng.IntN(200)) }
		r, dir := oracleCase(t, side(size()), side(size()), recipeYAML(rule))
		compareEachWay(t, r, oracleResult(t, r, dir), nearWays)
	})
}

// TestNearMissWidening compares with the oracle the near misses of rules
// whose first condition ranked by a distance is a tolerance, a
// date_within, a comparison or a tolerance_pct (after text conditions or
// none), which under coarse keys the engine
// seeks within a radius growing round by round (sqlplan's Widening): a
// comparison or a tolerance_pct passes values however far apart, so its
// rounds come after the records with a pair passing every condition,
// sought first in rounds of their own (near their value), then in the
// bands of a condition that bands (a tolerance_pct's own).
// A comparison of timestamps, or of a date and a timestamp, counts its
// radii in microseconds from a second. Values lie in clusters far
// apart, so that records settle in later rounds; conditions after the
// first band or not, so that some records' closest fails two conditions
// or more and is sought among every pair, or, where every condition bands,
// at the nearest values; decimals against integers (radii in cents); empty
// values and keys. Each seed runs coarse (every round), fine (by the
// window and by the aggregate), and as the engine judges the keys (books
// this small then compare every pair at once), and coarse with the lookups of the nearest
// others at each value wherever a rule allows them and, under a bounded
// first condition with another that bands, the records passing every
// condition settled before rounds from the same value however few pairs
// a round of the threshold compares. Across the seeds, records must settle
// passing every condition (in rounds of their own too, and under a
// bounded first), in a round past the first, in the bands after the
// rounds (rules of two conditions that band), by both kinds of lookups and
// at the nearest values failing every condition, and some must be left to
// compare every pair.
func TestNearMissWidening(t *testing.T) {
	t.Parallel()
	rules := []string{
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: day, op: gte, right: day}]`,
		`[{left: k, op: eq, right: k}, {left: day, op: date_within, right: day, threshold: %[2]d}, {left: units, op: lt, right: units}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: ref, op: contains, right: ref}, {left: units, op: gte, right: units}]`,
		`[{left: units, op: tolerance, right: units, threshold: %[2]d}, {left: k, op: eq, right: k}, {left: amount, op: tolerance_pct, right: amount, threshold: 10}]`,
		`[{left: k, op: eq, right: k}, {left: day, op: date_within, right: day, threshold: %[2]d}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: ref, op: startswith, right: ref}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: units, threshold: %[1]s}, {left: day, op: lte, right: day}]`,
		`[{left: k, op: eq, right: k}, {left: units, op: tolerance, right: amount, threshold: %[1]s}, {left: ref, op: endswith, right: ref}]`,
		`[{left: k, op: eq, right: k}, {left: day, op: gte, right: day}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: lt, right: units}, {left: day, op: date_within, right: day, threshold: %[2]d}, {left: ref, op: contains, right: ref}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance_pct, right: amount, threshold: 10}, {left: day, op: lte, right: day}, {left: units, op: tolerance, right: units, threshold: %[2]d}]`,
		`[{left: units, op: gte, right: amount}, {left: k, op: eq, right: k}, {left: day, op: date_within, right: day, threshold: %[2]d}, {left: amount, op: tolerance, right: units, threshold: %[1]s}]`,
		`[{left: k, op: eq, right: k}, {left: units, op: gt, right: units}, {left: ref, op: endswith, right: ref}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: units, op: lte, right: units}, {left: amount, op: tolerance_pct, right: amount, threshold: 10}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: ref, op: contains, right: ref}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: day, op: gte, right: day}]`,
		`[{left: k, op: eq, right: k}, {left: ref, op: startswith, right: ref}, {left: ref, op: gt, right: ref}, {left: day, op: lt, right: day}, {left: units, op: tolerance, right: units, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: ts, op: gte, right: ts}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}]`,
		`[{left: k, op: eq, right: k}, {left: day, op: lt, right: ts}, {left: amount, op: tolerance_pct, right: amount, threshold: 10}, {left: units, op: tolerance, right: units, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: ref, op: contains, right: ref}, {left: ts, op: lte, right: ts}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: %[1]s}, {left: day, op: date_within, right: day, threshold: %[2]d}]`,
	}
	patterns := []string{`"1:1"`, `"1:N"`, `"M:N"`}
	var mu sync.Mutex
	// Records settled passing every condition, past the first round, and
	// in the bands after the rounds; by lookups; left to compare every
	// pair; settled in rounds of a timestamp comparison.
	var passing, nearby, later, banded, looked, nearest, apart, rest, timed, bounded int64
	t.Cleanup(func() {
		if passing == 0 || nearby == 0 || later == 0 || banded == 0 || looked == 0 || nearest == 0 || apart == 0 || rest == 0 || timed == 0 || bounded == 0 {
			t.Errorf("records settled passing every condition: %d, in rounds before that step: %d, past the first round: %d, in the bands: %d, by lookups: %d, by lookups of the nearest: %d, at the nearest values failing every condition: %d, left to compare every pair: %d, in rounds of timestamps: %d, passing every condition under a bounded first: %d; want some of each",
				passing, nearby, later, banded, looked, nearest, apart, rest, timed, bounded)
		}
	})
	eachSeed(t, 60, 29, func(t *testing.T, seed uint64, rng *rand.Rand) {
		thresholds := []string{"0", "0.5", "5"}
		conditions := fmt.Sprintf(rules[int(seed)%len(rules)], thresholds[rng.IntN(len(thresholds))], []int{0, 3}[rng.IntN(2)])
		rule := nearRule(patterns[rng.IntN(len(patterns))], conditions)
		size := func() int { return 20 + rng.IntN(60) + int(seed%2)*(200+rng.IntN(200)) }
		r, dir := oracleCase(t, clusteredSide(rng, size()), clusteredSide(rng, size()), recipeYAML(rule))
		want := oracleResult(t, r, dir)
		widened := func(e *duckdb.Engine) {
			duckdb.Widened(e, func(step duckdb.WidenStep) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case step.Kind == "passing":
					passing += step.Settled
				case step.Kind == "round" && step.Round > 0:
					later += step.Settled
				case step.Kind == "bands":
					banded += step.Settled
				case step.Kind == "lookups":
					looked += step.Settled
				case step.Kind == "apart":
					apart += step.Settled
				case step.Kind == "rest":
					rest += step.Left
				}
				if step.Kind == "round" && strings.Contains(conditions, "right: ts}") {
					timed += step.Settled
				}
			})
		}
		t.Run("coarse", func(t *testing.T) { compare(t, r, engineResult(t, r, duckdb.CoarseAlways, widened), want) })
		// Rules 3 and 4 have a bounded first condition and another that bands.
		boundedFirst := int(seed)%len(rules) == 3 || int(seed)%len(rules) == 4
		t.Run("coarse_nearest_lookups_passing_first", func(t *testing.T) {
			compare(t, r, engineResult(t, r, duckdb.CoarseAlways, duckdb.NearestLookups, duckdb.PassingFirst, func(e *duckdb.Engine) {
				duckdb.Widened(e, func(step duckdb.WidenStep) {
					mu.Lock()
					defer mu.Unlock()
					if step.Nearest {
						nearest += step.Settled
					}
					if step.Kind == "passing_round" {
						nearby += step.Settled
					}
					if strings.HasPrefix(step.Kind, "passing") && boundedFirst {
						bounded += step.Settled
					}
				})
			}), want)
		})
		t.Run("fine", func(t *testing.T) { compare(t, r, engineResult(t, r, duckdb.CoarseNever), want) })
		t.Run(aggregateWay.name, func(t *testing.T) { compare(t, r, engineResult(t, r, aggregateWay.set), want) })
		t.Run("by_keys", func(t *testing.T) { compare(t, r, engineResult(t, r), want) })
	})
}

// TestNearMissWideningPassing: under a comparison first, a record's closest
// may pass every condition however far apart it is. Invoices 1 and 2 tie
// for payment 1, ten days before them; invoice 1 takes it. Invoice 2's
// closest is payment 1 (it passes every condition; it was matched
// instead), not payment 2, on its day but 400.00 off; widening's first
// round, within a day, would settle payment 2 were the records passing
// every condition not settled before it. So under a date_within first
// with the amount within a cent after it, whose rounds start at the same
// day (not at its threshold) once those records are settled, in the
// amount's bands, where a round of the threshold would compare many pairs
// (duckdb.PassingFirst: always): there the steps of the records passing
// every condition (its rounds, or the one in the bands) must settle
// invoice 2.
func TestNearMissWideningPassing(t *testing.T) {
	t.Parallel()
	for name, first := range map[string]string{
		"comparison_first": "{left: day, op: gte, right: day}",
		"bounded_first":    "{left: day, op: date_within, right: day, threshold: 30}",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, dir := oracleCase(t,
				"id,cur,day,amount\n1,EUR,2024-01-20,100.00\n2,EUR,2024-01-20,100.00\n",
				"id,cur,day,amount\n1,EUR,2024-01-10,100.00\n2,EUR,2024-01-20,500.00\n", recipeYAML(`
  - {name: near, pattern: "1:1", conditions: [{left: cur, op: eq, right: cur}, `+first+`, {left: amount, op: tolerance, right: amount, threshold: 0.01}]}
`))
			compareEachWay(t, r, oracleResult(t, r, dir), nearWays)
			wantNearMiss(t, r, "left", "2", "1")
			var passing int64
			engineResult(t, r, duckdb.CoarseAlways, duckdb.PassingFirst, func(e *duckdb.Engine) {
				duckdb.Widened(e, func(step duckdb.WidenStep) {
					if strings.HasPrefix(step.Kind, "passing") {
						passing += step.Settled
					}
				})
			})
			if passing != 1 {
				t.Errorf("records settled passing every condition: %d, want 1 (invoice 2)", passing)
			}
		})
	}
}

// TestNearMissLookups: under a comparison of timestamps first and one
// condition that bands, widening settles records by lookups. Invoice 1's
// closest is payment 3: payments 2 and 3 are a day before it (they pass
// the comparison, not the amount) and payment 3's amount is the nearer;
// payment 1 is within the amount but five days after it, failing the
// comparison. Payments 2 and 3 share their time: the lookup must take
// every payment at the nearest time, not one of them. Under gt, payment 4,
// at the invoice's own time, fails both: the nearest time passing gt is
// the day before, not the nearest time. With the invoice twice, the
// invoices' steps count the pairs they compare, two of each: the
// passing step payment 1 (the one in the amount's bands: amounts in whole
// units, the invoice's and the next on each side), the lookups that one
// and the three at the nearest times (the day before and 25 January under
// gte; the day before and the invoice's own time under gt), or, by the
// lookups of the nearest, one at each of those two times.
func TestNearMissLookups(t *testing.T) {
	t.Parallel()
	payments := "id,cur,at,amount\n1,EUR,2024-01-25 12:00:00,100.00\n2,EUR,2024-01-19 12:00:00,500.00\n3,EUR,2024-01-19 12:00:00,499.00\n"
	invoice := "1,EUR,2024-01-20 12:00:00,100.00\n"
	for name, c := range map[string]struct{ op, payments string }{
		"gte":                   {"gte", payments},
		"gt_with_an_equal_time": {"gt", payments + "4,EUR,2024-01-20 12:00:00,300.00\n"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rule := recipeYAML(`
  - {name: near, pattern: "1:1", conditions: [{left: cur, op: eq, right: cur}, {left: at, op: ` + c.op + `, right: at}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]}
`)
			r, dir := oracleCase(t, "id,cur,at,amount\n"+invoice, c.payments, rule)
			compareEachWay(t, r, oracleResult(t, r, dir), append(coarseWays, nearestWay))
			wantNearMiss(t, r, "left", "1", "3")

			twice, _ := oracleCase(t, "id,cur,at,amount\n"+invoice+"2"+invoice[1:], c.payments, rule)
			for _, w := range []struct {
				way
				lookups int64
			}{{coarseWays[0], 8}, {nearestWay, 6}} {
				pairs := map[string]int64{}
				engineResult(t, twice, w.set, func(e *duckdb.Engine) {
					duckdb.Widened(e, func(step duckdb.WidenStep) {
						if _, seen := pairs[step.Kind]; !seen { // the invoices' steps come first
							pairs[step.Kind] = step.Pairs
						}
					})
				})
				if pairs["passing"] != 2 || pairs["lookups"] != w.lookups {
					t.Errorf("%s: the invoices' steps counted %v pairs, want passing 2 and lookups %d", w.name, pairs, w.lookups)
				}
			}
		})
	}
}

// TestNearMissWideningWideDecimals: widening counts its radii in the finer
// decimal place of the two columns, where their values so scaled keep
// within DuckDB's 38 digits. Amounts of two places against values of 17
// (scaled, 40 digits: they would overflow) are counted in whole units; the
// run must end as the oracle's, coarse and fine.
func TestNearMissWideningWideDecimals(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 31))
	side := func(places int) string {
		return csvOf("id,cur,amount,day", 60, func(i int) string {
			amount := fmt.Sprintf("%d.%02d", rng.IntN(200000)-100000, rng.IntN(100))
			if places > 2 {
				amount += strings.Repeat(fmt.Sprint(rng.IntN(10)), places-2)
			}
			return fmt.Sprintf("%d,%s,%s,2024-01-%02d", i+1, pick(rng, "EUR", "USD"), amount, 1+rng.IntN(28))
		})
	}
	r, dir := oracleCase(t, side(2), side(17), recipeYAML(`
  - {name: near, pattern: "1:1", conditions: [{left: cur, op: eq, right: cur}, {left: amount, op: tolerance, right: amount, threshold: 7}, {left: day, op: date_within, right: day, threshold: 1}]}
`))
	compareEachWay(t, r, oracleResult(t, r, dir), nearWays)
}

// TestMixedDecimalPlaces: decimals of at most 18 digits each that need
// more together, 2 places and 15 integer digits against 4 places (as
// CSV inference declares them, DECIMAL(17,2) against DECIMAL(15,4) or
// wider). DuckDB computes two such columns in the narrow type of the
// wider places and scales a narrow one by 10^n in its own width: the
// difference of the ranks refused the 2-place values ("out of range"), the
// bands in hundredths of a cent overflowed and the rule was refused as
// too wide. Each rule must end as the oracle's, coarse and fine.
func TestMixedDecimalPlaces(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 5))
	side := func(places, digits int) string {
		return csvOf("id,cur,amount,day", 80, func(i int) string {
			whole := rng.Int64N(int64(math.Pow10(digits)))
			if rng.IntN(4) == 0 {
				whole = rng.Int64N(1000) // some near the others
			}
			amount := fmt.Sprintf("%d.%0*d", whole-int64(math.Pow10(digits))/2*int64(rng.IntN(2)), places, rng.IntN(int(math.Pow10(places))))
			return fmt.Sprintf("%d,%s,%s,2024-01-%02d", i+1, pick(rng, "EUR", "USD"), amount, 1+rng.IntN(28))
		})
	}
	for name, conditions := range map[string]string{
		"tolerance":           `{left: amount, op: tolerance, right: amount, threshold: 3}, {left: day, op: date_within, right: day, threshold: 2}`,
		"tolerance_pct":       `{left: amount, op: tolerance_pct, right: amount, threshold: 50}, {left: day, op: gte, right: day}`,
		"tolerance_alone":     `{left: amount, op: tolerance, right: amount, threshold: 3}`,
		"tolerance_pct_alone": `{left: amount, op: tolerance_pct, right: amount, threshold: 50}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, dir := oracleCase(t, side(2, 15), side(4, 11), recipeYAML(`
  - {name: near, pattern: "1:1", conditions: [{left: cur, op: eq, right: cur}, `+conditions+`]}
`))
			compareEachWay(t, r, oracleResult(t, r, dir), nearWays)
		})
	}
}

// TestUnitsAtTheEdge holds values at the ends of the integer types that
// bands count units in: 18 digits (BIGINT units, a band beside them one
// further), 19 (HUGEINT units, as the BIGINT's ends are), and decimals of
// 17 and 18 digits scaled to their place (those of 18 differ by 19 digits,
// of opposite signs). Rounds, stages and lookups band them under coarse
// keys.
func TestUnitsAtTheEdge(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(18, 19))
	side := func() string {
		return csvOf("id,cur,d17,d18,i18,i19,day", 60, func(i int) string {
			sign := pick(rng, "", "-")
			near := func(end int64) int64 { return end - rng.Int64N(40) }
			i19 := fmt.Sprint(near(math.MaxInt64))
			if sign == "-" && rng.IntN(3) == 0 {
				i19, sign = fmt.Sprint(int64(math.MinInt64)), ""
			}
			return fmt.Sprintf("%d,%s,%s%d.%d,%s%d.%d,%s%d,%s%s,2024-01-%02d", i+1, pick(rng, "EUR", "USD"),
				sign, near(9999999999999999), rng.IntN(10), sign, near(99999999999999999), rng.IntN(10),
				sign, near(999999999999999999), sign, i19, 1+rng.IntN(28))
		})
	}
	for _, column := range []string{"d17", "d18", "i18", "i19"} {
		t.Run(column, func(t *testing.T) {
			t.Parallel()
			r, dir := oracleCase(t, side(), side(), recipeYAML(fmt.Sprintf(`
  - {name: near, pattern: "1:1", conditions: [{left: cur, op: eq, right: cur}, {left: %[1]s, op: tolerance, right: %[1]s, threshold: 0}, {left: day, op: date_within, right: day, threshold: 2}]}
  - {name: apart, pattern: "1:1", conditions: [{left: cur, op: eq, right: cur}, {left: %[1]s, op: lte, right: %[1]s}, {left: %[1]s, op: tolerance, right: %[1]s, threshold: 5}]}
`, column)))
			compareEachWay(t, r, oracleResult(t, r, dir), append(slices.Clone(nearWays), way{"stages_passing_first", func(e *duckdb.Engine) {
				duckdb.CoarseAlways(e)
				duckdb.StagesAlways(e)
				duckdb.PassingFirst(e)
			}}))
		})
	}
}

// nearRule is a recipe's rule named near, as recipeYAML takes it.
func nearRule(pattern, conditions string) string {
	return fmt.Sprintf("\n  - name: near\n    pattern: %s\n    conditions: %s\n", pattern, conditions)
}

// pick is one of values, chosen by rng.
func pick[T any](rng *rand.Rand, values ...T) T { return values[rng.IntN(len(values))] }

// clusteredSide is a side of n records for widening and stages: values in
// clusters far apart; a quarter of the records repeat the one before, so
// that records contend for the same others; some values and keys empty.
func clusteredSide(rng *rand.Rand, n int) string {
	var last string
	return csvOf("id,k,amount,units,day,ref,ts", n, func(i int) string {
		if last == "" || rng.IntN(4) > 0 {
			cluster := []int{-100000, 0, 0, 3000, 250000}[rng.IntN(5)]
			day := time.Date(2023, 1, 1+cluster/1000+rng.IntN(60), 0, 0, 0, 0, time.UTC)
			// Timestamps of a few hours a day, some a second or less
			// apart, others days and months.
			ts := day.Add(time.Duration(rng.IntN(3))*time.Hour + time.Duration(rng.IntN(90))*time.Second +
				time.Duration(pick(rng, 0, 1, 500000))*time.Microsecond)
			last = fmt.Sprintf("%s,%s,%s,%s,%s,%s", pick(rng, "A", "B", "B", ""),
				pick(rng, "", fmt.Sprintf("%d.%02d", cluster+rng.IntN(41)-20, rng.IntN(100))),
				pick(rng, "", fmt.Sprint(cluster/100+rng.IntN(200)-100)),
				pick(rng, "", day.Format(time.DateOnly)),
				pick(rng, "", "INV-1", "INV-12", "X"),
				pick(rng, "", ts.Format("2006-01-02 15:04:05.000000")))
		}
		return fmt.Sprintf("%d,%s", i+1, last)
	})
}
