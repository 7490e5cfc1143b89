package stage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/queue/queuetest"
	"github.com/kallahq/kalla/libs/telemetry"
	"github.com/kallahq/kalla/libs/testenv"
	"github.com/kallahq/kalla/services/stager/internal/extract"
	"github.com/kallahq/kalla/services/stager/internal/stage"
	"github.com/kallahq/kalla/services/stager/internal/stagetest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		rows, pages          int64
		chunkRows, maxChunks int
		want                 int
	}{
		{rows: 0, pages: 0, chunkRows: 100, maxChunks: 8, want: 1},      // empty table
		{rows: 0, pages: 5, chunkRows: 100, maxChunks: 8, want: 1},      // all rows deleted
		{rows: 50, pages: 1, chunkRows: 100, maxChunks: 8, want: 1},     // one page
		{rows: 1000, pages: 3, chunkRows: 100, maxChunks: 8, want: 3},   // never more chunks than pages
		{rows: 1000, pages: 100, chunkRows: 100, maxChunks: 8, want: 8}, // capped by maxChunks
		{rows: 1000, pages: 100, chunkRows: 300, maxChunks: 8, want: 4}, // ceil(1000/300)
		{rows: 1000, pages: 100, chunkRows: 1000, maxChunks: 8, want: 1},
		{rows: 1001, pages: 100, chunkRows: 1000, maxChunks: 8, want: 2},
		{rows: 20000, pages: 157, chunkRows: 3000, maxChunks: 64, want: 7},
		{rows: 1 << 40, pages: 1 << 30, chunkRows: 1, maxChunks: 1 << 20, want: 1 << 20},
	} {
		t.Run(fmt.Sprintf("%d rows %d pages", tc.rows, tc.pages), func(t *testing.T) {
			got := stage.Cut(tc.rows, tc.pages, tc.chunkRows, tc.maxChunks)
			if len(got) != tc.want {
				t.Fatalf("%d chunks, want %d", len(got), tc.want)
			}
			if got[0].Start != 0 {
				t.Errorf("first chunk starts at block %d, want 0", got[0].Start)
			}
			if got[len(got)-1].End != 0 {
				t.Errorf("last chunk ends at block %d, want 0 (open)", got[len(got)-1].End)
			}
			for i := 0; i+1 < len(got); i++ {
				if got[i].End != got[i+1].Start {
					t.Fatalf("chunk %d ends at %d but chunk %d starts at %d", i, got[i].End, i+1, got[i+1].Start)
				}
				if got[i].End <= got[i].Start {
					t.Fatalf("chunk %d is empty: %+v", i, got[i])
				}
			}
			if len(got) > 1 && got[len(got)-1].Start >= tc.pages {
				t.Errorf("last chunk starts at %d, past the %d pages", got[len(got)-1].Start, tc.pages)
			}
		})
	}
}

func TestChunkJobID(t *testing.T) {
	a, b := stage.ChunkJobID("0b8e6f7e-4a55-4b0e-9d4c-0c3f3b6a1a11", 3), stage.ChunkJobID("0B8E6F7E-4A55-4B0E-9D4C-0C3F3B6A1A11", 3)
	if a != b {
		t.Errorf("ids differ by case of the plan id: %s, %s", a, b)
	}
	if len(a) != 36 || a[14] != '5' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("%s is not a version 5 UUID", a)
	}
	if c := stage.ChunkJobID("0b8e6f7e-4a55-4b0e-9d4c-0c3f3b6a1a11", 4); c == a {
		t.Errorf("chunks 3 and 4 have the same id %s", a)
	}
}

// env is the pipeline around the stager in these tests.
type env struct {
	store   *jobs.Store
	pool    *pgxpool.Pool
	staging objstore.Store
	stager  *stage.Stager
	runner  *pipeline.Runner
	js      jetstream.JetStream
}

