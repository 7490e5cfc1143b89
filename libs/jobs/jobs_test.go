package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type env struct {
	store *jobs.Store
	pool  *pgxpool.Pool
	ctx   context.Context
}

func setup(t *testing.T) env {
	t.Helper()
	return setupURL(t, testenv.Postgres(t))
}

func setupURL(t *testing.T, url string) env {
	t.Helper()
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	t.Cleanup(pool.Close)
	if err := jobs.Migrate(ctx, pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return env{store: jobs.New(pool), pool: pool, ctx: ctx}
}

func envelope(t *testing.T, env *kallav1.JobEnvelope) []byte {
	t.Helper()
	b, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, payload []byte) *kallav1.JobEnvelope {
	t.Helper()
	var env kallav1.JobEnvelope
	if err := proto.Unmarshal(payload, &env); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return &env
}

func chunkJob(t *testing.T, index int) jobs.NewJob {
	t.Helper()
	return jobs.NewJob{
		ID: jobs.NewID(), Type: jobs.TypeStageChunk, Subject: "kalla.stage.chunk",
		Payload: envelope(t, &kallav1.JobEnvelope{Job: &kallav1.JobEnvelope_StageChunk{
			StageChunk: &kallav1.StageChunk{Side: kallav1.Side_SIDE_LEFT, ChunkIndex: int32(index)}}}),
	}
}

func planJob(t *testing.T, side kallav1.Side) jobs.NewJob {
	t.Helper()
	return jobs.NewJob{
		ID: jobs.NewID(), Type: jobs.TypeStagePlan, Subject: "kalla.stage.plan",
		Payload: envelope(t, &kallav1.JobEnvelope{Job: &kallav1.JobEnvelope_StagePlan{
			StagePlan: &kallav1.StagePlan{Side: side}}}),
	}
}

func execJob(t *testing.T) jobs.NewJob {
	t.Helper()
	return jobs.NewJob{
		ID: jobs.NewID(), Type: jobs.TypeExec, Subject: "kalla.exec",
		Payload: envelope(t, &kallav1.JobEnvelope{Job: &kallav1.JobEnvelope_Exec{Exec: &kallav1.Exec{}}}),
	}
}

func (e env) createRun(t *testing.T, js ...jobs.NewJob) string {
	t.Helper()
	id, err := e.store.CreateRun(e.ctx, jobs.NewRun{
		RecipeID: "ar-payments", RecipeText: `{"recipe_id": "ar-payments"}`, Recipe: []byte{1, 2},
		Deadline: time.Now().Add(2 * time.Hour), Jobs: js,
	})
	if err != nil {
		t.Fatalf("create run: %v", err)
	}
	return id
}

func (e env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (e env) job(t *testing.T, id string) (status string, attempts int) {
	t.Helper()
	err := e.pool.QueryRow(e.ctx, "SELECT status, attempts FROM jobs WHERE id = $1", id).Scan(&status, &attempts)
	if err != nil {
		t.Fatalf("job %s: %v", id, err)
	}
	return status, attempts
}

func (e env) run(t *testing.T, id string) jobs.Run {
	t.Helper()
	r, err := e.store.GetRun(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e env) claim(t *testing.T, jobID, worker string, attempt int) jobs.Job {
	t.Helper()
	j, ok, err := e.store.Claim(e.ctx, jobID, worker, attempt)
	if err != nil || !ok {
		t.Fatalf("claim %s by %s attempt %d: ok=%v err=%v", jobID, worker, attempt, ok, err)
	}
	return j
}

// later is a time at which every claimed job is stale.
func later() time.Time { return time.Now().Add(time.Hour) }

func TestMigrate(t *testing.T) {
	t.Parallel()

	t.Run("concurrent_and_repeated", func(t *testing.T) {
		t.Parallel()
		url := testenv.Postgres(t)
		pool, err := pgxpool.New(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { errs[i] = jobs.Migrate(t.Context(), pool) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
		if err := jobs.Migrate(t.Context(), pool); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
		e := env{ctx: t.Context(), pool: pool}
		files, err := filepath.Glob("migrations/*.sql")
		if err != nil || len(files) < 3 {
			t.Fatalf("migrations: %v %v", files, err)
		}
		if n := e.count(t, "SELECT count(*) FROM schema_migrations"); n != len(files) {
			t.Fatalf("schema_migrations has %d rows, want %d (one per migration)", n, len(files))
		}
		if n := e.count(t, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"); n != 7 {
			t.Fatalf("%d tables, want 7", n)
		}
	})
}

func TestCreateRun(t *testing.T) {
	t.Parallel()

	t.Run("writes_run_jobs_and_outbox", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		plan := planJob(t, kallav1.Side_SIDE_LEFT)
		runID := e.createRun(t, plan)

		r := e.run(t, runID)
		if r.Status != jobs.RunQueued || r.RecipeID != "ar-payments" || r.Deadline.IsZero() || r.RecipeText == "" {
			t.Fatalf("run = %+v", r)
		}
		if status, attempts := e.job(t, plan.ID); status != jobs.JobPending || attempts != 1 {
			t.Fatalf("job status %s attempts %d, want pending 1", status, attempts)
		}
		entries, err := e.store.PendingOutbox(e.ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].MsgID != plan.ID+"-1" || entries[0].Subject != "kalla.stage.plan" {
			t.Fatalf("outbox = %+v", entries)
		}
		got := decode(t, entries[0].Payload)
		if got.JobId != plan.ID || got.RunId != runID || got.Attempt != 1 || got.GetStagePlan() == nil {
			t.Fatalf("envelope = %v", got)
		}
	})

	t.Run("duplicate_job_id_leaves_nothing", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		a := chunkJob(t, 0)
		b := chunkJob(t, 1)
		b.ID = a.ID
		_, err := e.store.CreateRun(e.ctx, jobs.NewRun{RecipeID: "r", Jobs: []jobs.NewJob{a, b}})
		if err == nil {
			t.Fatal("create run with a duplicate job id succeeded")
		}
		for _, table := range []string{"runs", "jobs", "outbox"} {
			if n := e.count(t, "SELECT count(*) FROM "+table); n != 0 {
				t.Errorf("%s has %d rows after a failed create, want 0", table, n)
			}
		}
	})

	t.Run("notifies_run_changes", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		conn, err := e.pool.Acquire(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(e.ctx, "LISTEN "+jobs.RunsChannel); err != nil {
			t.Fatal(err)
		}
		runID := e.createRun(t)
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
		defer cancel()
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("wait for notification: %v", err)
		}
		if n.Payload != runID {
			t.Fatalf("notification payload %q, want %q", n.Payload, runID)
		}
	})
}

func TestAddJobs(t *testing.T) {
	t.Parallel()

	t.Run("idempotent_on_job_id", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		runID := e.createRun(t)
		js := []jobs.NewJob{chunkJob(t, 0), chunkJob(t, 1)}
		for range 2 {
			if err := e.store.AddJobs(e.ctx, runID, js); err != nil {
				t.Fatal(err)
			}
		}
		if n := e.count(t, "SELECT count(*) FROM jobs"); n != 2 {
			t.Fatalf("%d jobs, want 2", n)
		}
		if n := e.count(t, "SELECT count(*) FROM outbox"); n != 2 {
			t.Fatalf("%d outbox rows, want 2", n)
		}
	})

	t.Run("refused_on_ended_run", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		runID := e.createRun(t)
		if _, err := e.store.CancelRun(e.ctx, runID); err != nil {
			t.Fatal(err)
		}
		err := e.store.AddJobs(e.ctx, runID, []jobs.NewJob{chunkJob(t, 0)})
		if !errors.Is(err, jobs.ErrRunNotActive) {
			t.Fatalf("add jobs to cancelled run: %v, want ErrRunNotActive", err)
		}
	})
}

