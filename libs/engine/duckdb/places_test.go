package duckdb_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyPlaces: a file's keys that repeat or are empty are refused naming
// the file and where their first records are: a CSV record's line (a
// quoted field may span lines, blank lines are skipped), a Parquet
// record's number in its file, and in a directory its part (the directory
// not named: in the pipeline it is the executor's copy).
func TestKeyPlaces(t *testing.T) {
	t.Parallel()
	rule := "  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}]}\n"
	refused := func(t *testing.T, path, where, examples string) {
		t.Helper()
		_, err := runRecipe(t, path)
		wantBadInput(t, err, "must be unique and not empty"+where+"; for example: "+examples)
	}
	csvCases := []struct {
		name, left, recipe, examples string
	}{
		{"lines_not_records", "id,ref,memo\n1,A,\"two\nlines\"\n\n2,B,x\n1,C,y\n", recipeYAML(rule), "1 (2 rows: lines 2 and 6)"},
		{"first_three_of_many", "id,ref\n7,A\n7,B\n8,C\n7,D\n7,E\n7,F\n", recipeYAML(rule), "7 (5 rows: lines 2, 3, 5 and 2 more)"},
		{"empty_and_repeated", "id,ref\n,A\n3,B\n3,C\n,D\n", recipeYAML(rule), "3 (2 rows: lines 3 and 4), empty (2 rows: lines 2 and 5)"},
		// The engine reads a copy of this file (see source.RewriteCSV); the
		// lines are the file's.
		{"mixed_line_ends_and_blank_lines", "id,ref\r\n1,A\n\r\n2,B\n1,C\r\n", recipeYAML(rule), "1 (2 rows: lines 2 and 5)"},
		{"after_a_separator_line", "sep=;\nid;ref\n1;A\n1;B\n", recipeYAML(rule), "1 (2 rows: lines 3 and 4)"},
		{"a_column_named_rowid", "rowid,ref\n5,A\n4,B\n5,C\n", strings.Replace(recipeYAML(rule), "primary_key: [id]", "primary_key: [rowid]", 1), "5 (2 rows: lines 2 and 4)"},
		// The record left out by the filter is no duplicate, nor named.
		{"filter_on_a_derived_column", "id,ref,paid_in,paid_out\n1,A,,5.00\n1,B,5.00,\n1,C,,3.00\n", withSourceFields(recipeYAML(rule), "left", "net: {amt: {plus: paid_in, minus: paid_out}}, filter: [{column: amt, op: lt, value: 0}]"), "1 (2 rows: lines 2 and 4)"},
		{"records_kept", "id,ref,status\n1,A,void\n1,B,posted\n2,C,posted\n1,D,posted\n", withSourceField(recipeYAML(rule), "left", "filter", "[{column: status, op: ne, value: void}]"), "1 (2 rows: lines 3 and 5)"},
	}
	for _, tt := range csvCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFiles(t, tt.left, "id,ref\n10,A\n", tt.recipe)
			refused(t, filepath.Join(dir, "recipe.yaml"), " in left.csv", tt.examples)
			refused(t, gzipSources(t, dir), " in left.csv.gz", tt.examples)
		})
	}
	t.Run("csv_pattern", func(t *testing.T) {
		t.Parallel()
		// Lines are each file's own: the second file starts after a
		// separator line, and the third is read as rewritten.
		dir := writeFiles(t, "", "id,ref\n10,A\n", strings.Replace(recipeYAML(rule), "file://left.csv", "file://left-*.csv", 1))
		for name, text := range map[string]string{"left-1.csv": "id,ref\n1,A\n2,B\n", "left-2.csv": "sep=;\nid;ref\n3;C\n1;D\n\n2;E\n",
			"left-3.csv": "\r\nid,ref\n4,F\r\n1,G\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		refused(t, filepath.Join(dir, "recipe.yaml"), "", "1 (3 rows: line 2 of left-1.csv, line 4 of left-2.csv and line 4 of left-3.csv), 2 (2 rows: line 3 of left-1.csv and line 6 of left-2.csv)")
	})
	t.Run("parquet_parts", func(t *testing.T) {
		t.Parallel()
		path := parquetBook(t, "SELECT 1 AS id, 'A' AS ref", []string{
			"SELECT * FROM (VALUES (10, 'A'), (11, 'B'), (11, 'C')) t(id, ref)",
			"SELECT * FROM (VALUES (13, 'D'), (11, 'E'), (11, 'F'), (13, 'G')) t(id, ref)",
		}, rule)
		refused(t, path, "", "11 (4 rows: records 2 and 3 of part-00000.parquet, record 2 of part-00001.parquet and 1 more), 13 (2 rows: records 1 and 4 of part-00001.parquet)")
		// The same parts named by a pattern.
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		named := filepath.Join(filepath.Dir(path), "recipe-pattern.yaml")
		if err := os.WriteFile(named, []byte(strings.Replace(string(text), `"file://right"`, `"file://right/part-*.parquet"`, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, named, "", "11 (4 rows: records 2 and 3 of part-00000.parquet, record 2 of part-00001.parquet and 1 more), 13 (2 rows: records 1 and 4 of part-00001.parquet)")
	})
	t.Run("parquet_part", func(t *testing.T) {
		t.Parallel()
		path := parquetBook(t, "SELECT 1 AS id, 'A' AS ref", []string{"SELECT * FROM (VALUES (10, 'A'), (10, 'B')) t(id, ref)"}, rule)
		refused(t, path, "", "10 (2 rows: records 1 and 2 of part-00000.parquet)")
	})
	t.Run("parquet_file", func(t *testing.T) {
		t.Parallel()
		path := parquetBook(t, "SELECT * FROM (VALUES (2, 'A'), (1, 'B'), (2, 'C')) t(id, ref)", []string{"SELECT 10 AS id, 'A' AS ref"}, rule)
		refused(t, path, " in left.parquet", "2 (2 rows: records 1 and 3)")
	})
	t.Run("database_rows_have_no_places", func(t *testing.T) {
		t.Parallel()
		url, _ := postgresDB(t, "CREATE TABLE ledger (code text, ref text); INSERT INTO ledger VALUES ('X', 'A'), ('X', 'B'), ('Y', 'C')")
		_, err := runRecipe(t, postgresRecipe(t, url, "id,ref\n10,A\n", rule))
		wantBadInput(t, err, `ledger: the primary key (code) must be unique and not empty; for example: "X" (2 rows)`)
	})
	t.Run("parquet_column_named_filename", func(t *testing.T) {
		t.Parallel()
		// DuckDB's reader would give the column for the file's name: no
		// places rather than wrong ones.
		path := parquetBook(t, "SELECT * FROM (VALUES (2, 'A', 'x'), (2, 'B', 'y')) t(id, ref, filename)", []string{"SELECT 10 AS id, 'A' AS ref"}, rule)
		_, err := runRecipe(t, path)
		wantBadInput(t, err, "l: the primary key (id) must be unique and not empty; for example: 2 (2 rows)")
	})
}
