package duckdb_test

import (
	"slices"
	"strings"
	"testing"
)

// TestColumnNamedRowid: a source column named rowid, in any case, would
// hide DuckDB's own row ids, which number the records: a file without a
// key took its rowid values for row numbers, a text one failed the run,
// and a keyed one was said to be out of key order. The column is a column
// like any other, in rules, filters, keys and the evidence.
func TestColumnNamedRowid(t *testing.T) {
	t.Parallel()
	const right = "id,ref\n1,A\n2,C\n"
	rule := "  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}]}\n"
	keyless := func(recipe string) string {
		return strings.Replace(recipe, "left: {alias: l, uri: \"file://left.csv\", primary_key: [id]", "left: {alias: l, uri: \"file://left.csv\"", 1)
	}
	tests := []struct {
		name, left, recipe string
		pairs, unmatched   []string // unmatched: the row number or id, then the rowid column
	}{
		{"keyless_numbers", "rowid,ref\n5,A\n6,B\n", keyless(recipeYAML(rule)),
			[]string{"t: l1 r1"}, []string{"2 6"}},
		{"keyless_text", "RowId,ref\nx,A\ny,B\n", keyless(recipeYAML(rule)),
			[]string{"t: l1 r1"}, []string{"2 y"}},
		{"keyed", "id,rowid,ref\n1,9,A\n2,3,B\n3,5,C\n", recipeYAML(rule),
			[]string{"t: l1 r1", "t: l3 r2"}, []string{"2 3"}},
		{"the_key_filtered", "ROWID,ref\n9,A\n3,B\n5,C\n",
			strings.Replace(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: ROWID, op: gt, right: id}]}\n"),
				"primary_key: [id]", "primary_key: [ROWID], filter: [{column: ROWID, op: gte, value: \"4\"}]", 1),
			[]string{"t: l5 r2", "t: l9 r1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := mustReconcile(t, tt.left, right, tt.recipe)
			if got := o.pairs(); !slices.Equal(got, tt.pairs) {
				t.Errorf("pairs = %v, want %v", got, tt.pairs)
			}
			var unmatched []string
			for _, u := range o.unmatchedLeft {
				for c, v := range u {
					if strings.EqualFold(c, "rowid") {
						unmatched = append(unmatched, u["kalla_row"]+u["id"]+" "+v)
					}
				}
			}
			if !slices.Equal(unmatched, tt.unmatched) {
				t.Errorf("unmatched left = %v, want %v", unmatched, tt.unmatched)
			}
		})
	}
}