func TestOutbox(t *testing.T) {
	t.Parallel()

	t.Run("concurrent_claims_never_overlap", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		var js []jobs.NewJob
		for i := range 60 {
			js = append(js, chunkJob(t, i))
		}
		e.createRun(t, js...)

		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					entries, err := e.store.PendingOutbox(e.ctx, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(entries) == 0 {
						return
					}
					mu.Lock()
					for _, en := range entries {
						seen[en.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 60 {
			t.Fatalf("claimed %d distinct entries, want 60", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("entry %d handed out %d times", id, n)
			}
		}
	})

	t.Run("expired_lease_is_retried_until_published", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.createRun(t, chunkJob(t, 0))
		e.store.OutboxLease = 0 // a publisher that crashed: its lease is over at once
		first, err := e.store.PendingOutbox(e.ctx, 10)
		if err != nil || len(first) != 1 {
			t.Fatalf("first claim: %v %v", first, err)
		}
		again, err := e.store.PendingOutbox(e.ctx, 10)
		if err != nil || len(again) != 1 || again[0].ID != first[0].ID {
			t.Fatalf("after lease expiry: %v %v, want the same entry", again, err)
		}
		if err := e.store.MarkPublished(e.ctx, []int64{first[0].ID}); err != nil {
			t.Fatal(err)
		}
		if rest, err := e.store.PendingOutbox(e.ctx, 10); err != nil || len(rest) != 0 {
			t.Fatalf("after publish: %v %v, want none", rest, err)
		}
		if n, err := e.store.DeletePublished(e.ctx, later()); err != nil || n != 1 {
			t.Fatalf("delete published: %d %v, want 1", n, err)
		}
	})
}

func TestRecordChunk(t *testing.T) {
	t.Parallel()

	t.Run("redelivery_counts_once", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		runID := e.createRun(t, planJob(t, kallav1.Side_SIDE_LEFT))
		if _, err := e.store.SetChunksTotalAndEnqueue(e.ctx, runID, "left", 3, 300, execJob(t)); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if opened, err := e.store.RecordChunkAndEnqueue(e.ctx, runID, "left", 0, 100, 100, "staging/x/left/part-00000.parquet", execJob(t)); err != nil || opened {
				t.Fatalf("record chunk 0: opened=%v err=%v", opened, err)
			}
		}
		r := e.run(t, runID)
		if r.ChunksStaged != 1 || r.RowsStaged != 100 || r.ChunksTotal != 3 || r.ExecEnqueued {
			t.Fatalf("progress %d/%d rows %d enqueued %v, want 1/3 rows 100", r.ChunksStaged, r.ChunksTotal, r.RowsStaged, r.ExecEnqueued)
		}
	})

	t.Run("staging_until_the_gate_opens", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		runID := e.createRun(t, planJob(t, kallav1.Side_SIDE_LEFT))
		staging := func(want bool) {
			t.Helper()
			if got, err := e.store.Staging(e.ctx, runID); err != nil || got != want {
				t.Fatalf("staging = %v, %v; want %v", got, err, want)
			}
		}
		staging(true)
		if _, err := e.store.SetChunksTotalAndEnqueue(e.ctx, runID, "left", 1, 100, execJob(t)); err != nil {
			t.Fatal(err)
		}
		staging(true)
		if opened, err := e.store.RecordChunkAndEnqueue(e.ctx, runID, "left", 0, 100, 100, "part", execJob(t)); err != nil || !opened {
			t.Fatalf("record the only chunk: opened=%v err=%v", opened, err)
		}
		staging(false)
		if _, err := e.store.Staging(e.ctx, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, jobs.ErrNotFound) {
			t.Errorf("unknown run: %v, want ErrNotFound", err)
		}
	})

	t.Run("gate_opens_once_under_concurrency", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		runID := e.createRun(t, planJob(t, kallav1.Side_SIDE_LEFT))
		if _, err := e.store.SetChunksTotalAndEnqueue(e.ctx, runID, "left", 10, 100, execJob(t)); err != nil {
			t.Fatal(err)
		}
		for i := range 8 {
			if opened, err := e.store.RecordChunkAndEnqueue(e.ctx, runID, "left", i, 10, 10, fmt.Sprint(i), execJob(t)); err != nil || opened {
				t.Fatalf("chunk %d: opened=%v err=%v", i, opened, err)
			}
		}
		var mu sync.Mutex
		opens := 0
		var wg sync.WaitGroup
		for g := range 20 {
			wg.Go(func() {
				for _, i := range []int{8 + g%2, 9 - g%2} {
					opened, err := e.store.RecordChunkAndEnqueue(e.ctx, runID, "left", i, 10, 10, fmt.Sprint(i), execJob(t))
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					if opened {
						opens++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if opens != 1 {
			t.Fatalf("gate opened %d times, want 1", opens)
		}
		r := e.run(t, runID)
		if r.ChunksStaged != 10 || r.RowsStaged != 100 || !r.ExecEnqueued {
			t.Fatalf("progress %d/%d rows %d enqueued %v", r.ChunksStaged, r.ChunksTotal, r.RowsStaged, r.ExecEnqueued)
		}
		if n := e.count(t, "SELECT count(*) FROM jobs WHERE type = 'exec'"); n != 1 {
			t.Fatalf("%d exec jobs, want 1", n)
		}
		if n := e.count(t, "SELECT count(*) FROM outbox o JOIN jobs j ON j.id = o.job_id WHERE j.type = 'exec'"); n != 1 {
			t.Fatalf("%d exec outbox rows, want 1", n)
		}
	})

	t.Run("gate_opens_when_last_chunks_race", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		for round := range 5 {
			runID := e.createRun(t, planJob(t, kallav1.Side_SIDE_LEFT))
			if _, err := e.store.SetChunksTotalAndEnqueue(e.ctx, runID, "left", 20, 20, execJob(t)); err != nil {
				t.Fatal(err)
			}
			start := make(chan struct{})
			opens := make(chan bool, 20)
			exec := execJob(t)
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Go(func() {
					<-start
					opened, err := e.store.RecordChunkAndEnqueue(e.ctx, runID, "left", i, 1, 1, fmt.Sprint(i), exec)
					if err != nil {
						t.Error(err)
					}
					opens <- opened
				})
			}
			close(start)
			wg.Wait()
			close(opens)
			n := 0
			for o := range opens {
				if o {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("round %d: gate opened %d times, want 1 (chunks staged %d)", round, n, e.run(t, runID).ChunksStaged)
			}
		}
	})

	t.Run("gate_waits_for_every_stage_plan", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		runID := e.createRun(t, planJob(t, kallav1.Side_SIDE_LEFT), planJob(t, kallav1.Side_SIDE_RIGHT))
		if opened, err := e.store.SetChunksTotalAndEnqueue(e.ctx, runID, "left", 1, 5, execJob(t)); err != nil || opened {
			t.Fatalf("left total: opened=%v err=%v", opened, err)
		}
		if opened, err := e.store.RecordChunkAndEnqueue(e.ctx, runID, "left", 0, 5, 5, "k", execJob(t)); err != nil || opened {
			t.Fatalf("left chunk before right plan: opened=%v err=%v", opened, err)
		}
		opened, err := e.store.SetChunksTotalAndEnqueue(e.ctx, runID, "right", 0, 0, execJob(t))
		if err != nil || !opened {
			t.Fatalf("right total 0: opened=%v err=%v, want gate open", opened, err)
		}
		if n := e.count(t, "SELECT count(*) FROM jobs WHERE type = 'exec'"); n != 1 {
			t.Fatalf("%d exec jobs, want 1", n)
		}
	})
	t.Run("chunk_recorded", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		runID := e.createRun(t, planJob(t, kallav1.Side_SIDE_LEFT))
		if _, err := e.store.SetChunksTotalAndEnqueue(e.ctx, runID, "left", 2, 20, execJob(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.RecordChunkAndEnqueue(e.ctx, runID, "left", 1, 10, 10, "k1", execJob(t)); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			side  string
			index int
			want  bool
		}{{"left", 1, true}, {"left", 0, false}, {"right", 1, false}} {
			if got, err := e.store.ChunkRecorded(e.ctx, runID, tc.side, tc.index); err != nil || got != tc.want {
				t.Errorf("chunk %s/%d recorded: %v %v, want %v", tc.side, tc.index, got, err, tc.want)
			}
		}
	})

	t.Run("changed_source_fails_the_run", func(t *testing.T) {
		t.Parallel()
		// rows are the rows each chunk read, staged those it staged (all
		// when nil: a filter the database checks stages fewer).
		for _, tc := range []struct {
			name         string
			rows, staged []int64
			failed       bool
		}{
			{"same_count", []int64{4, 6}, nil, false},
			{"fewer_rows", []int64{4, 5}, nil, true},
			{"more_rows", []int64{4, 7}, nil, true},
			{"filtered", []int64{4, 6}, []int64{1, 0}, false},
			{"filtered_fewer_rows", []int64{4, 5}, []int64{4, 5}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := setup(t)
				runID := e.createRun(t, planJob(t, kallav1.Side_SIDE_LEFT))
				if _, err := e.store.SetChunksTotalAndEnqueue(e.ctx, runID, "left", 2, 10, execJob(t)); err != nil {
					t.Fatal(err)
				}
				var opened bool
				staged := tc.staged
				if staged == nil {
					staged = tc.rows
				}
				for i, rows := range tc.rows {
					var err error
					if opened, err = e.store.RecordChunkAndEnqueue(e.ctx, runID, "left", i, staged[i], rows, fmt.Sprint(i), execJob(t)); err != nil {
						t.Fatal(err)
					}
				}
				r := e.run(t, runID)
				if tc.failed {
					want := fmt.Sprintf("the left source changed while it was staged: its stage plan counted 10 rows, its chunks hold %d; run it again", tc.rows[0]+tc.rows[1])
					if opened || r.ExecEnqueued || r.Status != jobs.RunFailed || r.Error != want {
						t.Fatalf("opened=%v enqueued=%v status %s error %q, want failed with %q", opened, r.ExecEnqueued, r.Status, r.Error, want)
					}
					return
				}
				if !opened || !r.ExecEnqueued || r.Status == jobs.RunFailed {
					t.Fatalf("opened=%v enqueued=%v status %s (%s), want the gate open", opened, r.ExecEnqueued, r.Status, r.Error)
				}
				read, err := e.store.RowsRead(e.ctx, runID)
				if err != nil || !maps.Equal(read, map[string]int64{"left": 10}) || r.RowsStaged != staged[0]+staged[1] {
					t.Fatalf("rows read %v (%v), %d staged; want 10 read and %d staged", read, err, r.RowsStaged, staged[0]+staged[1])
				}
			})
		}
	})
}