func newEnv(t *testing.T, chunkRows int) *env {
	t.Helper()
	store, pool := stagetest.State(t)
	s3 := testenv.S3(t)
	staging, err := objstore.Open("s3://"+s3.Bucket+"/staging", objstore.Config{
		Endpoint: s3.Endpoint, AccessKeyID: s3.AccessKey, SecretAccessKey: s3.SecretKey, Region: s3.Region, PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	js := queuetest.JetStream(t, queue.Config{AckWait: 10 * time.Second})
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	metrics := telemetry.NewMetrics()
	st := &stage.Stager{Store: store, Staging: staging, Publisher: queue.NewPublisher(js), Metrics: metrics, Log: log,
		ChunkRows: chunkRows, MaxChunks: 64, TempDir: t.TempDir()}
	runner := &pipeline.Runner{Store: store, WorkerID: "test-" + t.Name(), Metrics: metrics, Log: log, Handle: st.Handle}
	return &env{store: store, pool: pool, staging: staging, stager: st, runner: runner, js: js}
}

// snapshot is everything a redelivery must leave unchanged.
type snapshot struct {
	parts        []objstore.Object
	partRows     []int64
	stagedChunks int
	chunkJobs    int
	execJobs     int
	chunksTotal  int
	chunksStaged int
	rowsStaged   int64
}

func (e *env) snapshot(t *testing.T, runID string) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	if s.parts, err = e.staging.List(ctx, pipeline.StagingPrefix(runID, kallav1.Side_SIDE_LEFT)); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.parts {
		s.partRows = append(s.partRows, readPart(t, e.staging, p.Key).NumRows())
	}
	q := func(sql string, dst any) {
		if err := e.pool.QueryRow(ctx, sql, runID).Scan(dst); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	q("SELECT count(*) FROM staged_chunks WHERE run_id = $1", &s.stagedChunks)
	q("SELECT count(*) FROM jobs WHERE run_id = $1 AND type = 'stage_chunk'", &s.chunkJobs)
	q("SELECT count(*) FROM jobs WHERE run_id = $1 AND type = 'exec'", &s.execJobs)
	run, err := e.store.GetRun(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	s.chunksTotal, s.chunksStaged, s.rowsStaged = run.ChunksTotal, run.ChunksStaged, run.RowsStaged
	return s
}

func readPart(t *testing.T, staging objstore.Store, key string) arrow.Table {
	t.Helper()
	r, err := staging.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(b), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("read part %s: %v", key, err)
	}
	t.Cleanup(tbl.Release)
	return tbl
}

// jobEnvelopes returns the envelopes of the run's jobs of type typ.
func (e *env) jobEnvelopes(t *testing.T, runID, typ string) []*kallav1.JobEnvelope {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), "SELECT payload FROM jobs WHERE run_id = $1 AND type = $2 ORDER BY id", runID, typ)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var envs []*kallav1.JobEnvelope
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		env, err := queue.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return envs
}

// plan runs the run's stage plan jobs through the stager and returns its
// chunk jobs in chunk order.
func (e *env) plan(t *testing.T, runID string) []*kallav1.JobEnvelope {
	t.Helper()
	for _, env := range e.jobEnvelopes(t, runID, jobs.TypeStagePlan) {
		if err := e.stager.Handle(context.Background(), jobOf(env), env); err != nil {
			t.Fatalf("plan: %v", err)
		}
	}
	chunks := e.jobEnvelopes(t, runID, jobs.TypeStageChunk)
	slices.SortFunc(chunks, func(a, b *kallav1.JobEnvelope) int {
		return int(a.GetStageChunk().GetChunkIndex() - b.GetStageChunk().GetChunkIndex())
	})
	return chunks
}

func jobOf(env *kallav1.JobEnvelope) jobs.Job {
	return jobs.Job{ID: env.GetJobId(), RunID: env.GetRunId(), Type: queue.Kind(env)}
}

