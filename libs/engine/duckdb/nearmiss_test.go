package duckdb_test

import (
	"slices"
	"testing"
)

// TestNearMissCarriesItsColumns: a near miss's reason and other key are
// worked out once the closest record is chosen, from the columns its pair
// carried (sqlplan.NearMisses). A column named with quotes and a space, and
// a side without a primary key (its records named by row number), come out
// as they do everywhere else.
func TestNearMissCarriesItsColumns(t *testing.T) {
	t.Parallel()
	o := mustReconcile(t,
		"id,ref,\"it's \"\"amt\"\"\"\n1,A,10.00\n",
		"ref,\"it's \"\"amt\"\"\"\nA,15.00\nA,12.00\nB,10.00\n", `
recipe_id: test
sources:
  left: {alias: l, uri: "file://left.csv", primary_key: [id]}
  right: {alias: r, uri: "file://right.csv"}
match_rules:
  - {name: t, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: "it's \"amt\"", op: tolerance, right: "it's \"amt\"", threshold: 0.01}]}
`)
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
}
