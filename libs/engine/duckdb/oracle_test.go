package duckdb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
	"github.com/kallahq/kalla/libs/reconcile/oracle"
)

// TestAgainstOracle compares the SQL engine with the independent in-memory
// implementation over many random cases: ties, NULLs, duplicates in join
// columns, decimals at tolerances, every pattern and operator.
func TestAgainstOracle(t *testing.T) {
	t.Parallel()
	const seeds = 180
	keyWays := append(slices.Clone(nearWays), stagesWay, firstChoicesWay)
	for seed := int64(1); seed <= seeds; seed++ {
		walk, keys := walks[seed%int64(len(walks))], keyWays[seed/int64(len(walks))%int64(len(keyWays))]
		t.Run(fmt.Sprintf("seed_%d_%s_%s_%s", seed, walk.name, keys.name, loads[seed%2].name), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r, err := oracle.RandomCase(seed, dir)
			if err != nil {
				t.Fatal(err)
			}
			want := oracleResult(t, r, dir)
			got := engineResult(t, r, walk.set, keys.set, loads[seed%2].set)
			compare(t, r, got, want)
		})
	}
}

// loads are the ways a side may be stored: sorted as read, or as read
// and then sorted where not in key order, as a side whose first records
// are in key order is.
var loads = []way{{"sorted_as_read", func(*duckdb.Engine) {}}, {"stored_as_read", duckdb.StoreAsRead}}

// oracleCase writes a case as reconcileFiles does and loads its recipe,
// for oracleResult and engineResult.
func oracleCase(t *testing.T, left, right, recipeText string) (r *kallav1.Recipe, dir string) {
	t.Helper()
	dir = writeFiles(t, left, right, recipeText)
	r, err := recipe.Load(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return r, dir
}

func oracleResult(t *testing.T, r *kallav1.Recipe, dir string) oracle.Result {
	t.Helper()
	left, err := oracle.ReadCSV(filepath.Join(dir, "left.csv"))
	if err != nil {
		t.Fatal(err)
	}
	right, err := oracle.ReadCSV(filepath.Join(dir, "right.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := oracle.Reconcile(r, left, right)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	return res
}

// walks are the ways a 1:1 rule's rounds may give way to the walk (see
// duckdb.WalkNever); each must give the oracle's result.
var walks = []way{
	{"walk_when_slow", func(*duckdb.Engine) {}},
	{"rounds_alone", duckdb.WalkNever},
	{"walk_after_first_round", duckdb.WalkFirst},
}

// coarseWays are the ways an engine may take a rule's keys (see
// duckdb.CoarseAlways); each must give the oracle's result.
var coarseWays = []way{{"coarse", duckdb.CoarseAlways}, fineWay}

// fineWay takes keys as fine. Their sharing not counted, a 1:1 rule's
// rounds there take the pairs alone in their records' candidates first
// (see duckdb.AloneFirstNever).
var fineWay = way{"fine", duckdb.CoarseNever}

// firstChoicesWay is fineWay with 1:1 rounds of first choices alone, as
// where records share keys with more than a few others.
var firstChoicesWay = way{"fine_first_choices", func(e *duckdb.Engine) { duckdb.CoarseNever(e); duckdb.AloneFirstNever(e) }}

// nearWays are coarseWays and aggregateWay, for near misses.
var nearWays = append(slices.Clone(coarseWays), aggregateWay)

// aggregateWay takes keys as not coarse and finds near misses by the
// aggregate, as it does where records share their keys with a few others.
var aggregateWay = way{"fine_aggregate", func(e *duckdb.Engine) { duckdb.CoarseNever(e); duckdb.AggregateNearMisses(e) }}

// nearestWay is coarse with the lookups of the nearest others at each value.
var nearestWay = way{"coarse_nearest_lookups", func(e *duckdb.Engine) { duckdb.CoarseAlways(e); duckdb.NearestLookups(e) }}

// way is one way an engine may be set up for a test, named.
type way struct {
	name string
	set  func(*duckdb.Engine)
}

// compareEachWay compares the engine's result, set up each of the ways in
// turn, with want.
func compareEachWay(t *testing.T, r *kallav1.Recipe, want oracle.Result, ways []way) {
	t.Helper()
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			compare(t, r, engineResult(t, r, w.set), want)
		})
	}
}

