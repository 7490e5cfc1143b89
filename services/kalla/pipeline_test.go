package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
)

// TestExecutorMatchesReconcile runs native (CSV) runs through the executor
// and reaper processes and expects exactly the evidence `kalla reconcile`
// writes for the same recipe.
func TestExecutorMatchesReconcile(t *testing.T) {
	t.Parallel()
	s := startSystem(t)
	s.start("reaper", "reaper")
	s.start("executor", "executor")
	plain := s.runLikeReconcile(example(t))
	// The payments as a European bank writes them (10.02.2024, 15.000,00 €),
	// read by the layouts the recipe sets: the same evidence.
	european := s.runLikeReconcile(europeanExample(t))
	for file, b := range plain {
		if !bytes.Equal(b, european[file]) {
			t.Errorf("%s of the European layouts differs from the example's", file)
		}
	}
	// reverse_sign, net and extract, as the executor reads them.
	s.runLikeReconcile(copyExample(t, "bank", "payments.csv", "statement.csv"))
	// A filter on each side: the USD records only.
	usd := example(t)
	const filter = ` "filter": [{"column": "currency", "op": "eq", "value": "USD"}],`
	replaceInFile(t, usd, `"primary_key": ["invoice_id"],`, `"primary_key": ["invoice_id"],`+filter, `"primary_key": ["payment_id"],`, `"primary_key": ["payment_id"],`+filter)
	if bytes.Count(readFile(t, usd), []byte(`"filter"`)) != 2 {
		t.Fatalf("the example's keys moved; no filter set:\n%s", readFile(t, usd))
	}
	s.runLikeReconcile(usd)
}

// runLikeReconcile runs the recipe at path through the pipeline, checks
// that its summary and evidence are kalla reconcile's, and returns that
// evidence by file name.
func (s *system) runLikeReconcile(path string) map[string][]byte {
	t := s.t
	t.Helper()
	r, err := recipe.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	runID := s.createRun(r)
	run := s.waitRun(runID, 60*time.Second)
	if run.Status != jobs.RunCompleted {
		t.Fatalf("run %s: %s (%s)", runID, run.Status, run.Error)
	}
	local := t.TempDir()
	want, err := reconcile.Run(context.Background(), r, reconcile.Options{Engine: &duckdb.Engine{Threads: 2}, Format: engine.Parquet, OutDir: local})
	if err != nil {
		t.Fatal(err)
	}
	var got evidence.Summary
	if err := json.Unmarshal(run.Summary, &got); err != nil {
		t.Fatal(err)
	}
	if got.MatchGroups != want.MatchGroups || !reflect.DeepEqual(got.Left, want.Left) || !reflect.DeepEqual(got.Right, want.Right) {
		t.Errorf("%s: pipeline summary %+v, reconcile %+v", path, got, want)
	}
	var uris evidence.URIs
	if err := json.Unmarshal(run.Evidence, &uris); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for file, uri := range map[string]string{"matched.parquet": uris.Matched, "unmatched_left.parquet": uris.UnmatchedLeft, "unmatched_right.parquet": uris.UnmatchedRight} {
		files[file] = readFile(t, filepath.Join(local, file))
		if !bytes.Equal(s.object(uri), files[file]) {
			t.Errorf("%s: %s from the pipeline differs from kalla reconcile's", path, file)
		}
	}
	return files
}

// europeanExample is the example with its payments' dates written
// DD.MM.YYYY and amounts 1.234,56 €, and the recipe setting those layouts.
func europeanExample(t *testing.T) string {
	t.Helper()
	path := example(t)
	payments := filepath.Join(filepath.Dir(path), "payments.csv")
	recs, err := csv.NewReader(bytes.NewReader(readFile(t, payments))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	date, amount := slices.Index(recs[0], "payment_date"), slices.Index(recs[0], "paid_amount")
	for _, rec := range recs[1:] {
		y, m, d := rec[date][:4], rec[date][5:7], rec[date][8:]
		rec[date] = d + "." + m + "." + y
		whole, frac, _ := strings.Cut(rec[amount], ".")
		for i := len(whole) - 3; i > 0; i -= 3 {
			whole = whole[:i] + "." + whole[i:]
		}
		rec[amount] = whole + "," + frac + "\u00a0€"
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\"15.000,00\u00a0€\"") {
		t.Fatalf("no amount was written with a thousands separator:\n%s", b.String())
	}
	text := strings.Replace(string(readFile(t, path)), `"primary_key": ["payment_id"]`,
		`"primary_key": ["payment_id"], "types": {"payment_date": "date DD.MM.YYYY", "paid_amount": "decimal 1.234,56 €"}`, 1)
	for file, content := range map[string][]byte{payments: b.Bytes(), path: []byte(text)} {
		if err := os.WriteFile(file, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// createRun records an all-native run the way the planner does (run, exec
// job and outbox in one transaction); the reaper publishes the outbox.
func (s *system) createRun(r *kallav1.Recipe) string {
	s.t.Helper()
	ctx := context.Background()
	text, err := recipe.Marshal(r)
	if err != nil {
		s.t.Fatal(err)
	}
	pb, err := proto.Marshal(r)
	if err != nil {
		s.t.Fatal(err)
	}
	job, err := pipeline.ExecJob(ctx, r, "", "")
	if err != nil {
		s.t.Fatal(err)
	}
	runID, err := s.store.CreateRun(ctx, jobs.NewRun{RecipeID: r.GetRecipeId(), RecipeText: string(text), Recipe: pb, Deadline: time.Now().Add(time.Hour), Jobs: []jobs.NewJob{job}})
	if err != nil {
		s.t.Fatal(err)
	}
	return runID
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// object downloads an object of the system's S3 by URI.
func (s *system) object(uri string) []byte {
	s.t.Helper()
	cfg := s.s3.Config()
	dir, key := uri[:strings.LastIndex(uri, "/")], uri[strings.LastIndex(uri, "/")+1:]
	store, err := objstore.Open(dir, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	rc, err := store.Open(context.Background(), key)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}