func TestClaim(t *testing.T) {
	t.Parallel()

	t.Run("refuses_finished_jobs", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		job := chunkJob(t, 0)
		e.createRun(t, job)
		e.claim(t, job.ID, "w1", 1)
		if err := e.store.Complete(e.ctx, job.ID, "w1"); err != nil {
			t.Fatal(err)
		}
		if err := e.store.Complete(e.ctx, job.ID, "w1"); err != nil {
			t.Fatalf("complete twice: %v", err)
		}
		if _, ok, err := e.store.Claim(e.ctx, job.ID, "w2", 1); ok || err != nil {
			t.Fatalf("claim of a completed job: ok=%v err=%v, want false nil", ok, err)
		}
	})

	t.Run("refuses_jobs_of_ended_runs", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		job := chunkJob(t, 0)
		runID := e.createRun(t, job)
		if _, err := e.store.CancelRun(e.ctx, runID); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := e.store.Claim(e.ctx, job.ID, "w1", 1); ok || err != nil {
			t.Fatalf("claim in a cancelled run: ok=%v err=%v, want false nil", ok, err)
		}
	})

	t.Run("redelivery_takes_over_and_old_attempt_is_refused", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		job := chunkJob(t, 0)
		e.createRun(t, job)
		e.claim(t, job.ID, "w1", 1)
		j := e.claim(t, job.ID, "w2", 1) // same message redelivered to w2
		if j.ClaimedBy != "w2" || j.Attempts != 1 {
			t.Fatalf("job = %+v", j)
		}
		if err := e.store.Heartbeat(e.ctx, job.ID, "w1"); !errors.Is(err, jobs.ErrLostClaim) {
			t.Fatalf("heartbeat by w1: %v, want ErrLostClaim", err)
		}
		if _, err := e.store.ReclaimStale(e.ctx, later()); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := e.store.Claim(e.ctx, job.ID, "w3", 1); ok || err != nil {
			t.Fatalf("claim with attempt 1 after retry: ok=%v err=%v, want false nil", ok, err)
		}
		if j := e.claim(t, job.ID, "w3", 2); j.Attempts != 2 {
			t.Fatalf("attempts %d, want 2", j.Attempts)
		}
	})

	t.Run("unknown_job", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		if _, _, err := e.store.Claim(e.ctx, jobs.NewID(), "w1", 1); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("claim unknown job: %v, want ErrNotFound", err)
		}
	})
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()

	t.Run("stale_worker_loses_claim_after_reclaim", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		job := chunkJob(t, 0)
		e.createRun(t, job)
		e.claim(t, job.ID, "w1", 1)
		if err := e.store.Heartbeat(e.ctx, job.ID, "w1"); err != nil {
			t.Fatal(err)
		}
		if got, err := e.store.ReclaimStale(e.ctx, later()); err != nil || got.Retried != 1 {
			t.Fatalf("reclaim: %+v %v", got, err)
		}
		if err := e.store.Heartbeat(e.ctx, job.ID, "w1"); !errors.Is(err, jobs.ErrLostClaim) {
			t.Fatalf("heartbeat after reclaim: %v, want ErrLostClaim", err)
		}
		e.claim(t, job.ID, "w2", 2)
		if err := e.store.Heartbeat(e.ctx, job.ID, "w1"); !errors.Is(err, jobs.ErrLostClaim) {
			t.Fatalf("heartbeat after reassignment: %v, want ErrLostClaim", err)
		}
		if err := e.store.Complete(e.ctx, job.ID, "w1"); !errors.Is(err, jobs.ErrLostClaim) {
			t.Fatalf("complete by the late worker: %v, want ErrLostClaim", err)
		}
		if err := e.store.Fail(e.ctx, job.ID, "w1", "late", jobs.Retry); !errors.Is(err, jobs.ErrLostClaim) {
			t.Fatalf("fail by the late worker: %v, want ErrLostClaim", err)
		}
		if err := e.store.Heartbeat(e.ctx, job.ID, "w2"); err != nil {
			t.Fatalf("heartbeat by the new worker: %v", err)
		}
	})
}

