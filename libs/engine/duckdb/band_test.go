package duckdb_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCandidatesInBands compares with the oracle rules whose candidates are
// joined on bands of a tolerance's, a tolerance_pct's or a date_within's
// values besides their keys (sqlplan's band): values at the edges of bands
// (multiples of the threshold, a cent either side), negative ones and
// those around 0, dates around 1970-01-01 (negative days), differences
// exactly at thresholds of 0, a cent, fractions and whole numbers, ratios
// exactly at percentages. M:N makes every candidate pair a
// match, so a pair a band left out changes the groups. Each case runs with
// its keys taken as coarse (bands) and as fine (none).
func TestCandidatesInBands(t *testing.T) {
	t.Parallel()
	eachSeed(t, 40, 26, func(t *testing.T, seed uint64, rng *rand.Rand) {
		thresholds := []string{"0", "0.01", "0.5", "1", "2.5", "3"}
		threshold := thresholds[rng.IntN(len(thresholds))]
		days := rng.IntN(4) * (1 + rng.IntN(3))
		// 0.5 against 0.49 is exactly 2%, 1.00 against 0.99 1%, 2 and
		// 3 against 1.5 a third; 0 and 100 take no bands.
		pcts := []string{"1", "2", "25", "50", "33.34", "99.99", "0.001", "0", "100"}
		pct := pcts[rng.IntN(len(pcts))]
		conds := []string{
			fmt.Sprintf(`[{left: k, op: eq, right: k}, {left: amount, op: tolerance, right: amount, threshold: %s}]`, threshold),
			fmt.Sprintf(`[{left: k, op: eq, right: k}, {left: units, op: tolerance, right: units, threshold: %s}]`, threshold),
			fmt.Sprintf(`[{left: k, op: eq, right: k}, {left: day, op: date_within, right: day, threshold: %d}]`, days),
			fmt.Sprintf(`[{left: k, op: eq, right: k}, {left: day, op: date_within, right: day, threshold: %d}, {left: amount, op: tolerance, right: amount, threshold: %s}]`, days, threshold),
			fmt.Sprintf(`[{left: k, op: eq, right: k}, {left: amount, op: tolerance_pct, right: amount, threshold: %s}]`, pct),
			fmt.Sprintf(`[{left: k, op: eq, right: k}, {left: units, op: tolerance_pct, right: amount, threshold: %s}]`, pct),
		}
		cond := conds[int(seed)%len(conds)]
		zeros := strings.Contains(cond, "tolerance_pct") // 0 passes only with 0
		side := func(n int) string {
			return csvOf("id,k,amount,units,day", n, func(i int) string {
				cents := 100*(rng.IntN(13)-6)*[]int{1, 2, 3}[rng.IntN(3)]/2 + rng.IntN(3) - 1
				if zeros && rng.IntN(5) == 0 {
					cents = 0
				}
				sign := ""
				if cents < 0 {
					sign, cents = "-", -cents
				}
				day := fmt.Sprintf("1970-01-%02d", 1+rng.IntN(5))
				if rng.IntN(2) == 0 {
					day = fmt.Sprintf("1969-12-%02d", 27+rng.IntN(5))
				}
				return fmt.Sprintf("%d,K%d,%s%d.%02d,%d,%s", i+1, rng.IntN(2), sign, cents/100, cents%100, rng.IntN(13)-6, day)
			})
		}
		rule := fmt.Sprintf("\n  - name: banded\n    pattern: M:N\n    conditions: %s\n", cond)
		r, dir := oracleCase(t, side(5+rng.IntN(40)), side(5+rng.IntN(40)), recipeYAML(rule))
		compareEachWay(t, r, oracleResult(t, r, dir), coarseWays)
	})
}
