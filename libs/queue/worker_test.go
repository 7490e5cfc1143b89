package queue_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/queue/queuetest"
)

func TestWorker(t *testing.T) {
	t.Parallel()

	t.Run("success_acks", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var rec recorder
		w := stageWorker(t, b.js, func(_ context.Context, job queue.Job) error {
			rec.add(job)
			return nil
		})
		start(t, w)
		publish(t, b, "job-1")
		waitFor(t, 10*time.Second, "stream to empty", func() bool { return streamMsgs(t, b, queue.StageStream) == 0 && rec.count() == 1 })
		job, _ := rec.get(0)
		if job.Envelope.GetJobId() != "job-1" || job.Kind != queue.KindStageChunk || job.Deliveries != 1 || job.Age <= 0 {
			t.Fatalf("handled %+v", job)
		}
		waitFor(t, 5*time.Second, "completed count", func() bool { return w.Stats().Count(queue.KindStageChunk, queue.Completed) == 1 })
	})

	t.Run("failure_naks_and_redelivers", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var rec recorder
		w := stageWorker(t, b.js, func(_ context.Context, job queue.Job) error {
			if rec.add(job) == 1 {
				return errors.New("database unavailable")
			}
			return nil
		})
		start(t, w)
		publish(t, b, "job-1")
		waitFor(t, 10*time.Second, "second delivery and empty stream", func() bool {
			return rec.count() == 2 && streamMsgs(t, b, queue.StageStream) == 0
		})
		first, t1 := rec.get(0)
		second, t2 := rec.get(1)
		if first.Deliveries != 1 || second.Deliveries != 2 {
			t.Fatalf("deliveries %d, %d; want 1, 2", first.Deliveries, second.Deliveries)
		}
		// A nak with the retry delay, not an AckWait expiry, brought it back.
		if gap := t2.Sub(t1); gap >= ackWait {
			t.Fatalf("redelivered after %v, want well under AckWait %v (nak)", gap, ackWait)
		}
		holds(t, 300*time.Millisecond, "two deliveries", func() bool { return rec.count() == 2 })
		if n := w.Stats().Count(queue.KindStageChunk, queue.Retried); n != 1 {
			t.Fatalf("retried count %d, want 1", n)
		}
	})

	t.Run("poison_terms", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var rec recorder
		w := stageWorker(t, b.js, func(_ context.Context, job queue.Job) error {
			rec.add(job)
			return queue.Poison(errors.New("recipe references a missing column"))
		})
		start(t, w)
		publish(t, b, "job-1")
		// Garbage on the subject is poison too; the handler never sees it.
		if _, err := queue.NewPublisher(b.js).Publish(b.ctx, queue.StageSubject, "junk", []byte("\xff\x00junk")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "stream to empty", func() bool { return streamMsgs(t, b, queue.StageStream) == 0 })
		holds(t, ackWait+500*time.Millisecond, "exactly one delivery", func() bool { return rec.count() == 1 })
		if n := w.Stats().Count(queue.KindUnknown, queue.Poisoned); n != 1 {
			t.Fatalf("undecodable poisoned count %d, want 1", n)
		}
	})

	t.Run("long_job_in_progress", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var rec recorder
		var beats atomic.Int32
		w := stageWorker(t, b.js, func(ctx context.Context, job queue.Job) error {
			rec.add(job)
			select {
			case <-time.After(3 * ackWait):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		w.Slots = 2 // a free slot would take a redelivery, were there one
		w.Heartbeat = func(context.Context, *kallav1.JobEnvelope) error {
			beats.Add(1)
			return nil
		}
		start(t, w)
		publish(t, b, "job-1")
		waitFor(t, 5*ackWait, "job to finish", func() bool { return streamMsgs(t, b, queue.StageStream) == 0 && rec.count() >= 1 })
		if job, _ := rec.get(0); rec.count() != 1 || job.Deliveries != 1 {
			t.Fatalf("handled %d times, first delivery count %d; want once, 1", rec.count(), job.Deliveries)
		}
		if n := beats.Load(); n < 4 {
			t.Fatalf("heartbeat called %d times in 3 AckWaits, want >= 4", n)
		}
	})

	t.Run("heartbeat_stop_cancels_job", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var rec recorder
		cause := make(chan error, 1)
		w := stageWorker(t, b.js, func(ctx context.Context, job queue.Job) error {
			rec.add(job)
			<-ctx.Done()
			cause <- context.Cause(ctx)
			return ctx.Err()
		})
		w.Heartbeat = func(context.Context, *kallav1.JobEnvelope) error {
			return fmt.Errorf("job claimed by worker-b: %w", queue.ErrStop)
		}
		start(t, w)
		publish(t, b, "job-1")
		select {
		case err := <-cause:
			if !errors.Is(err, queue.ErrStop) {
				t.Fatalf("handler cancelled with %v, want ErrStop", err)
			}
		case <-time.After(3 * ackWait):
			t.Fatal("handler not cancelled")
		}
		waitFor(t, 5*time.Second, "stream to empty (termed)", func() bool { return streamMsgs(t, b, queue.StageStream) == 0 })
		holds(t, 300*time.Millisecond, "one delivery", func() bool { return rec.count() == 1 })
	})

	t.Run("dead_worker_redelivers", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		deadConn, deadJS := queuetest.Connect(t, b.srv.URL())
		got := make(chan time.Time, 1)
		dead := stageWorker(t, deadJS, func(ctx context.Context, _ queue.Job) error {
			got <- time.Now()
			<-ctx.Done()
			return ctx.Err()
		})
		start(t, dead)
		publish(t, b, "job-1")
		var took time.Time
		select {
		case took = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("first worker got no message")
		}
		deadConn.Close() // a crash: no ack, no nak, no in-progress

		var rec recorder
		start(t, stageWorker(t, b.js, func(_ context.Context, job queue.Job) error {
			rec.add(job)
			return nil
		}))
		waitFor(t, 3*ackWait, "redelivery to the live worker", func() bool { return rec.count() == 1 })
		job, at := rec.get(0)
		if job.Deliveries != 2 {
			t.Fatalf("delivery count %d, want 2", job.Deliveries)
		}
		if gap := at.Sub(took); gap < ackWait-200*time.Millisecond {
			t.Fatalf("redelivered after %v, before AckWait %v: the dead worker ended the message", gap, ackWait)
		}
	})

	t.Run("shutdown_hands_back", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		started := make(chan struct{}, 1)
		first := stageWorker(t, b.js, func(ctx context.Context, _ queue.Job) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		})
		first.ShutdownDelay = 10 * time.Millisecond
		stop := start(t, first)
		publish(t, b, "job-1")
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("first worker got no message")
		}
		stopped := time.Now()
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}

		var rec recorder
		start(t, stageWorker(t, b.js, func(_ context.Context, job queue.Job) error {
			rec.add(job)
			return nil
		}))
		waitFor(t, 3*ackWait, "second worker to take the job", func() bool { return rec.count() == 1 })
		if _, at := rec.get(0); at.Sub(stopped) >= ackWait {
			t.Fatalf("taken over after %v: not nak'd on shutdown", at.Sub(stopped))
		}
		if n := first.Stats().Count(queue.KindStageChunk, queue.Aborted); n != 1 {
			t.Fatalf("aborted count %d, want 1", n)
		}
	})

	t.Run("slots_limit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var mu sync.Mutex
		var running, peak, done int
		w := stageWorker(t, b.js, func(context.Context, queue.Job) error {
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			time.Sleep(300 * time.Millisecond)
			mu.Lock()
			running--
			done++
			mu.Unlock()
			return nil
		})
		w.Slots = 2
		publish(t, b, "job-1", "job-2", "job-3", "job-4", "job-5")
		start(t, w)
		waitFor(t, 10*time.Second, "five jobs", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return done == 5
		})
		if peak != 2 {
			t.Fatalf("peak concurrency %d, want 2", peak)
		}
		waitFor(t, 5*time.Second, "stats", func() bool {
			return w.Stats().Count(queue.KindStageChunk, queue.Completed) == 5 && w.Stats().Active() == 0
		})
	})

	t.Run("nats_restart", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var rec recorder
		start(t, stageWorker(t, b.js, func(_ context.Context, job queue.Job) error {
			rec.add(job)
			return nil
		}))
		publish(t, b, "before")
		waitFor(t, 10*time.Second, "job before restart", func() bool { return rec.count() == 1 })

		if err := b.srv.Restart(); err != nil {
			t.Fatal(err)
		}
		p := queue.NewPublisher(b.js)
		waitFor(t, 15*time.Second, "publish after restart", func() bool {
			ctx, cancel := context.WithTimeout(b.ctx, time.Second)
			defer cancel()
			_, err := p.PublishJob(ctx, chunkJob("after"))
			return err == nil
		})
		waitFor(t, 15*time.Second, "job after restart", func() bool { return rec.count() == 2 })
		if job, _ := rec.get(1); job.Envelope.GetJobId() != "after" {
			t.Fatalf("second job %q, want after", job.Envelope.GetJobId())
		}
		waitFor(t, 5*time.Second, "stream to empty", func() bool { return streamMsgs(t, b, queue.StageStream) == 0 })
	})
}
