package pipeline_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/queue/queuetest"
	"github.com/kallahq/kalla/libs/telemetry"
	"github.com/kallahq/kalla/libs/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type bundle struct {
	ctx   context.Context
	store *jobs.Store
	js    jetstream.JetStream
	pub   *queue.Publisher
	spans *tracetest.SpanRecorder
}

func setup(t *testing.T) bundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	pool, err := pgxpool.New(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := jobs.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	js := queuetest.JetStream(t, queue.Config{AckWait: 2 * time.Second})
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	return bundle{ctx: ctx, store: jobs.New(pool), js: js, pub: queue.NewPublisher(js), spans: rec}
}

// runJobs runs an exec worker with handle until the run ends.
func (b bundle) runJobs(t *testing.T, runID string, handle pipeline.Handle) jobs.Run {
	t.Helper()
	return b.runJobsWith(t, runID, telemetry.NewMetrics(), handle)
}

func (b bundle) runJobsWith(t *testing.T, runID string, metrics *telemetry.Metrics, handle pipeline.Handle) jobs.Run {
	t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	runner := &pipeline.Runner{Store: b.store, WorkerID: "w1", Metrics: metrics, Log: slog.Default(), Handle: handle}
	w := &queue.Worker{JS: b.js, Stream: queue.ExecStream, Consumer: queue.ExecConsumer, Slots: 1, Handler: runner.Handler(), Heartbeat: runner.Heartbeat(), PollWait: 200 * time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for {
		if _, err := pipeline.Dispatch(b.ctx, b.store, b.pub); err != nil {
			t.Fatal(err)
		}
		r, err := b.store.GetRun(b.ctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == jobs.RunCompleted || r.Status == jobs.RunFailed || r.Status == jobs.RunCancelled {
			cancel()
			<-done
			return r
		}
		select {
		case <-b.ctx.Done():
			t.Fatalf("run %s still %s", runID, r.Status)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (b bundle) newRun(t *testing.T, ctx context.Context) string {
	t.Helper()
	job, err := pipeline.NewJob(ctx, jobs.TypeExec, &kallav1.JobEnvelope{Job: &kallav1.JobEnvelope_Exec{Exec: &kallav1.Exec{}}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := b.store.CreateRun(b.ctx, jobs.NewRun{RecipeID: "r", RecipeText: "{}", Recipe: []byte{}, Jobs: []jobs.NewJob{job}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRunner(t *testing.T) {
	t.Run("trace_follows_the_job", func(t *testing.T) {
		b := setup(t)
		ctx, parent := otel.Tracer("test").Start(b.ctx, "create run")
		runID := b.newRun(t, ctx)
		parent.End()
		var seen trace.SpanContext
		run := b.runJobs(t, runID, func(ctx context.Context, _ jobs.Job, _ *kallav1.JobEnvelope) error {
			seen = trace.SpanContextFromContext(ctx)
			return b.store.CompleteRun(ctx, runID, []byte(`{}`), []byte(`{}`))
		})
		if run.Status != jobs.RunCompleted {
			t.Fatalf("run %s", run.Status)
		}
		if seen.TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("handler trace %s, want the creator's %s", seen.TraceID(), parent.SpanContext().TraceID())
		}
	})
	t.Run("failure_retries_then_fails_the_run", func(t *testing.T) {
		b := setup(t)
		b.store.RetryDelay = 10 * time.Millisecond
		runID := b.newRun(t, b.ctx)
		var calls atomic.Int32
		run := b.runJobs(t, runID, func(context.Context, jobs.Job, *kallav1.JobEnvelope) error {
			calls.Add(1)
			return errors.New("disk full")
		})
		if run.Status != jobs.RunFailed || calls.Load() != 2 {
			t.Errorf("run %s after %d calls (%s); want failed after the exec job's 2 attempts", run.Status, calls.Load(), run.Error)
		}
	})
	t.Run("run_ended_under_the_job_is_not_a_failure", func(t *testing.T) {
		b := setup(t)
		runID := b.newRun(t, b.ctx)
		metrics := telemetry.NewMetrics()
		var calls atomic.Int32
		run := b.runJobsWith(t, runID, metrics, func(ctx context.Context, _ jobs.Job, _ *kallav1.JobEnvelope) error {
			calls.Add(1)
			// Cancelled between the claim and the handler's first write,
			// which the handler's own watch has not seen yet.
			if _, err := b.store.CancelRun(ctx, runID); err != nil {
				return err
			}
			return b.store.SetStatus(ctx, runID, jobs.RunExecuting, "executing")
		})
		failed := testutil.ToFloat64(metrics.JobsFailed.WithLabelValues(jobs.TypeExec))
		if run.Status != jobs.RunCancelled || calls.Load() != 1 || failed != 0 {
			t.Errorf("run %s after %d calls, %v failed jobs; want cancelled, one call, no failure", run.Status, calls.Load(), failed)
		}
	})
	// Poison fails at once; poison marked as the input's fault says so in
	// the run too.
	for name, badInput := range map[string]bool{"poison_fails_at_once": false, "bad_input_fails_at_once_and_says_so": true} {
		t.Run(name, func(t *testing.T) {
			b := setup(t)
			runID := b.newRun(t, b.ctx)
			var calls atomic.Int32
			run := b.runJobs(t, runID, func(context.Context, jobs.Job, *kallav1.JobEnvelope) error {
				calls.Add(1)
				err := errors.New("column amount missing")
				if badInput {
					err = engine.MarkBadInput(err)
				}
				return queue.Poison(err)
			})
			if run.Status != jobs.RunFailed || calls.Load() != 1 || run.BadInput != badInput || !strings.HasSuffix(run.Error, "column amount missing") {
				t.Errorf("run %s (bad input %v, error %q) after %d calls; want failed after one, bad input %v", run.Status, run.BadInput, run.Error, calls.Load(), badInput)
			}
		})
	}
}
