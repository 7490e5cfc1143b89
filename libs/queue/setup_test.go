package queue_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/queue/queuetest"
	"github.com/kallahq/kalla/libs/testenv"
)

func TestSetup(t *testing.T) {
	t.Parallel()

	t.Run("setup_is_idempotent", func(t *testing.T) {
		t.Parallel()
		srv := testenv.NATS(t)
		cfg := queue.Config{AckWait: ackWait}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			_, js := queuetest.Connect(t, srv.URL())
			wg.Go(func() { errs[i] = queue.Setup(t.Context(), js, cfg) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent Setup: %v", err)
		}
		_, js := queuetest.Connect(t, srv.URL())
		if err := queue.Setup(t.Context(), js, cfg); err != nil {
			t.Fatalf("repeated Setup: %v", err)
		}
		for _, q := range [][2]string{{queue.StageStream, queue.StageConsumer}, {queue.ExecStream, queue.ExecConsumer}} {
			checkConsumer(t, js, q[0], q[1], ackWait)
		}
	})

	t.Run("setup_updates_ack_wait", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := queue.Setup(b.ctx, b.js, queue.Config{AckWait: 3 * time.Second}); err != nil {
			t.Fatal(err)
		}
		checkConsumer(t, b.js, queue.ExecStream, queue.ExecConsumer, 3*time.Second)
	})
}

func checkConsumer(t *testing.T, js jetstream.JetStream, stream, name string, wantAckWait time.Duration) {
	t.Helper()
	s, err := js.Stream(t.Context(), stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	if sc := s.CachedInfo().Config; sc.Retention != jetstream.WorkQueuePolicy || sc.Storage != jetstream.FileStorage || sc.Duplicates != 2*time.Minute {
		t.Errorf("stream %s: retention %v storage %v duplicates %v", stream, sc.Retention, sc.Storage, sc.Duplicates)
	}
	c, err := js.Consumer(t.Context(), stream, name)
	if err != nil {
		t.Fatalf("consumer %s/%s: %v", stream, name, err)
	}
	cc := c.CachedInfo().Config
	if cc.AckWait != wantAckWait || cc.AckPolicy != jetstream.AckExplicitPolicy || cc.MaxDeliver != 10 || cc.Durable != name {
		t.Errorf("consumer %s/%s: ack wait %v policy %v max deliver %d durable %q", stream, name, cc.AckWait, cc.AckPolicy, cc.MaxDeliver, cc.Durable)
	}
}

func TestPublish(t *testing.T) {
	t.Parallel()

	t.Run("publish_dedup", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p := queue.NewPublisher(b.js)
		env := chunkJob("job-1")
		for i, want := range []bool{false, true} {
			dup, err := p.PublishJob(b.ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			if dup != want {
				t.Fatalf("publish %d: duplicate = %v, want %v", i+1, dup, want)
			}
		}
		if n := streamMsgs(t, b, queue.StageStream); n != 1 {
			t.Fatalf("stage stream holds %d messages, want 1", n)
		}
	})

	t.Run("subjects_and_msg_ids", func(t *testing.T) {
		t.Parallel()
		exec := &kallav1.JobEnvelope{Job: &kallav1.JobEnvelope_Exec{Exec: &kallav1.Exec{}}}
		plan := &kallav1.JobEnvelope{Job: &kallav1.JobEnvelope_StagePlan{StagePlan: &kallav1.StagePlan{}}}
		for env, want := range map[*kallav1.JobEnvelope]string{
			exec: queue.ExecSubject, plan: queue.StageSubject, chunkJob("x"): queue.StageSubject, {}: "",
		} {
			if got := queue.SubjectFor(env); got != want {
				t.Errorf("SubjectFor(%v) = %q, want %q", env, got, want)
			}
		}
		if got := queue.MsgID("job-7", 2); got != "job-7-2" {
			t.Errorf("MsgID = %q, want job-7-2", got)
		}
	})

	t.Run("trace_context_round_trip", func(t *testing.T) {
		t.Parallel()
		sc := trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    trace.TraceID{1, 2, 3},
			SpanID:     trace.SpanID{4, 5, 6},
			TraceFlags: trace.FlagsSampled,
		})
		ctx := trace.ContextWithSpanContext(t.Context(), sc)
		payload, err := queue.Marshal(ctx, chunkJob("job-1"))
		if err != nil {
			t.Fatal(err)
		}
		env, err := queue.Decode(payload)
		if err != nil {
			t.Fatal(err)
		}
		if env.GetTraceContext()["traceparent"] == "" {
			t.Fatalf("no traceparent in %v", env.GetTraceContext())
		}
		got := trace.SpanContextFromContext(queue.Extract(t.Context(), env))
		if got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() || !got.IsRemote() {
			t.Fatalf("extracted %v, want trace %v span %v (remote)", got, sc.TraceID(), sc.SpanID())
		}
	})
}

// settledDepth reads the stage queue's depth once its pending count is
// want: the server counts a consumer's pending messages shortly after it
// acknowledges their publication, not at once. It fails after 5 s.
func settledDepth(t *testing.T, b bundle, want int) (pending, ackPending int, oldest time.Duration) {
	t.Helper()
	waitFor(t, 5*time.Second, fmt.Sprintf("%d pending messages", want), func() bool {
		var err error
		if pending, ackPending, oldest, err = queue.Depth(b.ctx, b.js, queue.StageStream, queue.StageConsumer); err != nil {
			t.Fatal(err)
		}
		return pending == want
	})
	return pending, ackPending, oldest
}

func TestDepth(t *testing.T) {
	t.Parallel()

	t.Run("depth", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		publish(t, b, "job-1", "job-2", "job-3")
		pending, ackPending, oldest := settledDepth(t, b, 3)
		if pending != 3 || ackPending != 0 || oldest <= 0 {
			t.Fatalf("Depth = pending %d, ack pending %d, oldest wait %v; want 3, 0, > 0", pending, ackPending, oldest)
		}

		// Take one message without ending it: it moves to ack pending, and
		// the oldest wait is now that of the second message.
		cons, err := b.js.Consumer(b.ctx, queue.StageStream, queue.StageConsumer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		pending, ackPending, oldest2 := settledDepth(t, b, 2)
		if pending != 2 || ackPending != 1 || oldest2 <= 0 {
			t.Fatalf("Depth after one delivery = %d, %d, %v; want 2, 1, > 0", pending, ackPending, oldest2)
		}

		_, _, empty, err := queue.Depth(b.ctx, b.js, queue.ExecStream, queue.ExecConsumer)
		if err != nil || empty != 0 {
			t.Fatalf("Depth of empty exec queue: oldest wait %v, err %v; want 0, nil", empty, err)
		}
	})
}
