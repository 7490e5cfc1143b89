package duckdb_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

func TestParquetSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A single file on the left, a directory of parts on the right.
	os.Mkdir(filepath.Join(dir, "right"), 0o755)
	for _, q := range []string{
		`COPY (SELECT * FROM (VALUES (1, 'A', 10.50::DECIMAL(10,2)), (2, 'B', 3.00::DECIMAL(10,2))) t(id, ref, amount)) TO '` + filepath.Join(dir, "left.parquet") + `' (FORMAT parquet)`,
		`COPY (SELECT * FROM (VALUES (10, 'A', 10.49::DECIMAL(10,2))) t(id, ref, amount)) TO '` + filepath.Join(dir, "right", "part-00000.parquet") + `' (FORMAT parquet)`,
		`COPY (SELECT * FROM (VALUES (11, 'B', 3.00::DECIMAL(10,2))) t(id, ref, amount)) TO '` + filepath.Join(dir, "right", "part-00001.parquet") + `' (FORMAT parquet)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	text := `
recipe_id: pq
sources:
  left: {alias: l, uri: "file://left.parquet", primary_key: [id]}
  right: {alias: r, uri: "file://right", primary_key: [id]}
match_rules:
  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]}
`
	os.WriteFile(filepath.Join(dir, "recipe.yaml"), []byte(text), 0o644)
	o, err := runRecipe(t, filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.pairs(), []string{"exact: l1 r10", "exact: l2 r11"}; !slices.Equal(got, want) {
		t.Errorf("matches = %v, want %v", got, want)
	}
}