func TestReclaimStale(t *testing.T) {
	t.Parallel()

	t.Run("republishes_with_next_attempt", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		job := chunkJob(t, 3)
		runID := e.createRun(t, job)
		e.claim(t, job.ID, "w1", 1)
		if r, err := e.store.ReclaimStale(e.ctx, time.Now()); err != nil || r != (jobs.Reclaimed{}) {
			t.Fatalf("reclaim now: %+v %v, want nothing stale yet", r, err)
		}
		if r, err := e.store.ReclaimStale(e.ctx, later()); err != nil || r != (jobs.Reclaimed{Retried: 1}) {
			t.Fatalf("reclaim later: %+v %v, want 1 retried", r, err)
		}
		if status, attempts := e.job(t, job.ID); status != jobs.JobPending || attempts != 2 {
			t.Fatalf("job %s attempt %d, want pending 2", status, attempts)
		}
		var payload []byte
		err := e.pool.QueryRow(e.ctx, "SELECT payload FROM outbox WHERE msg_id = $1", job.ID+"-2").Scan(&payload)
		if err != nil {
			t.Fatalf("outbox row of attempt 2: %v", err)
		}
		env := decode(t, payload)
		if env.Attempt != 2 || env.JobId != job.ID || env.RunId != runID || env.GetStageChunk().GetChunkIndex() != 3 {
			t.Fatalf("envelope = %v", env)
		}
	})

	t.Run("fails_job_and_run_after_max_attempts", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		job := chunkJob(t, 0)
		job.MaxAttempts = 2
		other := chunkJob(t, 1)
		runID := e.createRun(t, job, other)
		e.claim(t, job.ID, "w1", 1)
		if got, err := e.store.ReclaimStale(e.ctx, later()); err != nil || got != (jobs.Reclaimed{Retried: 1}) {
			t.Fatalf("first reclaim: %+v %v", got, err)
		}
		e.claim(t, job.ID, "w2", 2)
		if got, err := e.store.ReclaimStale(e.ctx, later()); err != nil || got != (jobs.Reclaimed{Failed: 1}) {
			t.Fatalf("second reclaim: %+v %v", got, err)
		}
		if status, _ := e.job(t, job.ID); status != jobs.JobFailed {
			t.Fatalf("job %s, want failed", status)
		}
		if status, _ := e.job(t, other.ID); status != jobs.JobCancelled {
			t.Fatalf("other job %s, want cancelled", status)
		}
		r := e.run(t, runID)
		if r.Status != jobs.RunFailed || !strings.Contains(r.Error, "stage_chunk job") ||
			!strings.Contains(r.Error, "after 2 attempts") || r.FinishedAt.IsZero() {
			t.Fatalf("run %s error %q", r.Status, r.Error)
		}
	})

	t.Run("concurrent_reapers_reclaim_each_job_once", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		var js []jobs.NewJob
		for i := range 30 {
			js = append(js, chunkJob(t, i))
		}
		e.createRun(t, js...)
		for _, j := range js {
			e.claim(t, j.ID, "w1", 1)
		}
		results := make([]jobs.Reclaimed, 3)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				var err error
				if results[i], err = e.store.ReclaimStale(e.ctx, later()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		total := 0
		for _, r := range results {
			total += r.Retried + r.Failed
		}
		if total != 30 {
			t.Fatalf("reclaimed %d jobs in total (%+v), want 30", total, results)
		}
		if n := e.count(t, "SELECT count(*) FROM outbox WHERE msg_id LIKE '%-2'"); n != 30 {
			t.Fatalf("%d attempt-2 outbox rows, want 30", n)
		}
		if n := e.count(t, "SELECT count(*) FROM jobs WHERE attempts = 2 AND status = 'pending'"); n != 30 {
			t.Fatalf("%d jobs at attempt 2, want 30", n)
		}
	})
}