// engineResult reconciles r on an engine of one thread, set up by each of
// setups.
func engineResult(t *testing.T, r *kallav1.Recipe, setups ...func(*duckdb.Engine)) outcome {
	t.Helper()
	out := t.TempDir()
	e := &duckdb.Engine{Threads: 1}
	for _, set := range setups {
		set(e)
	}
	sum, err := reconcile.Run(context.Background(), r, reconcile.Options{Engine: e, Format: engine.CSV, OutDir: out})
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	return outcome{
		summary:        sum,
		matched:        readCSV(t, filepath.Join(out, "matched.csv")),
		unmatchedLeft:  readCSV(t, filepath.Join(out, "unmatched_left.csv")),
		unmatchedRight: readCSV(t, filepath.Join(out, "unmatched_right.csv")),
	}
}

func compare(t *testing.T, r *kallav1.Recipe, got outcome, want oracle.Result) {
	t.Helper()
	var wantGroups []string
	for _, g := range want.Groups {
		wantGroups = append(wantGroups, g.Rule+": "+members(g))
	}
	if gotGroups := got.pairs(); !slices.Equal(gotGroups, wantGroups) {
		t.Errorf("match groups differ\nengine: %v\noracle: %v", gotGroups, wantGroups)
	}
	if err := consecutiveIDs(got.matched); err != nil {
		t.Error(err)
	}
	if len(got.summary.Rules) != len(want.Rules) {
		t.Fatalf("engine counted %d rules, oracle %d", len(got.summary.Rules), len(want.Rules))
	}
	for i, rc := range want.Rules {
		g := got.summary.Rules[i]
		if g.Name != rc.Name || g.Groups != rc.Groups || g.LeftMatched != rc.LeftMatched || g.RightMatched != rc.RightMatched {
			t.Errorf("rule %d: engine %+v, oracle %+v", i, g, rc)
		}
	}
	compareUnmatched(t, "left", got.unmatchedLeft, want.UnmatchedLeft, r.GetSources().GetLeft().GetPrimaryKey())
	compareUnmatched(t, "right", got.unmatchedRight, want.UnmatchedRight, r.GetSources().GetRight().GetPrimaryKey())
	if got.summary.Left.FilteredOut != want.LeftFilteredOut || got.summary.Right.FilteredOut != want.RightFilteredOut {
		t.Errorf("filtered out: engine %d and %d, oracle %d and %d", got.summary.Left.FilteredOut, got.summary.Right.FilteredOut, want.LeftFilteredOut, want.RightFilteredOut)
	}
	for k, rt := range want.RuleTotals {
		var lines []string
		for _, side := range []struct {
			name   string
			totals []oracle.Total
		}{{"left", rt.Left}, {"right", rt.Right}} {
			for _, x := range side.totals {
				lines = append(lines, ruleTotalLine(evidence.RuleTotal{Side: side.name, Column: x.Column, By: x.By, Value: x.Value, Records: x.Records, Empty: x.Empty, Total: x.Total}))
			}
		}
		var gotLines []string
		for _, x := range got.summary.Rules[k].Totals {
			gotLines = append(gotLines, ruleTotalLine(x))
		}
		if !slices.Equal(gotLines, lines) {
			t.Errorf("rule %s's totals:\n got %q\nwant %q", rt.Rule, gotLines, lines)
		}
	}
	wantTotals(t, "left", got.summary.Left.Totals, oracleTotals(want.LeftTotals)...)
	wantTotals(t, "right", got.summary.Right.Totals, oracleTotals(want.RightTotals)...)
}

