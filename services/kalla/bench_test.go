package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/testenv"
)

// TestPipelineBenchmark measures the pipeline for `make bench` (set
// KALLA_BENCH_OUT to the Markdown file to write); it asserts no timing.
func TestPipelineBenchmark(t *testing.T) {
	out := os.Getenv("KALLA_BENCH_OUT")
	if out == "" {
		t.Skip("a benchmark: run it with make bench")
	}
	invoices := 1_000_000
	if n := os.Getenv("KALLA_BENCH_INVOICES"); n != "" {
		fmt.Sscan(n, &invoices)
	}
	var report strings.Builder
	fmt.Fprintf(&report, "## Pipeline (`make bench`, %s)\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&report, "Each service a separate process on this machine; PostgreSQL, NATS and versitygw S3 from libs/testenv. KALLA_CHUNK_ROWS=100000.\n\n")
	fmt.Fprintf(&report, "| measure | value |\n|---|---|\n")

	source := testenv.Postgres(t)
	path := writeStagedCase(t, source, invoices)
	// The raw COPY varies by half from one run to the next on a shared
	// machine, so each staged run is paired with a COPY just before it.
	const rounds = 3
	var oneStaging, oneTotal float64 // 1 stager's medians, to compare the filtered run with
	for _, stagers := range []int{1, 2} {
		var copies, stagings, totals, creates, shares, fetches, reconciles, publishes []float64
		for range rounds {
			copySecs := rawCopy(t, source)
			r := stagedRun(t, path, stagers)
			copies, stagings = append(copies, copySecs), append(stagings, r.staging.Seconds())
			totals, creates = append(totals, r.total.Seconds()), append(creates, r.create.Seconds())
			shares = append(shares, 100*copySecs/r.staging.Seconds())
			fetches, reconciles, publishes = append(fetches, r.fetch.Seconds()), append(reconciles, r.reconcile.Seconds()), append(publishes, r.publish.Seconds())
		}
		total, copySecs, staging := median(totals), median(copies), median(stagings)
		if stagers == 1 {
			oneStaging, oneTotal = staging, total
		}
		fmt.Fprintf(&report, "| %d stager(s): CreateRun to completed, median of %d | %.2f s (%.0f input rows/s, counting about 0.8 payments per invoice) |\n", stagers, rounds, total, float64(invoices)*1.8/total)
		fmt.Fprintf(&report, "| %d stager(s): CreateRun itself (schemas of both sources, the CSV side inferred from the whole file), median | %.2f s |\n", stagers, median(creates))
		fmt.Fprintf(&report, "| %d stager(s): raw `COPY invoices TO STDOUT` of %d rows just before each run, median | %.2f s (%.0f rows/s) |\n", stagers, invoices, copySecs, float64(invoices)/copySecs)
		fmt.Fprintf(&report, "| %d stager(s): staging (CreateRun's answer to executing), median | %.2f s (%.0f rows/s) |\n", stagers, staging, float64(invoices)/staging)
		fmt.Fprintf(&report, "| %d stager(s): staging as a share of the raw COPY's speed, each round | %s (median %.0f%%) |\n", stagers, percents(shares), median(shares))
		fmt.Fprintf(&report, "| %d stager(s): the executor's phases, medians: downloading the staged parts and the CSV, reconciling, uploading the evidence | %.2f s, %.2f s, %.2f s |\n", stagers, median(fetches), median(reconciles), median(publishes))
	}
	filtered, kept := filteredCase(t, path, source)
	var stagings, totals []float64
	for range rounds {
		r := stagedRun(t, filtered, 1)
		stagings, totals = append(stagings, r.staging.Seconds()), append(totals, r.total.Seconds())
	}
	fmt.Fprintf(&report, "| 1 stager, the invoices filtered to `due gte 2024-12-01` (%d of %d kept, checked by PostgreSQL as the chunks read): staging and CreateRun to completed, medians of %d | %.2f s and %.2f s (unfiltered above: %.2f s and %.2f s) |\n",
		kept, invoices, rounds, median(stagings), median(totals), oneStaging, oneTotal)
	lat := tinyRuns(t, 21)
	fmt.Fprintf(&report, "| tiny run (10 rows each side), CreateRun to completed, median of %d | %d ms (min %d ms, max %d ms) |\n", len(lat), lat[len(lat)/2].Milliseconds(), lat[0].Milliseconds(), lat[len(lat)-1].Milliseconds())
	if err := os.WriteFile(out, []byte(report.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + report.String())
}

// filteredCase is the recipe at path with a filter on the invoices, and
// how many of them it keeps, counted in the database db.
func filteredCase(t *testing.T, path, db string) (string, int64) {
	t.Helper()
	filtered := filepath.Join(filepath.Dir(path), "filtered.yaml")
	if err := os.WriteFile(filtered, readFile(t, path), 0o644); err != nil {
		t.Fatal(err)
	}
	replaceInFile(t, filtered, "primary_key: [invoice_id]}", `primary_key: [invoice_id], filter: [{column: due, op: gte, value: "2024-12-01"}]}`)
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var kept int64
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM invoices WHERE due >= '2024-12-01'").Scan(&kept); err != nil {
		t.Fatal(err)
	}
	return filtered, kept
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

func percents(xs []float64) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%.0f%%", x)
	}
	return strings.Join(out, ", ")
}