func TestFail(t *testing.T) {
	t.Parallel()

	t.Run("not_final_republishes_after_delay", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		job := chunkJob(t, 0)
		runID := e.createRun(t, job)
		e.claim(t, job.ID, "w1", 1)
		if err := e.store.Fail(e.ctx, job.ID, "w1", "connection reset", jobs.Retry); err != nil {
			t.Fatal(err)
		}
		if status, attempts := e.job(t, job.ID); status != jobs.JobPending || attempts != 2 {
			t.Fatalf("job %s attempt %d, want pending 2", status, attempts)
		}
		if n := e.count(t, "SELECT count(*) FROM outbox WHERE msg_id = $1 AND claimed_until > now()", job.ID+"-2"); n != 1 {
			t.Fatalf("%d delayed attempt-2 outbox rows, want 1", n)
		}
		if r := e.run(t, runID); r.Status != jobs.RunQueued {
			t.Fatalf("run %s, want queued", r.Status)
		}
	})

	for name, tt := range map[string]struct {
		how      jobs.Failure
		badInput bool
	}{"final_fails_run": {jobs.Final, false}, "bad_input_fails_run_and_says_so": {jobs.BadInput, true}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			job := execJob(t)
			runID := e.createRun(t, job)
			e.claim(t, job.ID, "w1", 1)
			if err := e.store.Fail(e.ctx, job.ID, "w1", "column amount missing", tt.how); err != nil {
				t.Fatal(err)
			}
			r := e.run(t, runID)
			if r.Status != jobs.RunFailed || !strings.Contains(r.Error, "column amount missing") || r.BadInput != tt.badInput {
				t.Fatalf("run %s error %q bad input %v, want failed with the reason, bad input %v", r.Status, r.Error, r.BadInput, tt.badInput)
			}
		})
	}
}

