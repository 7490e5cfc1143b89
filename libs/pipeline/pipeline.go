// Package pipeline ties the job records in PostgreSQL (package jobs) to the
// messages on JetStream (package queue): it publishes the outbox and runs
// each delivered job under its database claim.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/telemetry"
)

// ErrCancelled is returned by handlers that stopped because their run was
// cancelled; the message is acknowledged and the job left as cancelled.
var ErrCancelled = errors.New("run cancelled")

// Dispatch publishes pending outbox entries until none are left and returns
// how many it published. An entry whose publish fails stays leased and is
// tried again by a later Dispatch, here or in another process.
func Dispatch(ctx context.Context, store *jobs.Store, pub *queue.Publisher) (int, error) {
	total := 0
	for {
		entries, err := store.PendingOutbox(ctx, 100)
		if err != nil || len(entries) == 0 {
			return total, err
		}
		ids := make([]int64, 0, len(entries))
		for _, e := range entries {
			if _, err := pub.Publish(ctx, e.Subject, e.MsgID, e.Payload); err != nil {
				store.MarkPublished(ctx, ids)
				return total + len(ids), fmt.Errorf("publish job %s: %w", e.JobID, err)
			}
			ids = append(ids, e.ID)
		}
		if err := store.MarkPublished(ctx, ids); err != nil {
			return total, err
		}
		total += len(ids)
	}
}

// Handle does one job's work. ctx ends when the job's claim is lost or the
// process shuts down.
type Handle func(ctx context.Context, job jobs.Job, env *kallav1.JobEnvelope) error

// Runner runs delivered jobs under their claim: a message for work that is
// already done, cancelled or superseded is acknowledged without running.
type Runner struct {
	Store    *jobs.Store
	WorkerID string
	Metrics  *telemetry.Metrics
	Log      *slog.Logger
	Handle   Handle
}

// Handler is the queue handler to give a queue.Worker.
func (r *Runner) Handler() queue.Handler {
	return func(ctx context.Context, qj queue.Job) error {
		env := qj.Envelope
		log := r.Log.With("run_id", env.GetRunId(), "job_id", env.GetJobId(), "kind", qj.Kind, "attempt", env.GetAttempt())
		job, ok, err := r.Store.Claim(ctx, env.GetJobId(), r.WorkerID, int(env.GetAttempt()))
		if err != nil {
			return fmt.Errorf("claim job %s: %w", env.GetJobId(), err)
		}
		if !ok {
			log.Info("job already finished or superseded; acknowledging without running it")
			return nil
		}
		// The span joins the trace carried by the envelope, and jobs this
		// one enqueues carry it on.
		ctx, span := otel.Tracer("kalla/pipeline").Start(ctx, "job "+job.Type,
			trace.WithAttributes(attribute.String("kalla.run_id", job.RunID), attribute.String("kalla.job_id", job.ID)))
		defer span.End()
		start := time.Now()
		active := r.Metrics.ActiveJobs.WithLabelValues(job.Type)
		active.Inc()
		defer active.Dec()
		err = r.Handle(ctx, job, env)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		return r.finish(ctx, log, job, err, time.Since(start))
	}
}

func (r *Runner) finish(ctx context.Context, log *slog.Logger, job jobs.Job, err error, took time.Duration) error {
	switch {
	case err == nil:
		r.Metrics.JobsCompleted.WithLabelValues(job.Type).Inc()
		log.Info("job completed", "seconds", took.Seconds())
		if err := r.Store.Complete(context.WithoutCancel(ctx), job.ID, r.WorkerID); errors.Is(err, jobs.ErrLostClaim) {
			log.Warn("job finished after its claim was lost; the newer attempt stands")
		} else if err != nil {
			return err
		}
		return nil
	case errors.Is(err, ErrCancelled), errors.Is(err, jobs.ErrRunNotActive):
		// The run ended under the job (cancelled, timed out or failed by
		// another job), possibly before the handler could notice: nothing
		// is left to retry.
		log.Info("job stopped: its run was cancelled or has ended", "reason", err)
		return nil
	case ctx.Err() != nil:
		// Shutdown or a lost claim: hand the message back untouched.
		return err
	}
	r.Metrics.JobsFailed.WithLabelValues(job.Type).Inc()
	poison := errors.Is(err, queue.ErrPoison)
	how := jobs.Retry
	switch {
	case poison && errors.Is(err, engine.ErrBadInput):
		how = jobs.BadInput
	case poison:
		how = jobs.Final
	}
	log.Error("job failed", "error", err, "final", poison)
	// A failure that is not final is retried as a new attempt that the
	// store republishes through the outbox, so this message is done.
	if ferr := r.Store.Fail(context.WithoutCancel(ctx), job.ID, r.WorkerID, err.Error(), how); ferr != nil && !errors.Is(ferr, jobs.ErrLostClaim) {
		return ferr
	}
	if poison {
		return err
	}
	return nil
}

// Heartbeat keeps the job's claim fresh; a lost claim stops the handler.
func (r *Runner) Heartbeat() queue.Heartbeat {
	return func(ctx context.Context, env *kallav1.JobEnvelope) error {
		err := r.Store.Heartbeat(ctx, env.GetJobId(), r.WorkerID)
		if errors.Is(err, jobs.ErrLostClaim) {
			return fmt.Errorf("%w: %v", queue.ErrStop, err)
		}
		return err
	}
}

// Watch returns a check that reports ErrCancelled once the run was
// cancelled or has failed. Long handlers call it between batches.
func Watch(ctx context.Context, store *jobs.Store, runID string) func() error {
	return func() error {
		status, err := store.RunStatus(ctx, runID)
		if err != nil {
			return err
		}
		if status == jobs.RunCancelled || status == jobs.RunFailed {
			return fmt.Errorf("%w (run %s is %s)", ErrCancelled, runID, status)
		}
		return nil
	}
}