func TestStageRunEndToEnd(t *testing.T) {
	const n = 20000
	ctx := context.Background()
	srcURI, srcDB := stagetest.Source(t, n)
	e := newEnv(t, 3000)
	runID, planJobID := stagetest.CreateRun(t, e.store, stagetest.Recipe(t, srcURI))

	// The real worker on the stage stream; the test publishes the outbox
	// (the planner's job) once.
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		w := &queue.Worker{JS: e.js, Stream: queue.StageStream, Consumer: queue.StageConsumer, Slots: 3,
			Handler: e.runner.Handler(), Heartbeat: e.runner.Heartbeat(), PollWait: 200 * time.Millisecond, Logger: e.runner.Log}
		done <- w.Run(wctx)
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	defer stop()
	if _, err := pipeline.Dispatch(ctx, e.store, queue.NewPublisher(e.js)); err != nil {
		t.Fatal(err)
	}
	var run jobs.Run
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if run, err = e.store.GetRun(ctx, runID); err != nil {
			t.Fatal(err)
		}
		if run.ExecEnqueued || run.Status == jobs.RunFailed || time.Now().After(deadline) {
			break
		}
	}
	if !run.ExecEnqueued {
		t.Fatalf("the exec job was never enqueued: run is %s (%s), %d of %d chunks staged", run.Status, run.Error, run.ChunksStaged, run.ChunksTotal)
	}
	if run.Status != jobs.RunStaging {
		t.Errorf("run status %q, want %q", run.Status, jobs.RunStaging)
	}

	chunks := e.jobEnvelopes(t, runID, jobs.TypeStageChunk)
	if len(chunks) < 5 {
		t.Fatalf("%d chunk jobs, want several (20000 rows at 3000 a chunk)", len(chunks))
	}
	t.Logf("%d chunk jobs", len(chunks))
	var pages int64
	pool, err := pgxpool.New(ctx, srcDB)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.QueryRow(ctx, "SELECT pg_relation_size('invoices') / current_setting('block_size')::int").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The chunk jobs: deterministic ids, contiguous block ranges, nothing secret.
	slices.SortFunc(chunks, func(a, b *kallav1.JobEnvelope) int {
		return int(a.GetStageChunk().GetChunkIndex() - b.GetStageChunk().GetChunkIndex())
	})
	var next int64
	for i, c := range chunks {
		sc := c.GetStageChunk()
		if int(sc.GetChunkIndex()) != i || int(sc.GetChunkCount()) != len(chunks) || sc.GetSide() != kallav1.Side_SIDE_LEFT || sc.GetAlias() != "ledger" {
			t.Errorf("chunk job %d: %v", i, sc)
		}
		if c.GetJobId() != stage.ChunkJobID(planJobID, i) {
			t.Errorf("chunk %d has job id %s, want %s", i, c.GetJobId(), stage.ChunkJobID(planJobID, i))
		}
		if want := e.staging.URI(pipeline.PartKey(runID, kallav1.Side_SIDE_LEFT, i)); sc.GetObjectUri() != want {
			t.Errorf("chunk %d object_uri %q, want %q", i, sc.GetObjectUri(), want)
		}
		b := sc.GetBlocks()
		if b.GetStartBlock() != next {
			t.Errorf("chunk %d starts at block %d, want %d", i, b.GetStartBlock(), next)
		}
		next = b.GetEndBlock()
		if strings.Contains(fmt.Sprint(c), "postgres://") || strings.Contains(fmt.Sprint(c), "127.0.0.1") {
			t.Errorf("chunk job %d carries the source DSN: %v", i, c)
		}
	}
	if next != 0 {
		t.Errorf("the last chunk ends at block %d, want 0 (open)", next)
	}
	if len(chunks) > int(pages) {
		t.Errorf("%d chunks for %d pages", len(chunks), pages)
	}

	before := e.snapshot(t, runID)
	var keys []string
	for _, p := range before.parts {
		keys = append(keys, p.Key)
	}
	var want []string
	for i := range chunks {
		want = append(want, pipeline.PartKey(runID, kallav1.Side_SIDE_LEFT, i))
	}
	if !slices.Equal(keys, want) {
		t.Errorf("parts %v, want %v", keys, want)
	}
	var sum int64
	for _, r := range before.partRows {
		sum += r
	}
	if sum != n {
		t.Errorf("the parts hold %d rows, want %d", sum, n)
	}
	if before.stagedChunks != len(chunks) || before.chunksStaged != len(chunks) || before.chunksTotal != len(chunks) {
		t.Errorf("staged_chunks %d, run chunks %d of %d; want %d of %d", before.stagedChunks, before.chunksStaged, before.chunksTotal, len(chunks), len(chunks))
	}
	if before.rowsStaged != n {
		t.Errorf("rows_staged %d, want %d", before.rowsStaged, n)
	}
	if before.execJobs != 1 {
		t.Errorf("%d exec jobs, want 1", before.execJobs)
	}
	checkValues(t, e.staging, want)
	checkExecJob(t, e, runID)

	// Stop the worker, then deliver every job again: through the runner (a
	// duplicate message of a finished job is acknowledged without running)
	// and straight to the handler (the plan is reused, a recorded chunk is
	// not read again).
	// The source changes first: a chunk read again would stage the new
	// amounts.
	stop()
	rowsBefore := stagedRows(t, e.staging, runID)
	stagetest.Exec(t, srcDB, "UPDATE invoices SET amount = amount + 1")
	all := append(e.jobEnvelopes(t, runID, jobs.TypeStagePlan), chunks...)
	for _, c := range all {
		if err := e.runner.Handler()(ctx, queue.Job{Envelope: c, Kind: queue.Kind(c)}); err != nil {
			t.Errorf("redelivery of %s job %s: %v", queue.Kind(c), c.GetJobId(), err)
		}
		if err := e.stager.Handle(ctx, jobOf(c), c); err != nil {
			t.Errorf("running %s job %s again: %v", queue.Kind(c), c.GetJobId(), err)
		}
	}
	after := e.snapshot(t, runID)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("redelivery changed the run:\nbefore %+v\nafter  %+v", before, after)
	}
	if !slices.Equal(stagedRows(t, e.staging, runID), rowsBefore) {
		t.Errorf("redelivery read recorded chunks again: the parts' rows changed")
	}
	var notDone int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM jobs WHERE run_id = $1 AND type <> 'exec' AND status <> 'completed'", runID).Scan(&notDone); err != nil {
		t.Fatal(err)
	}
	if notDone != 0 {
		t.Errorf("%d stage jobs are not completed", notDone)
	}
}