func TestExpireRuns(t *testing.T) {
	t.Parallel()

	t.Run("fails_run_and_cancels_jobs", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		a, b := chunkJob(t, 0), chunkJob(t, 1)
		runID := e.createRun(t, a, b)
		e.claim(t, a.ID, "w1", 1)
		if ids, err := e.store.ExpireRuns(e.ctx, time.Now()); err != nil || len(ids) != 0 {
			t.Fatalf("expire now: %v %v, want none", ids, err)
		}
		ids, err := e.store.ExpireRuns(e.ctx, time.Now().Add(3*time.Hour))
		if err != nil || !slices.Equal(ids, []string{runID}) {
			t.Fatalf("expire later: %v %v, want [%s]", ids, err, runID)
		}
		r := e.run(t, runID)
		if r.Status != jobs.RunFailed || !strings.Contains(r.Error, "run exceeded its total timeout of 2h0m0s") {
			t.Fatalf("run %s error %q", r.Status, r.Error)
		}
		for _, j := range []jobs.NewJob{a, b} {
			if status, _ := e.job(t, j.ID); status != jobs.JobCancelled {
				t.Fatalf("job %s, want cancelled", status)
			}
		}
		if err := e.store.Heartbeat(e.ctx, a.ID, "w1"); !errors.Is(err, jobs.ErrLostClaim) {
			t.Fatalf("heartbeat in an expired run: %v, want ErrLostClaim", err)
		}
	})
}

