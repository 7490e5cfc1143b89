package duckdb_test

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/kallahq/kalla/libs/engine/duckdb"
)

// stagesWay takes keys as coarse and 1:1 rules' pairs in stages of their
// first ranked condition's distance (sqlplan's Stages) while a stage
// compares fewer pairs than the rest at once.
var stagesWay = way{"coarse_in_stages", func(e *duckdb.Engine) { duckdb.CoarseAlways(e); duckdb.StagesAlways(e) }}

// TestMatchInStages compares with the oracle 1:1 rules whose candidates
// the engine makes in stages, after an exact rule whose matches are no
// candidates: the first ranked condition a comparison, a tolerance, a
// tolerance_pct or a date_within, of decimals, integers against decimals,
// dates, or timestamps (against dates too); after a condition that ranks
// nothing, and before others that rank ties. Values lie in clusters far
// apart, a quarter of the records repeat the one before (ties the order
// breaks by keys), some values and keys are empty. Each seed runs in
// stages under one of the ways 1:1 rules end their rounds. Across the
// seeds, stages must take pairs at equal values and past them, also past
// the same day under a date_within first.
func TestMatchInStages(t *testing.T) {
	t.Parallel()
	rules := []string{
		`[{left: k, op: eq, right: k}, {left: amount, op: gte, right: amount}, {left: amount, op: tolerance, right: amount, threshold: {T}}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: {T}}, {left: day, op: gte, right: day}]`,
		`[{left: k, op: eq, right: k}, {left: day, op: date_within, right: day, threshold: {D}}, {left: amount, op: tolerance, right: amount, threshold: {T}}]`,
		`[{left: k, op: eq, right: k}, {left: units, op: lte, right: amount}]`,
		`[{left: k, op: eq, right: k}, {left: amount, op: tolerance_pct, right: amount, threshold: 10}, {left: day, op: lt, right: day}]`,
		`[{left: k, op: eq, right: k}, {left: ts, op: gte, right: ts}, {left: amount, op: tolerance, right: amount, threshold: {T}}]`,
		`[{left: k, op: eq, right: k}, {left: day, op: gt, right: ts}]`,
		`[{left: k, op: eq, right: k}, {left: ref, op: contains, right: ref}, {left: amount, op: lt, right: amount}, {left: units, op: tolerance, right: units, threshold: {D}}]`,
		`[{left: day, op: lte, right: day}, {left: k, op: eq, right: k}, {left: units, op: gt, right: units}]`,
		// Loose on the amount, so that stages of days compare fewer pairs than its bands.
		`[{left: k, op: eq, right: k}, {left: day, op: date_within, right: day, threshold: 20}, {left: amount, op: tolerance, right: amount, threshold: 40}]`,
	}
	var mu sync.Mutex
	var equal, past, pastDays int64 // pairs taken by stages at equal values, farther apart, and so under a date_within first
	t.Cleanup(func() {
		if equal == 0 || past == 0 || pastDays == 0 {
			t.Errorf("pairs taken by stages at equal values: %d, farther apart: %d (under a date_within first: %d); want some of each", equal, past, pastDays)
		}
	})
	eachSeed(t, 50, 31, func(t *testing.T, seed uint64, rng *rand.Rand) {
		conditions := strings.NewReplacer("{T}", pick(rng, "0", "0.5", "5", "40"), "{D}", pick(rng, "0", "3", "20")).Replace(rules[int(seed)%len(rules)])
		rule := "\n  - name: exact\n    pattern: \"1:1\"\n    conditions: [{left: k, op: eq, right: k}, {left: amount, op: eq, right: amount}, {left: day, op: eq, right: day}]\n" +
			nearRule(`"1:1"`, conditions)
		size := func() int { return 20 + rng.IntN(60) + int(seed%2)*(200+rng.IntN(200)) }
		r, dir := oracleCase(t, clusteredSide(rng, size()), clusteredSide(rng, size()), recipeYAML(rule))
		staged := func(e *duckdb.Engine) {
			duckdb.Staged(e, func(radius, taken int64) {
				mu.Lock()
				defer mu.Unlock()
				switch { // the pairs equal in every condition (radius < 0) are TestMatchEqualFirst's
				case radius == 0:
					equal += taken
				case radius > 0:
					past += taken
					if strings.Contains(conditions, "date_within") {
						pastDays += taken
					}
				}
			})
		}
		walk := walks[seed%uint64(len(walks))]
		compare(t, r, engineResult(t, r, stagesWay.set, walk.set, staged), oracleResult(t, r, dir))
	})
}
