package main

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReconcileIgnoresMachineTimeZone: a timestamp with a zone converts to
// a date in UTC and prints in UTC whatever the machine's zone, so the same
// files give the same evidence everywhere.
func TestReconcileIgnoresMachineTimeZone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Late on 1 January in UTC is 2 January in Tokyo.
	_, err = db.Exec(`COPY (SELECT * FROM (VALUES (1, 'A', TIMESTAMPTZ '2024-01-01 23:30:00+00'), (2, 'B', TIMESTAMPTZ '2024-01-03 00:30:00+00')) t(id, ref, seen))
		TO '` + filepath.Join(dir, "left.parquet") + `' (FORMAT parquet)`)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"right.csv": "id,ref,day\n10,A,2024-01-01\n11,B,2024-01-02\n",
		"recipe.yaml": `recipe_id: tz
sources:
  left: {alias: l, uri: "file://left.parquet", primary_key: [id]}
  right: {alias: r, uri: "file://right.csv", primary_key: [id]}
match_rules:
  - {name: day, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: seen, op: date_within, right: day, threshold: 0}]}
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, zone := range []string{"UTC", "Asia/Tokyo", "America/New_York"} {
		out := filepath.Join(dir, "out-"+strings.ReplaceAll(zone, "/", "-"))
		cmd := exec.Command(binary(t, "kalla"), "reconcile", "--recipe", filepath.Join(dir, "recipe.yaml"), "--out", out, "--format", "csv", "--json")
		cmd.Env = append(os.Environ(), "TZ="+zone)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("TZ=%s: %v\n%s", zone, err, b)
		}
		matched, err := os.ReadFile(filepath.Join(out, "matched.csv"))
		if err != nil {
			t.Fatal(err)
		}
		unmatched, err := os.ReadFile(filepath.Join(out, "unmatched_left.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(matched), ",left,1,") || !strings.Contains(string(unmatched), "2,B,2024-01-03 00:30:00+00,") {
			t.Errorf("TZ=%s: matched\n%s\nunmatched left\n%s\nwant 1 matched on 1 January, 2 unmatched at 00:30 UTC", zone, matched, unmatched)
		}
	}
}
