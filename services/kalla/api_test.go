package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
)

const apiToken = "test-token-5f2c"

// startPlanner starts the planner with bearer auth and returns its URL.
func (s *system) startPlanner() string {
	s.t.Helper()
	addr := freeAddr(s.t)
	s.start("planner", "planner", "KALLA_HTTP_ADDR="+addr, "KALLA_API_TOKENS="+apiToken)
	return "http://" + addr
}

// TestSubmitThroughTheAPI sends the bundled example through the planner
// with `kalla submit --wait --json` and expects what `kalla reconcile` says.
func TestSubmitThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := startSystem(t)
	url := s.startPlanner()
	s.start("reaper", "reaper")
	s.start("executor", "executor")
	path := example(t)

	t.Run("completes_like_reconcile", func(t *testing.T) {
		submitLikeReconcile(t, url, path, path)
	})
	// The summary lists the files a pattern named.
	splitFiles := []evidence.FileSummary{{Name: "invoices-01.csv", Rows: 7}, {Name: "invoices-02.csv", Rows: 8}}
	t.Run("pattern_source_completes_like_its_one_file", func(t *testing.T) {
		if got := submitLikeReconcile(t, url, splitInvoices(t, example(t)), path); !slices.Equal(got.Left.Files, splitFiles) || got.Right.Files != nil {
			t.Errorf("files: left %v, right %v; want %v and none", got.Left.Files, got.Right.Files, splitFiles)
		}
	})
	t.Run("object_pattern_completes_like_its_one_file", func(t *testing.T) {
		// The planner and the executor each fetch the objects named.
		recipe := splitInvoices(t, example(t))
		dir := filepath.Dir(recipe)
		store, err := objstore.Open("s3://"+s.s3.Bucket+"/split", s.s3.Config())
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"invoices-01.csv", "invoices-02.csv"} {
			if err := store.PutFile(context.Background(), name, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		replaceInFile(t, recipe, "file://invoices-*.csv", "s3://"+s.s3.Bucket+"/split/invoices-*.csv")
		if got := submitLikeReconcile(t, url, recipe, path); !slices.Equal(got.Left.Files, splitFiles) {
			t.Errorf("files: %v, want %v", got.Left.Files, splitFiles)
		}
	})
	t.Run("file_without_a_header_completes_like_with_one", func(t *testing.T) {
		// The planner and the executor each read the columns the recipe
		// names, in the encoding it names (a name in Latin-1).
		recipe := withoutHeader(t, example(t))
		replaceInFile(t, recipe, `"columns": [`, `"separator": ",", "encoding": "latin1", "columns": [`)
		replaceInFile(t, filepath.Join(filepath.Dir(recipe), "invoices.csv"), "Acme Corporation", "Acm\xe9 Corporation")
		submitLikeReconcile(t, url, recipe, path)
	})
	t.Run("workbook_object_completes_like_its_csv_file", func(t *testing.T) {
		// The planner and the executor each fetch the workbook and read
		// the sheet the recipe names.
		csv := copyExample(t, "bank", "recipe-workbook.json", "payments.csv", "statement.csv", "statement.xlsx")
		recipe := filepath.Join(filepath.Dir(csv), "recipe-workbook.json")
		store, err := objstore.Open("s3://"+s.s3.Bucket+"/bank", s.s3.Config())
		if err != nil {
			t.Fatal(err)
		}
		if err := store.PutFile(context.Background(), "statement.xlsx", filepath.Join(filepath.Dir(csv), "statement.xlsx")); err != nil {
			t.Fatal(err)
		}
		replaceInFile(t, recipe, "file://statement.xlsx", "s3://"+s.s3.Bucket+"/bank/statement.xlsx")
		if got := submitLikeReconcile(t, url, recipe, csv); got.Right.Sheet != "Transactions" || got.Left.Sheet != "" {
			t.Errorf("sheets read: %q and %q, want none and Transactions", got.Left.Sheet, got.Right.Sheet)
		}
	})
	t.Run("run_failed_on_its_data_exits_2", func(t *testing.T) {
		// The planner reads schemas only: the executor finds the duplicated
		// invoice, and the run says it failed on its input.
		res := kalla(t, "submit", "--server", url, "--recipe", duplicateInvoice(t, example(t)), "--token", apiToken, "--wait")
		if res.code != exitBadInput || !strings.Contains(res.stderr, `"INV-2024-001" (2 rows: lines 2 and 17)`) {
			t.Errorf("exit %d, stderr %q; want 2 naming the duplicated key", res.code, res.stderr)
		}
	})
	t.Run("refused_without_a_token", func(t *testing.T) {
		// No Unsetenv here: this test runs in parallel with others in the
		// same process. The variable is set only by t.Setenv elsewhere.
		if os.Getenv("KALLA_API_TOKEN") != "" {
			t.Fatal("KALLA_API_TOKEN is set in the environment; unset it to run the tests")
		}
		res := kalla(t, "submit", "--server", url, "--recipe", path)
		if res.code != exitFailure || !strings.Contains(res.stderr, "token") {
			t.Errorf("exit %d, stderr %q", res.code, res.stderr)
		}
	})
	t.Run("missing_column_rejected_at_create", func(t *testing.T) {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, []byte(strings.Replace(string(text), `"reference_number"`, `"payment_ref"`, 1)), 0o644)
		res := kalla(t, "submit", "--server", url, "--recipe", path, "--token", apiToken)
		if res.code != exitBadInput || !strings.Contains(res.stderr, "payment_ref") || !strings.Contains(res.stderr, "match_rules[0].conditions[0].right") {
			t.Errorf("exit %d, stderr %q", res.code, res.stderr)
		}
	})
}

// submitLikeReconcile sends the recipe at path with `kalla submit --wait
// --json` to the planner at url, expects the counts `kalla reconcile` gives
// for the recipe at want, and returns what submit said.
func submitLikeReconcile(t *testing.T, url, path, want string) evidence.Summary {
	t.Helper()
	res := kalla(t, "submit", "--server", url, "--recipe", path, "--token", apiToken, "--wait", "--json")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var got struct {
		RunID  string `json:"run_id"`
		Status string `json:"status"`
		evidence.Summary
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	r, err := recipe.Load(want)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := reconcile.Run(context.Background(), r, reconcile.Options{Engine: &duckdb.Engine{}, Format: engine.Parquet, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "completed" || got.RunID == "" || got.Left.Rows != sum.Left.Rows || got.MatchGroups != sum.MatchGroups || got.Left.Matched != sum.Left.Matched || got.Right.Unmatched != sum.Right.Unmatched {
		t.Errorf("submit said %+v; reconcile says %+v", got, sum)
	}
	return got.Summary
}
