// Package sweep is the reaper's work: it gives stale jobs back to the queue,
// fails what ran out of attempts or time, publishes what the outbox still
// holds, and refreshes the scaling signals. Every step is safe with any
// number of reapers at once: the store locks rows with SKIP LOCKED.
package sweep

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/telemetry"
)

// Sweeper runs one sweep per tick.
type Sweeper struct {
	Store     *jobs.Store
	JS        jetstream.JetStream
	Publisher *queue.Publisher
	Metrics   *telemetry.Metrics
	Log       *slog.Logger
	// KeepPublished is how long published outbox rows are kept.
	KeepPublished time.Duration
}

// Run sweeps every interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.Sweep(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep does each step once; a failing step is logged and the next one
// still runs, so a NATS outage does not stop the database sweeps.
func (s *Sweeper) Sweep(ctx context.Context) {
	now := time.Now()
	if r, err := s.Store.ReclaimStale(ctx, now); err != nil {
		s.Log.Error("reclaim stale jobs", "error", err)
	} else if r.Retried+r.Failed > 0 {
		s.Metrics.Reclaimed.Add(float64(r.Retried))
		s.Metrics.ReaperFailed.Add(float64(r.Failed))
		s.Log.Info("reclaimed stale jobs", "retried", r.Retried, "failed", r.Failed)
	}
	if ids, err := s.Store.ExpireRuns(ctx, now); err != nil {
		s.Log.Error("expire runs", "error", err)
	} else if len(ids) > 0 {
		s.Log.Warn("failed runs past their total timeout", "runs", ids)
	}
	if n, err := pipeline.Dispatch(ctx, s.Store, s.Publisher); err != nil {
		s.Log.Error("publish outbox", "error", err, "published", n)
	} else if n > 0 {
		s.Log.Info("published outbox entries", "count", n)
	}
	if _, err := s.Store.DeletePublished(ctx, now.Add(-s.KeepPublished)); err != nil {
		s.Log.Error("trim outbox", "error", err)
	}
	s.signals(ctx)
}

// signals refreshes the scaling metrics on every sweep, not only when a
// message arrives, so an idle queue reads zero and a stuck one grows.
func (s *Sweeper) signals(ctx context.Context) {
	for _, q := range []struct {
		stream, consumer, kind string
		depth                  interface{ Set(float64) }
	}{
		{queue.StageStream, queue.StageConsumer, "stage", s.Metrics.StageQueueDepth},
		{queue.ExecStream, queue.ExecConsumer, "exec", s.Metrics.ExecQueueDepth},
	} {
		pending, ackPending, oldest, err := queue.Depth(ctx, s.JS, q.stream, q.consumer)
		if err != nil {
			s.Log.Error("queue depth", "stream", q.stream, "error", err)
			continue
		}
		q.depth.Set(float64(pending + ackPending))
		s.Metrics.OldestWait.WithLabelValues(q.kind).Set(oldest.Seconds())
	}
	active, err := s.Store.ActiveJobs(ctx)
	if err != nil {
		s.Log.Error("active jobs", "error", err)
		return
	}
	for _, typ := range []string{jobs.TypeStagePlan, jobs.TypeStageChunk, jobs.TypeExec} {
		s.Metrics.ActiveJobs.WithLabelValues(typ).Set(float64(active[typ]))
	}
}