// consecutiveIDs checks that match ids run 1, 2, 3... in the matched
// evidence's order, every group's members together: pairs tells groups
// apart by a change of id alone, which a gap or a repeat would not show.
func consecutiveIDs(matched []map[string]string) error {
	last := 0
	for i, m := range matched {
		id, err := strconv.Atoi(m["match_id"])
		if err != nil {
			return fmt.Errorf("matched row %d: match_id %q", i+1, m["match_id"])
		}
		if id != last && id != last+1 {
			return fmt.Errorf("matched row %d: match_id %d follows %d", i+1, id, last)
		}
		last = id
	}
	return nil
}

// oracleTotals renders the oracle's totals as totalLines does the engine's.
func oracleTotals(totals []oracle.Total) []string {
	var out []evidence.TotalSummary
	for _, x := range totals {
		out = append(out, evidence.TotalSummary{
			Column: x.Column, By: x.By, Value: x.Value, Records: x.Records, MatchedRecords: x.MatchedRecords,
			UnmatchedRecords: x.Records - x.MatchedRecords, Empty: x.Empty, Total: x.Total, Matched: x.Matched, Unmatched: x.Unmatched,
		})
	}
	return totalLines(out)
}

func members(g oracle.Group) string {
	var parts []string
	for _, k := range g.Left {
		parts = append(parts, "l"+k)
	}
	for _, k := range g.Right {
		parts = append(parts, "r"+k)
	}
	return strings.Join(parts, " ")
}

func compareUnmatched(t *testing.T, side string, got []map[string]string, want []oracle.Unmatched, key []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("unmatched %s: engine %d records, oracle %d", side, len(got), len(want))
		return
	}
	for i, w := range want {
		parts := make([]string, len(key))
		for j, k := range key {
			parts[j] = got[i][k]
		}
		gk := strings.Join(parts, "|")
		wantRule, wantOther, wantFailed := "", "", ""
		if w.NearMiss != nil {
			wantRule, wantOther, wantFailed = w.NearMiss.Rule, w.NearMiss.OtherKey, strconv.Itoa(w.NearMiss.Failed)
		}
		g := got[i]
		if gk != w.Key || g["kalla_near_rule"] != wantRule || g["kalla_near_key"] != wantOther || g["kalla_near_failed"] != wantFailed {
			t.Errorf("unmatched %s #%d: engine key %q near miss (%q, %q, %q failed); oracle key %q near miss (%q, %q, %q failed)",
				side, i, gk, g["kalla_near_rule"], g["kalla_near_key"], g["kalla_near_failed"], w.Key, wantRule, wantOther, wantFailed)
		}
	}
}

// TestAgainstOracleAtScale compares the engine with the oracle on random
// cases of thousands of records, the engine splitting them among threads
// and sorting, joining and aggregating as it does data that outgrows
// memory (Parallel): DuckDB's ways for big books, which cases of a few
// dozen records on one thread never take.
func TestAgainstOracleAtScale(t *testing.T) {
	t.Parallel()
	const seeds, scale = 6, 40
	keyWays := append(slices.Clone(nearWays), stagesWay, firstChoicesWay)
	for seed := int64(1); seed <= seeds; seed++ {
		walk, keys := walks[seed%int64(len(walks))], keyWays[seed%int64(len(keyWays))]
		t.Run(fmt.Sprintf("seed_%d_%s_%s_%s", seed, walk.name, keys.name, loads[seed%2].name), func(t *testing.T) {
			t.Parallel()
			r, want := scaledCase(t, seed, scale)
			got := engineResult(t, r, duckdb.Parallel, walk.set, keys.set, loads[seed%2].set)
			compare(t, r, got, want)
		})
	}
}

// scaledCase writes the random case of seed at scale (see
// oracle.RandomCaseScaled) into a new directory, and returns its recipe and
// the oracle's result.
func scaledCase(t *testing.T, seed int64, scale int) (*kallav1.Recipe, oracle.Result) {
	t.Helper()
	dir := t.TempDir()
	r, err := oracle.RandomCaseScaled(seed, dir, scale)
	if err != nil {
		t.Fatal(err)
	}
	return r, oracleResult(t, r, dir)
}