// checkValues finds the row with id 1 and checks its numeric and date
// round-tripped exactly.
func checkValues(t *testing.T, staging objstore.Store, keys []string) {
	t.Helper()
	found := false
	for _, key := range keys {
		tbl := readPart(t, staging, key)
		schema := tbl.Schema()
		if f := schema.Field(1); f.Name != "amount" || !arrow.TypeEqual(f.Type, &arrow.Decimal128Type{Precision: 12, Scale: 2}) {
			t.Fatalf("part %s: column 1 is %s %s, want amount decimal(12, 2)", key, f.Name, f.Type)
		}
		if f := schema.Field(3); f.Name != "due" || f.Type.ID() != arrow.DATE32 {
			t.Fatalf("part %s: column 3 is %s %s, want due date32", key, f.Name, f.Type)
		}
		tr := array.NewTableReader(tbl, 0)
		for tr.Next() {
			rec := tr.RecordBatch()
			ids := rec.Column(0).(*array.Int64)
			for i := range ids.Len() {
				if ids.Value(i) != 1 {
					continue
				}
				found = true
				amount := rec.Column(1).(*array.Decimal128).Value(i)
				if got := amount.ToString(2); got != stagetest.Amount1 {
					t.Errorf("amount of id 1 is %s, want %s", got, stagetest.Amount1)
				}
				due := rec.Column(3).(*array.Date32).Value(i).ToTime().Format(time.DateOnly)
				if due != stagetest.Due1 {
					t.Errorf("due of id 1 is %s, want %s", due, stagetest.Due1)
				}
			}
		}
		tr.Release()
	}
	if !found {
		t.Error("no part holds the row with id 1")
	}
}