func TestCancelRun(t *testing.T) {
	t.Parallel()

	t.Run("cancels_run_and_jobs", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		job := chunkJob(t, 0)
		runID := e.createRun(t, job)
		r, err := e.store.CancelRun(e.ctx, runID)
		if err != nil || r.Status != jobs.RunCancelled || r.FinishedAt.IsZero() {
			t.Fatalf("cancel: %+v %v", r, err)
		}
		if status, _ := e.job(t, job.ID); status != jobs.JobCancelled {
			t.Fatalf("job %s, want cancelled", status)
		}
	})

	t.Run("no_op_on_finished_run", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		runID := e.createRun(t)
		if err := e.store.CompleteRun(e.ctx, runID, []byte(`{"match_groups": 3}`), []byte(`{"matched_uri": "s3://b/m"}`)); err != nil {
			t.Fatal(err)
		}
		r, err := e.store.CancelRun(e.ctx, runID)
		if err != nil || r.Status != jobs.RunCompleted || !strings.Contains(string(r.Summary), "match_groups") {
			t.Fatalf("cancel completed run: %s %s %v", r.Status, r.Summary, err)
		}
		if err := e.store.SetStatus(e.ctx, runID, jobs.RunExecuting, "executing"); !errors.Is(err, jobs.ErrRunNotActive) {
			t.Fatalf("set status of a completed run: %v, want ErrRunNotActive", err)
		}
	})

	t.Run("unknown_run", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		for _, id := range []string{jobs.NewID(), "not-a-uuid"} {
			if _, err := e.store.CancelRun(e.ctx, id); !errors.Is(err, jobs.ErrNotFound) {
				t.Errorf("cancel %q: %v, want ErrNotFound", id, err)
			}
		}
	})
}

