package queue_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/queue/queuetest"
	"github.com/kallahq/kalla/libs/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// ackWait is short so redelivery tests finish quickly.
const ackWait = 2 * time.Second

type bundle struct {
	srv *testenv.NATSServer
	nc  *nats.Conn
	js  jetstream.JetStream
	ctx context.Context
}

// setup starts a private NATS server with the streams and consumers set up.
func setup(t *testing.T) bundle {
	t.Helper()
	srv := testenv.NATS(t)
	nc, js := queuetest.Connect(t, srv.URL())
	if err := queue.Setup(t.Context(), js, queue.Config{AckWait: ackWait}); err != nil {
		t.Fatal(err)
	}
	return bundle{srv: srv, nc: nc, js: js, ctx: t.Context()}
}

func chunkJob(id string) *kallav1.JobEnvelope {
	return &kallav1.JobEnvelope{
		JobId:   id,
		RunId:   "run-1",
		Attempt: 1,
		Job:     &kallav1.JobEnvelope_StageChunk{StageChunk: &kallav1.StageChunk{Alias: "left", ChunkIndex: 1}},
	}
}

func publish(t *testing.T, b bundle, ids ...string) {
	t.Helper()
	p := queue.NewPublisher(b.js)
	for _, id := range ids {
		if _, err := p.PublishJob(b.ctx, chunkJob(id)); err != nil {
			t.Fatal(err)
		}
	}
}

// stageWorker returns a worker on the stage consumer with test timings.
func stageWorker(t *testing.T, js jetstream.JetStream, h queue.Handler) *queue.Worker {
	return &queue.Worker{
		JS:        js,
		Stream:    queue.StageStream,
		Consumer:  queue.StageConsumer,
		Handler:   h,
		Logger:    slog.New(slog.NewTextHandler(t.Output(), nil)),
		PollWait:  500 * time.Millisecond,
		RetryBase: 100 * time.Millisecond,
	}
}

// start runs w until the returned stop is called (or the test ends); stop
// cancels Run's context and waits for Run to return.
func start(t *testing.T, w *queue.Worker) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				t.Error("worker did not stop within 15s")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// waitFor polls cond every 20ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holds checks that cond stays true for d.
func holds(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
	}
}

func streamMsgs(t *testing.T, b bundle, stream string) uint64 {
	t.Helper()
	s, err := b.js.Stream(b.ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	return s.CachedInfo().State.Msgs
}

// recorder collects the jobs a handler saw.
type recorder struct {
	mu   sync.Mutex
	jobs []queue.Job
	at   []time.Time
}

func (r *recorder) add(job queue.Job) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, job)
	r.at = append(r.at, time.Now())
	return len(r.jobs)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.jobs)
}

func (r *recorder) get(i int) (queue.Job, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.jobs[i], r.at[i]
}