func checkExecJob(t *testing.T, e *env, runID string) {
	t.Helper()
	execs := e.jobEnvelopes(t, runID, jobs.TypeExec)
	if len(execs) != 1 {
		t.Fatalf("%d exec jobs, want 1", len(execs))
	}
	root := e.staging.URI("") + "/"
	sides := map[kallav1.Side]bool{}
	for _, src := range execs[0].GetExec().GetSources() {
		sides[src.GetSide()] = true
		switch src.GetSide() {
		case kallav1.Side_SIDE_LEFT:
			if want := root + pipeline.StagingPrefix(runID, kallav1.Side_SIDE_LEFT); src.GetUri() != want {
				t.Errorf("exec left uri %q, want %q", src.GetUri(), want)
			}
		case kallav1.Side_SIDE_RIGHT:
			if !strings.HasPrefix(src.GetUri(), "file:///") || !strings.HasSuffix(src.GetUri(), "bank.csv") {
				t.Errorf("exec right uri %q, want the CSV file", src.GetUri())
			}
		}
	}
	if len(execs[0].GetExec().GetSources()) != 2 || !sides[kallav1.Side_SIDE_LEFT] || !sides[kallav1.Side_SIDE_RIGHT] {
		t.Errorf("exec sources %v, want one left and one right", execs[0].GetExec().GetSources())
	}
}

func TestPoison(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, table, create, want string
	}{
		{name: "missing table", table: "public.nothing", want: "nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, _ := stagetest.State(t)
			db := testenv.Postgres(t)
			if tc.create != "" {
				stagetest.Exec(t, db, tc.create)
			}
			staging, err := objstore.Open("file://"+t.TempDir(), objstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			st := &stage.Stager{Store: store, Staging: staging, ChunkRows: 100}
			runner := &pipeline.Runner{Store: store, WorkerID: "test", Metrics: telemetry.NewMetrics(), Log: slog.Default(), Handle: st.Handle}
			runID, planJobID := stagetest.CreateRun(t, store, stagetest.Recipe(t, db+"&table="+tc.table))
			err = st.Plan(ctx, planJobID, runID, &kallav1.StagePlan{Side: kallav1.Side_SIDE_LEFT, Alias: "ledger"})
			if !errors.Is(err, queue.ErrPoison) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("plan: %v; want a poison error naming %q", err, tc.want)
			}
			t.Logf("poison: %v", err)
			// Through the runner, the first attempt fails the job and its run.
			plan, err := pipeline.NewJob(ctx, jobs.TypeStagePlan, &kallav1.JobEnvelope{Job: &kallav1.JobEnvelope_StagePlan{
				StagePlan: &kallav1.StagePlan{Side: kallav1.Side_SIDE_LEFT}}})
			if err != nil {
				t.Fatal(err)
			}
			env, err := queue.Decode(plan.Payload)
			if err != nil {
				t.Fatal(err)
			}
			env.JobId, env.RunId, env.Attempt = planJobID, runID, 1
			if err := runner.Handler()(ctx, queue.Job{Envelope: env, Kind: queue.Kind(env)}); !errors.Is(err, queue.ErrPoison) {
				t.Errorf("runner: %v, want poison (the message is terminated)", err)
			}
			run, err := store.GetRun(ctx, runID)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != jobs.RunFailed || !strings.Contains(run.Error, tc.want) || !run.BadInput {
				t.Errorf("run %s with error %q (bad input %v); want failed on its input, naming %q", run.Status, run.Error, run.BadInput, tc.want)
			}
		})
	}
}