func TestListRuns(t *testing.T) {
	t.Parallel()

	t.Run("pages_newest_first_with_status_filter", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		var ids []string
		for i := range 7 {
			id := e.createRun(t)
			ids = append(ids, id)
			if i%3 == 0 {
				if err := e.store.SetStatus(e.ctx, id, jobs.RunStaging, "staging"); err != nil {
					t.Fatal(err)
				}
			}
		}
		slices.Reverse(ids)

		var got []string
		token := ""
		for page := 0; ; page++ {
			runs, next, err := e.store.ListRuns(e.ctx, "", 3, token)
			if err != nil {
				t.Fatal(err)
			}
			if want := []int{3, 3, 1}[page]; len(runs) != want {
				t.Fatalf("page %d has %d runs, want %d", page, len(runs), want)
			}
			for _, r := range runs {
				got = append(got, r.ID)
			}
			if next == "" {
				break
			}
			token = next
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("listed %v, want %v", got, ids)
		}

		staging, next, err := e.store.ListRuns(e.ctx, jobs.RunStaging, 10, "")
		if err != nil || next != "" || len(staging) != 3 {
			t.Fatalf("staging runs: %d next %q err %v, want 3", len(staging), next, err)
		}
		if _, _, err := e.store.ListRuns(e.ctx, "", 3, "garbage!"); err == nil {
			t.Fatal("a bad page token was accepted")
		}
	})
}

func TestRecipes(t *testing.T) {
	t.Parallel()

	t.Run("save_get_list", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		for _, id := range []string{"c", "a", "b"} {
			if err := e.store.SaveRecipe(e.ctx, id, "text "+id, []byte(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.store.SaveRecipe(e.ctx, "a", "text a2", []byte("a2")); err != nil {
			t.Fatal(err)
		}
		r, err := e.store.GetRecipe(e.ctx, "a")
		if err != nil || r.Text != "text a2" || string(r.Recipe) != "a2" {
			t.Fatalf("get: %+v %v", r, err)
		}
		if _, err := e.store.GetRecipe(e.ctx, "zzz"); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		page, next, err := e.store.ListRecipes(e.ctx, 2, "")
		if err != nil || len(page) != 2 || page[0].ID != "a" || next == "" {
			t.Fatalf("page 1: %v %q %v", page, next, err)
		}
		page, next, err = e.store.ListRecipes(e.ctx, 2, next)
		if err != nil || len(page) != 1 || page[0].ID != "c" || next != "" {
			t.Fatalf("page 2: %v %q %v", page, next, err)
		}
	})
}

func TestScalingSignals(t *testing.T) {
	t.Parallel()

	t.Run("active_jobs", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		a, b, x := chunkJob(t, 0), chunkJob(t, 1), execJob(t)
		e.createRun(t, a, b, x)
		e.claim(t, a.ID, "w1", 1)
		e.claim(t, x.ID, "w2", 1)
		active, err := e.store.ActiveJobs(e.ctx)
		if err != nil || active[jobs.TypeStageChunk] != 1 || active[jobs.TypeExec] != 1 {
			t.Fatalf("active jobs: %v %v", active, err)
		}
	})
}

func TestRestart(t *testing.T) {
	t.Parallel()

	t.Run("pool_reconnects_after_postgres_restart", func(t *testing.T) {
		t.Parallel()
		pg := testenv.StartPostgres(t)
		url, err := pg.CreateDatabase("kalla")
		if err != nil {
			t.Fatal(err)
		}
		e := setupURL(t, url)
		runID := e.createRun(t, chunkJob(t, 0))

		if err := pg.Stop(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
		defer cancel()
		if _, err := e.store.GetRun(ctx, runID); err == nil {
			t.Fatal("get run succeeded while PostgreSQL was stopped")
		}
		if err := pg.Start(); err != nil {
			t.Fatal(err)
		}

		if r, err := e.store.GetRun(e.ctx, runID); err != nil || r.ID != runID {
			t.Fatalf("get run after restart: %v", err)
		}
		job := chunkJob(t, 1)
		if err := e.store.AddJobs(e.ctx, runID, []jobs.NewJob{job}); err != nil {
			t.Fatalf("add jobs after restart: %v", err)
		}
		e.claim(t, job.ID, "w1", 1)
	})
}
