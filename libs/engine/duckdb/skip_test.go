package duckdb_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSkipLines: a side whose files begin with lines before their header
// (a bank export's title and account lines) that the recipe says to skip
// reconciles as the same records without them, alone or named by a
// pattern, and a repeated key is named by its line in the file.
func TestSkipLines(t *testing.T) {
	t.Parallel()
	rule := "  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]}\n"
	body := "id,ref,amount\n1,A,10.00\n2,B,20.00\n3,C,30.00\n4,D,40.00\n"
	preamble := "Statement \"ACME, Inc.\n\nAccount: 12;34\r\n"
	right := "id,ref,amount\n10,A,10.00\n11,B,20.01\n12,C,31.00\n"
	plain := mustReconcile(t, body, right, recipeYAML(rule))

	dir := writeFiles(t, preamble+body, right, withSourceField(recipeYAML(rule), "left", "skip_lines", "3"))
	lines := strings.SplitAfter(body, "\n")
	for name, text := range map[string]string{"day-1.csv": preamble + strings.Join(lines[:3], ""), "day-2.csv": preamble + lines[0] + strings.Join(lines[3:], "")} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recipe, err := os.ReadFile(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	days := filepath.Join(dir, "days.yaml")
	if err := os.WriteFile(days, []byte(strings.Replace(string(recipe), "file://left.csv", "file://day-*.csv", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"file": filepath.Join(dir, "recipe.yaml"), "pattern": days} {
		got := mustRun(t, path)
		if !reflect.DeepEqual(got.pairs(), plain.pairs()) || !reflect.DeepEqual(got.unmatchedLeft, plain.unmatchedLeft) || got.summary.Left.Rows != 4 {
			t.Errorf("%s: pairs %v, unmatched %v, %d rows; want %v, %v and 4", name, got.pairs(), got.unmatchedLeft, got.summary.Left.Rows, plain.pairs(), plain.unmatchedLeft)
		}
	}
	// The first two lines are skipped too: "Statement ..." and the blank
	// one; the header is line 4.
	dup := writeFiles(t, preamble+body+"2,E,50.00\n", right, withSourceField(recipeYAML(rule), "left", "skip_lines", "3"))
	_, err = runRecipe(t, filepath.Join(dup, "recipe.yaml"))
	wantBadInput(t, err, "in left.csv; for example: 2 (2 rows: lines 6 and 9)")
}