// A chunk whose values cannot be written exactly or whose key range is bad
// is poison, and a chunk cannot reach an unreachable database is retried (not poison), with the
// password out of the message.
func TestChunkErrors(t *testing.T) {
	ctx := context.Background()
	store, _ := stagetest.State(t)
	db := testenv.Postgres(t)
	stagetest.Exec(t, db, "CREATE TABLE t (id int, amount numeric)")
	stagetest.Exec(t, db, "INSERT INTO t VALUES (1, 1.5), (2, 2.25)")
	staging, err := objstore.Open("file://"+t.TempDir(), objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st := &stage.Stager{Store: store, Staging: staging, ChunkRows: 100, TempDir: t.TempDir()}
	runID, planJobID := stagetest.CreateRun(t, store, stagetest.Recipe(t, db+"&table=public.t"))
	if err := st.Plan(ctx, planJobID, runID, &kallav1.StagePlan{Side: kallav1.Side_SIDE_LEFT}); err != nil {
		t.Fatal(err)
	}
	// A value with more decimals than the scale measured by the plan, which
	// the chunk sees once the plan's snapshot is lost.
	if n := holders(t, db, true); n != 1 {
		t.Fatalf("%d snapshot holders ended, want the plan's", n)
	}
	stagetest.Exec(t, db, "INSERT INTO t VALUES (3, 3.125)")
	chunk := &kallav1.StageChunk{Side: kallav1.Side_SIDE_LEFT, ChunkIndex: 0, ChunkCount: 1,
		Range: &kallav1.StageChunk_Blocks{Blocks: &kallav1.BlockRange{}}}
	err = st.Chunk(ctx, stage.ChunkJobID(planJobID, 0), runID, chunk)
	if !errors.Is(err, queue.ErrPoison) || !errors.Is(err, extract.ErrBadValue) {
		t.Errorf("chunk with a value past the scale: %v; want poison", err)
	}
	t.Logf("bad value: %v", err)

	// Key ranges that are empty or mix integer and text bounds.
	five, word := int64(5), "k5"
	for name, keys := range map[string]*kallav1.KeyRange{
		"empty_integer_range":  {Start: &five, End: &five},
		"empty_text_range":     {StartText: &word, EndText: &word},
		"mixed_bounds":         {Start: &five, EndText: &word},
		"rows_and_integers":    {Columns: []string{"id", "amount"}, Start: &five},
		"rows_without_columns": {StartRow: []string{"5", "1.00"}},
		"row_of_wrong_length":  {Columns: []string{"id", "amount"}, EndRow: []string{"5"}},
		"empty_row_range":      {Columns: []string{"id", "amount"}, StartRow: []string{"5", "1.00"}, EndRow: []string{"5", "1.00"}},
	} {
		chunk := &kallav1.StageChunk{Side: kallav1.Side_SIDE_LEFT, ChunkIndex: 0, ChunkCount: 1, Range: &kallav1.StageChunk_Keys{Keys: keys}}
		if err := st.Chunk(ctx, stage.ChunkJobID(planJobID, 0), runID, chunk); !errors.Is(err, queue.ErrPoison) || !strings.Contains(err.Error(), "bad key range") {
			t.Errorf("%s: %v; want poison naming the bad key range", name, err)
		}
	}

	// The same run, its source now behind a closed port with a password.
	recipe := stagetest.Recipe(t, "postgres://kalla:s3cr3t-pw@127.0.0.1:1/db?sslmode=disable&table=public.t")
	runID2, planJobID2 := stagetest.CreateRun(t, store, recipe)
	err = st.Plan(ctx, planJobID2, runID2, &kallav1.StagePlan{Side: kallav1.Side_SIDE_LEFT})
	if err == nil || errors.Is(err, queue.ErrPoison) || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("plan against a closed port: %v; want a transient error without the password", err)
	}
	t.Logf("closed port: %v", err)
}

