package duckdb_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
)

// TestProgress reports each phase in order, with the rows each side loaded
// and each rule's place in the waterfall.
func TestProgress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "left.csv"), []byte("id,ref\n1,A\n2,B\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "right.csv"), []byte("id,ref\n10,A\n11,C\n12,D\n"), 0o644)
	recipeText := withSourceField(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}]}\n"), "right", "filter", "[{column: ref, op: eq, value: A}]")
	os.WriteFile(filepath.Join(dir, "recipe.yaml"), []byte(strings.TrimLeft(recipeText, "\n")), 0o644)
	r, err := recipe.Load(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	_, err = reconcile.Run(context.Background(), r, reconcile.Options{
		Engine: &duckdb.Engine{Threads: 1}, Format: engine.CSV, OutDir: filepath.Join(dir, "out"),
		Progress: func(p engine.Progress) { got = append(got, string(p.Phase)+": "+p.Detail) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"read: the sources' columns and types", "load: l", "load: l 2 rows, r", "load: l 2 rows, r 1 row (2 left out by its filter)", "match: rule 1 of 1, t", "write: "}
	if !slices.Equal(got, want) {
		t.Errorf("progress:\n got %q\nwant %q", got, want)
	}
}