func rawCopy(t *testing.T, db string) float64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	start := time.Now()
	if _, err := conn.PgConn().CopyTo(context.Background(), io.Discard, "COPY invoices TO STDOUT"); err != nil {
		t.Fatal(err)
	}
	return time.Since(start).Seconds()
}

// runTimes are the times of one staged run: to completion, of CreateRun
// (it reads both sources' schemas, inferring the CSV side's types from the
// whole file), from CreateRun's answer until staging ended (the run
// executing), and of the executor's phases, from its log.
type runTimes struct {
	total, create, staging    time.Duration
	fetch, reconcile, publish time.Duration
}

// stagedRun runs the recipe through a fresh system with n stagers.
func stagedRun(t *testing.T, path string, n int) runTimes {
	t.Helper()
	s := startSystem(t, "KALLA_CHUNK_ROWS=100000")
	url := s.startPlanner()
	s.start(fmt.Sprintf("reaper-%d", n), "reaper")
	for i := 1; i <= n; i++ {
		s.start(fmt.Sprintf("stager-%d-%d", n, i), "stager")
	}
	executor := s.start(fmt.Sprintf("executor-%d", n), "executor")
	start := time.Now()
	res := kalla(t, "submit", "--server", url, "--recipe", path, "--token", apiToken)
	if res.code != exitOK {
		t.Fatalf("submit: %s", res.stderr)
	}
	runID := strings.TrimSpace(res.stdout)
	var r runTimes
	r.create = time.Since(start)
	s.waitStatus(runID, jobs.RunExecuting, 10*time.Minute)
	r.staging = time.Since(start) - r.create
	run := s.waitRun(runID, 20*time.Minute)
	if run.Status != jobs.RunCompleted {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	r.total = time.Since(start)
	r.fetch, r.reconcile, r.publish = executorPhases(t, executor.log, runID)
	return r
}

// executorPhases reads the executor's "run executed" line of runID from
// its JSON log (durations in nanoseconds).
func executorPhases(t *testing.T, log, runID string) (fetch, reconcile, publish time.Duration) {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		var e struct {
			Msg                       string
			RunID                     string `json:"run_id"`
			Fetch, Reconcile, Publish time.Duration
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "run executed" && e.RunID == runID {
			return e.Fetch, e.Reconcile, e.Publish
		}
	}
	t.Fatalf("the executor's log has no \"run executed\" line for run %s", runID)
	return 0, 0, 0
}

// tinyRuns measures CreateRun to completed for small native runs.
func tinyRuns(t *testing.T, n int) []time.Duration {
	t.Helper()
	s := startSystem(t, "KALLA_REAPER_INTERVAL=1s")
	url := s.startPlanner()
	s.start("reaper-tiny", "reaper")
	s.start("executor-tiny", "executor")
	dir := t.TempDir()
	var inv, pay strings.Builder
	inv.WriteString("id,amount\n")
	pay.WriteString("id,ref,amount\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&inv, "%d,%d.00\n", i, i)
		fmt.Fprintf(&pay, "%d,%d,%d.00\n", 100+i, i, i)
	}
	os.WriteFile(filepath.Join(dir, "l.csv"), []byte(inv.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "r.csv"), []byte(pay.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "recipe.yaml"), []byte(`
recipe_id: tiny
sources: {left: {alias: l, uri: "file://l.csv", primary_key: [id]}, right: {alias: r, uri: "file://r.csv", primary_key: [id]}}
match_rules: [{name: exact, pattern: "1:1", conditions: [{left: id, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0}]}]
`), 0o644)
	if _, err := recipe.Load(filepath.Join(dir, "recipe.yaml")); err != nil {
		t.Fatal(err)
	}
	var lat []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		res := kalla(t, "submit", "--server", url, "--recipe", filepath.Join(dir, "recipe.yaml"), "--token", apiToken, "--wait", "--json")
		if res.code != exitOK {
			t.Fatalf("tiny run %d: %s", i, res.stderr)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat
}