// TestStageByKey stages views, which have no heap pages, in ranges of their
// key, integer, text, date or several columns: every row lands in exactly
// one part, a NULL key included, and a view whose key has no ordering is
// read in one chunk.
func TestStageByKey(t *testing.T) {
	ctx := context.Background()
	_, db := stagetest.Source(t, 2000)
	stagetest.Exec(t, db, `CREATE VIEW open_invoices AS SELECT * FROM invoices WHERE id % 10 <> 3`)
	stagetest.Exec(t, db, `CREATE VIEW with_null_key AS SELECT * FROM invoices UNION ALL SELECT NULL::int, 1.00, 'no id', DATE '2024-01-01', 1`)
	stagetest.Exec(t, db, `CREATE VIEW text_key AS SELECT 'k' || id AS key, amount FROM invoices`)
	// Quotes and backslashes in the bounds, which must reach SQL intact.
	stagetest.Exec(t, db, `CREATE VIEW quoted_key AS SELECT E'it''s \\' || id AS key, amount FROM invoices`)
	stagetest.Exec(t, db, `CREATE VIEW date_key AS SELECT DATE '2020-01-01' + id AS day, amount FROM invoices`)
	// A key of a text and a date, the text repeated, NULLs in either; ('c1',
	// NULL) compares as inside the first range by its text alone.
	stagetest.Exec(t, db, `CREATE VIEW composite_key AS SELECT 'c' || (id % 50) AS a, DATE '2020-01-01' + id AS b, amount FROM invoices
		UNION ALL VALUES ('c1', NULL, 1.00), (NULL, DATE '2020-01-05', 2.00), (NULL, NULL, 3.00)`)
	stagetest.Exec(t, db, `CREATE VIEW json_key AS SELECT json_build_object('id', id) AS key, amount FROM invoices`)
	// A percent sign in the key's name, which the n-tile query must carry as
	// text.
	stagetest.Exec(t, db, `CREATE VIEW percent_key AS SELECT id AS "id%s", amount FROM invoices`)
	stagetest.Exec(t, db, `CREATE VIEW repeated_key AS SELECT id % 3 AS id, amount FROM invoices`)
	e := newEnv(t, 300)
	for _, tc := range []struct {
		name, view, key string
		chunks, rows    int
		nulls           int
	}{
		{name: "integer_key", view: "open_invoices", key: "id", chunks: 6, rows: 1800},
		{name: "percent_in_the_key_name", view: "percent_key", key: "id%s", chunks: 7, rows: 2000},
		{name: "null_key_in_the_last_chunk", view: "with_null_key", key: "id", chunks: 7, rows: 2001, nulls: 1},
		{name: "text_key", view: "text_key", key: "key", chunks: 7, rows: 2000},
		{name: "text_key_with_quotes", view: "quoted_key", key: "key", chunks: 7, rows: 2000},
		{name: "date_key", view: "date_key", key: "day", chunks: 7, rows: 2000},
		{name: "composite_key", view: "composite_key", key: "a,b", chunks: 7, rows: 2003, nulls: 2},
		// json has no ordering: one chunk, not a failed plan.
		{name: "unordered_key_one_chunk", view: "json_key", key: "key", chunks: 1, rows: 2000},
		// Three key values over seven n-tiles: three ranges, no empty one.
		{name: "repeated_key", view: "repeated_key", key: "id", chunks: 3, rows: 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recipe := stagetest.Recipe(t, db+"&table=public."+tc.view)
			recipe.Sources.Left.PrimaryKey = strings.Split(tc.key, ",")
			runID, _ := stagetest.CreateRun(t, e.store, recipe)
			chunks := e.plan(t, runID)
			if len(chunks) != tc.chunks {
				t.Fatalf("%d chunk jobs, want %d", len(chunks), tc.chunks)
			}
			next := "open"
			for i, c := range chunks {
				k := c.GetStageChunk().GetKeys()
				start, end := bounds(k)
				if k == nil || start != next || (tc.chunks > 1 && k.GetColumn()+strings.Join(k.GetColumns(), ",") != tc.key) {
					t.Errorf("chunk %d: range %v, want keys of %s from %s", i, c.GetStageChunk().GetRange(), tc.key, next)
				}
				next = end
				if err := e.stager.Handle(ctx, jobOf(c), c); err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
			}
			if next != "open" {
				t.Errorf("the last chunk ends at %s, want open", next)
			}
			key := strings.Split(tc.key, ",")
			got, nulls := stagedKeys(t, e.staging, runID, len(key))
			want := viewKeys(t, db, tc.view, key)
			if nulls != tc.nulls || len(got) != tc.rows-tc.nulls || !slices.Equal(got, want) {
				t.Errorf("parts hold %d keys and %d NULL keys; want the view's %d keys and %d NULLs", len(got), nulls, len(want), tc.nulls)
			}
			if run, _ := e.store.GetRun(ctx, runID); !run.ExecEnqueued || run.RowsStaged != int64(tc.rows) {
				t.Errorf("run: exec enqueued %v, %d rows staged; want true, %d", run.ExecEnqueued, run.RowsStaged, tc.rows)
			}
		})
	}
}

