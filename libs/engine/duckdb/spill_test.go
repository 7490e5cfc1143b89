package duckdb_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
	"github.com/kallahq/kalla/libs/scratch"
)

// TestKilledSessionsSpillIsSwept: the spill folder a killed process left
// is removed by the next session in the same place once unchanged for
// scratch.Grace, and a session removes its own. It waits out the grace, in
// parallel with the other tests.
func TestKilledSessionsSpillIsSwept(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	stale := filepath.Join(tmp, "kalla-duckdb-42")
	if err := os.Mkdir(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "duckdb_temp_storage.tmp"), []byte("spill"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Load(seedRecipe(t, true))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(scratch.Grace + time.Second)
	opts := reconcile.Options{Engine: &duckdb.Engine{TempDir: tmp}, Format: engine.CSV, OutDir: t.TempDir()}
	if _, err := reconcile.Run(context.Background(), r, opts); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in the temp directory: %v", left)
	}
}
