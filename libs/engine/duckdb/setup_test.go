package duckdb_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
)

// outcome is a run's evidence read back from CSV.
type outcome struct {
	summary        *evidence.Summary
	matched        []map[string]string
	unmatchedLeft  []map[string]string
	unmatchedRight []map[string]string
}

// pairs lists match groups as "rule: members" strings in match order.
func (o outcome) pairs() []string {
	var out []string
	last := ""
	for _, m := range o.matched {
		member := m["side"][:1] + m["key"]
		if m["match_id"] == last {
			out[len(out)-1] += " " + member
			continue
		}
		last = m["match_id"]
		out = append(out, m["rule"]+": "+member)
	}
	return out
}

func keys(rows []map[string]string, col string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[col]
	}
	return out
}

// idValues lists rows as "id: value of col".
func idValues(rows []map[string]string, col string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r["id"] + ": " + r[col]
	}
	return out
}

// reconcileFiles writes left.csv, right.csv and recipe.yaml (whose sources
// must be file://left.csv and file://right.csv) and runs the engine.
func reconcileFiles(t *testing.T, left, right, recipeText string) (outcome, error) {
	t.Helper()
	return runRecipe(t, filepath.Join(writeFiles(t, left, right, recipeText), "recipe.yaml"))
}

// writeFiles writes left.csv, right.csv and recipe.yaml into a new
// directory, which it returns.
func writeFiles(t *testing.T, left, right, recipeText string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"left.csv": left, "right.csv": right, "recipe.yaml": strings.TrimLeft(recipeText, "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// gzipSources gzips left.csv and right.csv of dir (see writeFiles) into
// left.csv.gz and right.CSV.GZ (a name in capitals, as some systems
// write them), and returns the path of a copy of its recipe that reads
// them.
func gzipSources(t *testing.T, dir string) string {
	t.Helper()
	for name, gz := range map[string]string{"left.csv": "left.csv.gz", "right.csv": "right.CSV.GZ"} {
		text, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, gz), gzipped(t, text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text, err := os.ReadFile(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gz := strings.NewReplacer(`file://left.csv"`, `file://left.csv.gz"`, `file://right.csv"`, `file://right.CSV.GZ"`).Replace(string(text))
	if strings.Count(strings.ToLower(gz), ".csv.gz") != 2 {
		t.Fatalf("the recipe does not read left.csv and right.csv:\n%s", text)
	}
	path := filepath.Join(dir, "recipe-gz.yaml")
	if err := os.WriteFile(path, []byte(gz), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// gzipped is text as gzip data.
func gzipped(t *testing.T, text []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write(text); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func runRecipe(t *testing.T, path string) (outcome, error) {
	t.Helper()
	return runRecipeOn(t, path, &duckdb.Engine{Threads: 2})
}

// runRecipeOn is runRecipe on the engine e.
func runRecipeOn(t *testing.T, path string, e *duckdb.Engine) (outcome, error) {
	t.Helper()
	r, err := recipe.Load(path)
	if err != nil {
		return outcome{}, err
	}
	out := filepath.Join(t.TempDir(), "out")
	sum, err := reconcile.Run(context.Background(), r, reconcile.Options{
		Engine: e,
		Format: engine.CSV,
		OutDir: out,
	})
	if err != nil {
		return outcome{}, err
	}
	return outcome{
		summary:        sum,
		matched:        readCSV(t, filepath.Join(out, "matched.csv")),
		unmatchedLeft:  readCSV(t, filepath.Join(out, "unmatched_left.csv")),
		unmatchedRight: readCSV(t, filepath.Join(out, "unmatched_right.csv")),
	}, nil
}

// mustRun runs the recipe at path and fails the test if it fails.
func mustRun(t *testing.T, path string) outcome {
	t.Helper()
	o, err := runRecipe(t, path)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return o
}

// wantBadInput fails the test unless err is bad input whose message says
// want.
func wantBadInput(t *testing.T, err error, want string) {
	t.Helper()
	if !reconcile.IsBadInput(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant bad input saying %s", err, want)
	}
}

// wantReasons fails unless rows (unmatched records) are exactly the ids of
// want, each with its near-miss reason.
func wantReasons(t *testing.T, rows []map[string]string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, u := range rows {
		got[u["id"]] = u["kalla_near_reason"]
	}
	if !maps.Equal(got, want) {
		t.Errorf("reasons by record:\n got %q\nwant %q", got, want)
	}
}

func mustReconcile(t *testing.T, left, right, recipeText string) outcome {
	t.Helper()
	o, err := reconcileFiles(t, left, right, recipeText)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return o
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, h := range recs[0] {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// recipeYAML builds a recipe over left.csv (key id) and right.csv (key id)
// with the given rules, in YAML.
func recipeYAML(rules string) string {
	return `
recipe_id: test
sources:
  left: {alias: l, uri: "file://left.csv", primary_key: [id]}
  right: {alias: r, uri: "file://right.csv", primary_key: [id]}
match_rules:
` + rules
}

// withSourceField sets a field of a side's source (YAML) in a recipe
// recipeYAML built; fields set before stay.
func withSourceField(recipe, side, field, value string) string {
	return withSourceFields(recipe, side, field+": "+value)
}

// setSourceFields rewrites the recipe file at path, adding fields (YAML,
// such as `filter: [...]`) to the first source keyed by key, from the text
// the file had when the test began (text).
func setSourceFields(t *testing.T, path, text, key, fields string) {
	t.Helper()
	source := "primary_key: [" + key + "]}"
	if !strings.Contains(text, source) {
		t.Fatalf("no source keyed by %s in:\n%s", key, text)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(text, source, "primary_key: ["+key+"], "+fields+"}", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// withSourceFields adds fields (YAML, such as `net: {...}, types: {...}`)
// to a side's source in a recipe recipeYAML built.
func withSourceFields(recipe, side, fields string) string {
	source := fmt.Sprintf(`%s: {alias: %s, uri: "file://%[1]s.csv", primary_key: [id]`, side, side[:1])
	return strings.Replace(recipe, source, source+", "+fields, 1)
}

// seedRecipe copies the seed fixture into a temp dir laid out as its recipe
// expects (testdata/*.csv beside recipe.json); fixed corrects the column.
func seedRecipe(t *testing.T, fixed bool) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"invoices.csv", "payments.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("testdata/recipe.json")
	if err != nil {
		t.Fatal(err)
	}
	if fixed {
		b = []byte(strings.Replace(string(b), `"payment_ref"`, `"reference_number"`, 1))
	}
	path := filepath.Join(dir, "recipe.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// eachSeed runs f as parallel subtests seed_1 to seed_n, each with a
// generator of its own; stream keeps one test's numbers apart from
// another's.
func eachSeed(t *testing.T, n, stream uint64, f func(t *testing.T, seed uint64, rng *rand.Rand)) {
	for seed := uint64(1); seed <= n; seed++ {
		t.Run(fmt.Sprintf("seed_%d", seed), func(t *testing.T) {
			t.Parallel()
			f(t, seed, rand.New(rand.NewPCG(seed, stream)))
		})
	}
}

// csvOf is a CSV file's text: the header, then n records, record i as row
// writes it.
func csvOf(header string, n int, row func(i int) string) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := range n {
		b.WriteString(row(i) + "\n")
	}
	return b.String()
}