// bounds shows a key range's bounds, integer, text or row; "open" when
// absent.
func bounds(k *kallav1.KeyRange) (start, end string) {
	show := func(i *int64, text *string, row []string) string {
		switch {
		case i != nil:
			return fmt.Sprint(*i)
		case text != nil:
			return fmt.Sprintf("%q", *text)
		case len(row) > 0:
			return fmt.Sprintf("%q", row)
		}
		return "open"
	}
	return show(k.Start, k.StartText, k.StartRow), show(k.End, k.EndText, k.EndRow)
}

// stagedKeys reads the key (the first width columns, joined by "|") of
// every row of the run's left parts whose first column is not NULL, sorted
// as text, and counts the rows whose first column is NULL.
func stagedKeys(t *testing.T, staging objstore.Store, runID string, width int) (keys []string, nulls int) {
	t.Helper()
	eachStagedRow(t, staging, runID, func(rec arrow.RecordBatch, i int) {
		if rec.Column(0).IsNull(i) {
			nulls++
			return
		}
		values := make([]string, width)
		for c := range values {
			values[c] = rec.Column(c).ValueStr(i)
		}
		keys = append(keys, strings.Join(values, "|"))
	})
	slices.Sort(keys)
	return keys, nulls
}

// eachStagedRow calls row for every row of every part of the run's left
// side.
func eachStagedRow(t *testing.T, staging objstore.Store, runID string, row func(rec arrow.RecordBatch, i int)) {
	t.Helper()
	parts, err := staging.List(context.Background(), pipeline.StagingPrefix(runID, kallav1.Side_SIDE_LEFT))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		tr := array.NewTableReader(readPart(t, staging, p.Key), 0)
		for tr.Next() {
			rec := tr.RecordBatch()
			for i := range int(rec.NumRows()) {
				row(rec, i)
			}
		}
		tr.Release()
	}
}

// viewKeys is stagedKeys as the database sees the view.
func viewKeys(t *testing.T, db, view string, key []string) []string {
	t.Helper()
	values := make([]string, len(key))
	for i, c := range key {
		values[i] = fmt.Sprintf("coalesce(%s::text, '(null)')", pgx.Identifier{c}.Sanitize())
	}
	return sortedStrings(t, db, fmt.Sprintf("SELECT %s FROM %s WHERE %s IS NOT NULL", strings.Join(values, " || '|' || "), view, pgx.Identifier{key[0]}.Sanitize()))
}

// sortedStrings runs query, whose rows are one text each, on db and sorts
// them.
func sortedStrings(t *testing.T, db, query string) []string {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
