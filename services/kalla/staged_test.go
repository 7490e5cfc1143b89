package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
	"github.com/kallahq/kalla/libs/testenv"
)

// TestStagedRunSurvivesAStagerCrash reconciles a PostgreSQL table of 200k
// rows, staged in several chunks by two stagers (one killed with SIGKILL in
// the middle), with two reapers, against a CSV file; the result must equal
// `kalla reconcile` on the same data and every chunk must count once.
func TestStagedRunSurvivesAStagerCrash(t *testing.T) {
	t.Parallel()
	source := testenv.Postgres(t)
	path := writeStagedCase(t, source, 200_000)
	s := startSystem(t, "KALLA_CHUNK_ROWS=40000")
	url := s.startPlanner()
	s.start("reaper-1", "reaper")
	s.start("reaper-2", "reaper")
	doomed := s.start("stager-1", "stager")
	s.start("stager-2", "stager")
	s.start("executor", "executor")

	runID := s.submit(url, path)
	s.waitClaim(runID, "stager-1", jobs.TypeStageChunk, 60*time.Second)
	doomed.kill()
	run := s.waitRun(runID, 240*time.Second)
	if run.Status != jobs.RunCompleted {
		t.Fatalf("run %s: %s (%s)", run.ID, run.Status, run.Error)
	}
	if run.ChunksTotal < 5 || run.ChunksStaged != run.ChunksTotal || run.RowsStaged != 200_000 {
		t.Errorf("staging progress: %d of %d chunks, %d rows; want all of >= 5 chunks and 200000 rows", run.ChunksStaged, run.ChunksTotal, run.RowsStaged)
	}

	s.sameAsReconcile(run, path)
}

