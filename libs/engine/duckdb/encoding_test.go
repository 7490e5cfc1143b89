package duckdb_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEncoding: a Latin-1 side matches a UTF-8 side on names with accents,
// as its UTF-8 copy does, and the evidence holds its values as UTF-8.
func TestEncoding(t *testing.T) {
	t.Parallel()
	rule := "  - {name: t, pattern: \"1:1\", conditions: [{left: name, op: eq, right: name}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]}\n"
	left := "id,name,amount\n1,Société Générale,10.00\n2,Müller GmbH,20.00\n3,Ørsted,30.00\n"
	right := "id,name,amount\n10,Société Générale,10.00\n11,Müller GmbH,20.01\n12,Orsted,30.00\n"
	want := mustReconcile(t, left, right, recipeYAML(rule))
	latin1 := strings.NewReplacer("é", "\xe9", "ü", "\xfc", "Ø", "\xd8").Replace(left)
	_, err := reconcileFiles(t, latin1, right, recipeYAML(rule))
	wantBadInput(t, err, `"encoding": "latin1"`)
	dir := writeFiles(t, latin1, right, withSourceFields(recipeYAML(rule), "left", `encoding: latin1`))
	for way, path := range map[string]string{"file": filepath.Join(dir, "recipe.yaml"), "gzipped": gzipSources(t, dir)} {
		got := mustRun(t, path)
		if !sameOutcome(got, want) || len(got.pairs()) != 2 || got.unmatchedLeft[0]["name"] != "Ørsted" {
			t.Errorf("%s: pairs %v, unmatched %v; want %v and %v", way, got.pairs(), got.unmatchedLeft, want.pairs(), want.unmatchedLeft)
		}
	}
}
