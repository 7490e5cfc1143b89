package reconcile_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
)

// TestWorkbookReadOnce: a workbook is read once, for its types and the
// CSV copy of its sheet the engine reads; so a workbook saved again once
// the run has read it changes nothing, and the copy is gone at the end.
func TestWorkbookReadOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"recipe.json", "recipe-workbook.json", "payments.csv", "statement.csv", "statement.xlsx"} {
		b, err := os.ReadFile(filepath.Join("../../examples/bank", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, progress func(engine.Progress)) map[string]string {
		t.Helper()
		r, err := recipe.Load(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out, temp := filepath.Join(t.TempDir(), "out"), t.TempDir()
		opts := reconcile.Options{Engine: &duckdb.Engine{}, Format: engine.CSV, OutDir: out, Progress: progress, TempDir: temp}
		if _, err := reconcile.Run(context.Background(), r, opts); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if left, _ := os.ReadDir(temp); len(left) > 0 {
			t.Errorf("%s: left in the temp folder: %v", name, left)
		}
		evidence := map[string]string{}
		for _, f := range engine.EvidenceFiles {
			b, err := os.ReadFile(filepath.Join(out, f+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			evidence[f] = string(b)
		}
		return evidence
	}
	want := run("recipe.json", nil)
	got := run("recipe-workbook.json", func(p engine.Progress) {
		if p.Phase == engine.PhaseLoad {
			// Saved again, as nothing Kalla could read.
			if err := os.WriteFile(filepath.Join(dir, "statement.xlsx"), []byte("saved again"), 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	for f := range want {
		if got[f] != want[f] {
			t.Errorf("%s from the workbook:\n%s\nfrom the CSV statement:\n%s", f, got[f], want[f])
		}
	}
}