// TestStagedViewByKey reconciles a PostgreSQL view, which has no heap pages
// to cut into block ranges: the stager cuts it by its integer key, and the
// result must equal `kalla reconcile` reading the view directly. Its columns
// hold what the two readers must read alike: a domain, padded char(n),
// empty texts beside NULLs, an inet, and a NaN and a BC date (text, being
// unfit).
// A filter on four of them, which the database checks for both, keeps
// the same records, and counts the same left out.
func TestStagedViewByKey(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		`CREATE DOMAIN money_t AS numeric(12,2)`,
		`CREATE TABLE ledger (id bigint PRIMARY KEY, amount money_t, note char(6), memo text, odd numeric, born date, host inet)`,
		`INSERT INTO ledger SELECT i, ((i * 7919) % 1000000) / 100.0, 'N' || (i % 10), CASE i % 3 WHEN 0 THEN '' WHEN 1 THEN NULL ELSE 'm' END,
			CASE WHEN i = 1 THEN 'NaN' ELSE i / 3.0 END, CASE WHEN i = 2 THEN DATE '0044-03-15 BC' ELSE DATE '2024-01-01' + i % 365 END,
			('10.0.' || (i % 250) || '.1')::inet
			FROM generate_series(1, 30000) i`,
		`CREATE VIEW open_ledger AS SELECT * FROM ledger WHERE id % 7 <> 0`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "bank.csv"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.PgConn().CopyTo(ctx, f, `COPY (SELECT 'B' || id AS line, id AS ref, amount + (id % 3) / 100.0 AS paid FROM ledger WHERE id % 5 <> 0 AND id > 2) TO STDOUT (FORMAT csv, HEADER true)`)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "recipe.yaml")
	err = os.WriteFile(path, []byte(`
recipe_id: view
sources:
  left: {alias: ledger, uri: "`+db+`&table=public.open_ledger", primary_key: [id],
    filter: [{column: memo, op: ne, value: ""}, {column: amount, op: lt, value: 9000}, {column: note, op: in, values: [N1, N2, "N3    "]},
      {column: host, op: ne, value: "10.0.11.1"}]}
  right: {alias: bank, uri: "file://bank.csv", primary_key: [line]}
match_rules:
  - name: exact
    pattern: "1:1"
    conditions: [{left: id, op: eq, right: ref}, {left: amount, op: tolerance, right: paid, threshold: 0.01}]
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}

	s := startSystem(t, "KALLA_CHUNK_ROWS=5000")
	url := s.startPlanner()
	s.start("reaper", "reaper")
	s.start("stager", "stager")
	s.start("executor", "executor")
	runID := s.submit(url, path)
	run := s.waitRun(runID, 240*time.Second)
	if run.Status != jobs.RunCompleted {
		t.Fatalf("run %s: %s (%s)", run.ID, run.Status, run.Error)
	}
	s.sameAsReconcile(run, path)
	// The filter as PostgreSQL reads it: char(n) compares without its
	// padding there, but not as text, whose "N3    " no note is; an inet
	// as it prints, without the /32 its cast to text adds.
	var kept int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM open_ledger WHERE memo IS DISTINCT FROM '' AND amount < 9000 AND note::text IN ('N1', 'N2') AND host <> '10.0.11.1'`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	// The stager stages the rows the filter keeps only.
	if run.ChunksTotal != 6 || run.ChunksStaged != 6 || run.RowsStaged != kept {
		t.Errorf("staging progress: %d of %d chunks, %d rows; want 6 of 6 and the %d rows of the view's 25715 the filter keeps", run.ChunksStaged, run.ChunksTotal, run.RowsStaged, kept)
	}
	var got evidence.Summary
	if err := json.Unmarshal(run.Summary, &got); err != nil {
		t.Fatal(err)
	}
	if got.Left.Rows != kept || got.Left.FilteredOut != 25715-kept {
		t.Errorf("ledger: %d records kept, %d left out; want %d and %d", got.Left.Rows, got.Left.FilteredOut, kept, 25715-kept)
	}
}

// sameAsReconcile checks a completed run against `kalla reconcile` of its
// recipe on this machine: the same counts and byte-identical evidence.
func (s *system) sameAsReconcile(run jobs.Run, path string) {
	t := s.t
	t.Helper()
	r, err := recipe.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	want, err := reconcile.Run(context.Background(), r, reconcile.Options{Engine: &duckdb.Engine{Threads: 2}, Format: engine.Parquet, OutDir: local})
	if err != nil {
		t.Fatal(err)
	}
	var got evidence.Summary
	if err := json.Unmarshal(run.Summary, &got); err != nil {
		t.Fatalf("summary of run %s: %v", run.ID, err)
	}
	if !reflect.DeepEqual(got.Left, want.Left) || !reflect.DeepEqual(got.Right, want.Right) || got.MatchGroups != want.MatchGroups {
		t.Errorf("pipeline %+v\nreconcile %+v", got, want)
	}
	var uris evidence.URIs
	if err := json.Unmarshal(run.Evidence, &uris); err != nil {
		t.Fatalf("evidence of run %s: %v", run.ID, err)
	}
	for file, uri := range map[string]string{"matched.parquet": uris.Matched, "unmatched_left.parquet": uris.UnmatchedLeft, "unmatched_right.parquet": uris.UnmatchedRight} {
		if !bytes.Equal(s.object(uri), readFile(t, filepath.Join(local, file))) {
			t.Errorf("%s from the pipeline differs from kalla reconcile's", file)
		}
	}
}

// writeStagedCase fills a PostgreSQL table with n invoices and writes the
// payments for most of them to a CSV file, with a recipe over both.
func writeStagedCase(t *testing.T, db string, n int) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE invoices (invoice_id text PRIMARY KEY, customer text, amount numeric(12,2), due date)`); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `INSERT INTO invoices SELECT 'INV-' || lpad(i::text, 7, '0'), 'C' || (i % 997), ((i::bigint * 7919) % 1000000) / 100.0, DATE '2024-01-01' + (i % 365)
		FROM generate_series(1, $1::int) i`, n)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "payments.csv"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.PgConn().CopyTo(ctx, f, `COPY (SELECT 'PAY-' || substr(invoice_id, 5) AS payment_id, invoice_id AS reference, amount + (abs(hashtext(invoice_id)) % 3) / 100.0 AS paid
		FROM invoices WHERE abs(hashtext(invoice_id)) % 10 < 8) TO STDOUT (FORMAT csv, HEADER true)`)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	text := `
recipe_id: staged
sources:
  left: {alias: invoices, uri: "` + db + `&table=public.invoices", primary_key: [invoice_id]}
  right: {alias: payments, uri: "file://payments.csv", primary_key: [payment_id]}
match_rules:
  - name: exact
    pattern: "1:1"
    conditions: [{left: invoice_id, op: eq, right: reference}, {left: amount, op: tolerance, right: paid, threshold: 0.01}]
`
	if err := os.WriteFile(filepath.Join(dir, "recipe.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "recipe.yaml")
}

// waitClaim waits until worker holds a claimed job of the given type, so a
// kill lands in the middle of that job.
func (s *system) waitClaim(runID, worker, jobType string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var n int
		err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM jobs WHERE run_id = $1 AND claimed_by = $2 AND type = $3 AND status = 'claimed'", runID, worker, jobType).Scan(&n)
		if err == nil && n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("%s never held a %s job of run %s", worker, jobType, runID)
}
