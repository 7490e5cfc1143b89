package duckdb_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestHeaderless: a side whose files have no header row, its columns named
// by the recipe, reconciles as the same records with a header, whatever
// its layout (a decimal comma, mixed line ends, lines to skip, gzip, a
// pattern), with or without a key; a repeated key is named by its line.
func TestHeaderless(t *testing.T) {
	t.Parallel()
	rule := "  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]}\n"
	right := "id,ref,amount\n10,A,10.00\n11,B,20.01\n12,C,31.00\n13,E,1.00\n"
	records := []string{"1,A,10.00", "2,B,20.00", "3,C,30.00", "4,D,40.00", "5,\"E\",1.00"}
	body := strings.Join(records, "\n") + "\n"
	columns := "[id, ref, amount]"
	for _, keyed := range []bool{true, false} {
		name := map[bool]string{true: "keyed", false: "keyless"}[keyed]
		// recipe is the test's recipe, the left source given fields.
		recipe := func(t *testing.T, fields string) string {
			t.Helper()
			r := recipeYAML(rule)
			if fields != "" {
				r = withSourceFields(r, "left", fields)
			}
			if keyed {
				return r
			}
			keyless := strings.Replace(r, `uri: "file://left.csv", primary_key: [id]`, `uri: "file://left.csv"`, 1)
			if keyless == r {
				t.Fatalf("no key to remove in:\n%s", r)
			}
			return keyless
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := mustReconcile(t, "id,ref,amount\n"+body, right, recipe(t, ""))
			semicolons := strings.NewReplacer(",", ";", ".", ",").Replace(body)
			for name, tt := range map[string]struct{ text, fields string }{
				"comma":      {body, "columns: " + columns},
				"semicolons": {semicolons, "columns: " + columns + `, types: {amount: "decimal 1.234,56"}`},
				"mixed_ends": {"\r\n" + strings.Join(records[:2], "\r\n") + "\n\n" + strings.Join(records[2:], "\n") + "\n", "columns: " + columns},
				"skip_lines": {"Statement \"ACME\n1,2\n" + body, "columns: " + columns + ", skip_lines: 2"},
			} {
				dir := writeFiles(t, tt.text, right, recipe(t, tt.fields))
				for way, path := range map[string]string{"file": filepath.Join(dir, "recipe.yaml"), "gzipped": gzipSources(t, dir)} {
					if got := mustRun(t, path); !sameOutcome(got, want) {
						t.Errorf("%s, %s: pairs %v, unmatched %v; want %v and %v", name, way, got.pairs(), got.unmatchedLeft, want.pairs(), want.unmatchedLeft)
					}
				}
			}
			dir := writeFiles(t, body, right, recipe(t, "columns: "+columns))
			// Cut in three files, the second empty, named by a pattern.
			for name, text := range map[string]string{"day-1.csv": records[0] + "\n", "day-2.csv": "sep=;\r\n", "day-3.csv": strings.Join(records[1:], "\r\n")} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			days := filepath.Join(dir, "days.yaml")
			text, err := os.ReadFile(filepath.Join(dir, "recipe.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(days, []byte(strings.Replace(string(text), "file://left.csv", "file://day-*.csv", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := mustRun(t, days); !reflect.DeepEqual(got.pairs(), want.pairs()) || got.summary.Left.Rows != 5 {
				t.Errorf("pattern: pairs %v, %d rows; want %v and 5", got.pairs(), got.summary.Left.Rows, want.pairs())
			}
		})
	}
	t.Run("repeated_key", func(t *testing.T) {
		t.Parallel()
		for text, want := range map[string]string{
			body + "2,F,50.00\n":          "in left.csv; for example: 2 (2 rows: lines 2 and 6)",
			"\n\n" + body + "2,F,50.00\n": "in left.csv; for example: 2 (2 rows: lines 4 and 8)",
		} {
			dir := writeFiles(t, text, right, withSourceFields(recipeYAML(rule), "left", "columns: "+columns))
			_, err := runRecipe(t, filepath.Join(dir, "recipe.yaml"))
			wantBadInput(t, err, want)
		}
	})
	t.Run("missing_column", func(t *testing.T) {
		t.Parallel()
		dir := writeFiles(t, body, right, withSourceFields(recipeYAML(rule), "left", "columns: [id, reference, amount]"))
		_, err := runRecipe(t, filepath.Join(dir, "recipe.yaml"))
		wantBadInput(t, err, `column "ref" is not in l; its columns are: id, reference, amount`)
	})
}

// sameOutcome says whether two runs matched the same pairs and left the
// same records unmatched, with the same summary counts.
func sameOutcome(a, b outcome) bool {
	return reflect.DeepEqual(a.pairs(), b.pairs()) && reflect.DeepEqual(a.unmatchedLeft, b.unmatchedLeft) &&
		reflect.DeepEqual(a.unmatchedRight, b.unmatchedRight) && a.summary.Left.Rows == b.summary.Left.Rows
}

// TestHeaderlessBlankFile: a file of one column without a header that
// holds blank lines alone has no record, as Kalla's reader reads it, and
// the engine reads none either (it would read a blank line of such a file
// as an empty value).
func TestHeaderlessBlankFile(t *testing.T) {
	t.Parallel()
	rule := "  - {name: t, pattern: \"1:1\", conditions: [{left: id, op: eq, right: id}]}\n"
	for _, text := range []string{"\n\n", "\r\n\n", "sep=;\n\n"} {
		dir := writeFiles(t, text, "id\n1\n", withSourceFields(recipeYAML(rule), "left", "columns: [id]"))
		o := mustRun(t, filepath.Join(dir, "recipe.yaml"))
		if o.summary.Left.Rows != 0 || o.summary.Right.Unmatched != 1 {
			t.Errorf("%q: %d rows left, %d unmatched right; want 0 and 1", text, o.summary.Left.Rows, o.summary.Right.Unmatched)
		}
	}
}

// TestSeparatorSet: a side whose header holds two separators and no comma,
// which Kalla cannot tell apart, reads by the separator its recipe sets,
// and matches as the same records separated by commas.
func TestSeparatorSet(t *testing.T) {
	t.Parallel()
	rule := "  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]}\n"
	right := "id,ref,amount\n10,A,10.00\n11,B,20.01\n12,C,31.00\n"
	want := mustReconcile(t, "id,ref,amount,note;x\n1,A,10.00,a;b\n2,B,20.00,\n3,C,30.00,c\n", right, recipeYAML(rule))
	text := "id|ref|amount|note;x\n1|A|10.00|a;b\n2|B|20.00|\n3|C|30.00|c\n"
	_, err := reconcileFiles(t, text, right, recipeYAML(rule))
	wantBadInput(t, err, "cannot tell which of those separates these")
	got := mustReconcile(t, text, right, withSourceFields(recipeYAML(rule), "left", `separator: "|"`))
	if !sameOutcome(got, want) {
		t.Errorf("pairs %v, unmatched %v; want %v and %v", got.pairs(), got.unmatchedLeft, want.pairs(), want.unmatchedLeft)
	}
}
