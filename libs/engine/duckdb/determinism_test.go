package duckdb_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
)

// TestDeterministicOutput runs the same inputs with 1 and 2 threads, big
// enough for DuckDB to split the work, and expects identical files.
func TestDeterministicOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeBook(t, dir, 150_000)
	r, err := recipe.Load(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []engine.Format{engine.CSV, engine.Parquet} {
		t.Run(string(format), func(t *testing.T) {
			var outs []string
			for _, threads := range []int{1, 2} {
				out := filepath.Join(t.TempDir(), "out")
				if _, err := reconcile.Run(context.Background(), r, reconcile.Options{Engine: &duckdb.Engine{Threads: threads}, Format: format, OutDir: out}); err != nil {
					t.Fatal(err)
				}
				outs = append(outs, out)
			}
			for _, name := range []string{"matched", "unmatched_left", "unmatched_right"} {
				file := name + "." + string(format)
				a, _ := os.ReadFile(filepath.Join(outs[0], file))
				b, _ := os.ReadFile(filepath.Join(outs[1], file))
				if len(a) == 0 || !bytes.Equal(a, b) {
					t.Errorf("%s differs between 1 and 2 threads (%d vs %d bytes)", file, len(a), len(b))
				}
			}
		})
	}
}

// writeBook writes n invoices and payments with ties, near misses and split
// payments, and a recipe with a 1:1, a 1:N and an M:N rule.
func writeBook(t *testing.T, dir string, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var inv, pay strings.Builder
	inv.WriteString("id,customer,amount,due\n")
	pay.WriteString("id,customer,ref,amount,paid\n")
	p := 0
	for i := 0; i < n; i++ {
		cents := 100 + rng.IntN(1_000_000)
		fmt.Fprintf(&inv, "%d,C%d,%d.%02d,2024-%02d-%02d\n", i, rng.IntN(n/10+1), cents/100, cents%100, 1+rng.IntN(12), 1+rng.IntN(28))
		switch rng.IntN(5) {
		case 0, 1, 2:
			delta := rng.IntN(3)
			fmt.Fprintf(&pay, "%d,C%d,%d,%d.%02d,2024-%02d-%02d\n", p, rng.IntN(n/10+1), i, (cents+delta)/100, (cents+delta)%100, 1+rng.IntN(12), 1+rng.IntN(28))
			p++
		case 3:
			half := cents / 2
			fmt.Fprintf(&pay, "%d,C1,%d,%d.%02d,2024-01-01\n%d,C1,%d,%d.%02d,2024-01-02\n", p, i, half/100, half%100, p+1, i, (cents-half)/100, (cents-half)%100)
			p += 2
		}
	}
	files := map[string]string{"left.csv": inv.String(), "right.csv": pay.String(), "recipe.yaml": `
recipe_id: book
sources:
  left: {alias: invoices, uri: "file://left.csv", primary_key: [id]}
  right: {alias: payments, uri: "file://right.csv", primary_key: [id]}
match_rules:
  - name: exact
    pattern: "1:1"
    conditions: [{left: id, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]
  - name: split
    pattern: 1:N
    conditions: [{left: id, op: eq, right: ref}]
    aggregate: {left: amount, right: amount, tolerance: 0}
  - name: by_customer
    pattern: M:N
    conditions: [{left: customer, op: eq, right: customer}, {left: due, op: date_within, right: paid, threshold: 0}]
`}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
