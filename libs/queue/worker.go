package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// Job is one delivery of a job message, as a Handler sees it.
type Job struct {
	Envelope *kallav1.JobEnvelope
	Kind     string // KindStagePlan, KindStageChunk or KindExec
	// Deliveries counts deliveries of this message by JetStream, from 1.
	Deliveries uint64
	// Age is the time since the message was stored in the stream.
	Age time.Duration
}

// Handler runs one job. nil acks the message; an error wrapping ErrPoison
// (see Poison) terminates it; any other error asks for a redelivery after a
// backoff. ctx is cancelled on shutdown and when Heartbeat returns ErrStop.
type Handler func(ctx context.Context, job Job) error

// Heartbeat is called every AckWait/3 while a handler runs; the caller
// records the job's last_heartbeat there. Returning an error wrapping
// ErrStop cancels the handler; other errors are logged.
type Heartbeat func(ctx context.Context, env *kallav1.JobEnvelope) error

// Worker pulls jobs from one durable consumer, one message per free slot,
// and never holds a message it has no slot for (pre-fetched messages would
// sit out their AckWait and be delivered twice).
type Worker struct {
	JS       jetstream.JetStream
	Stream   string // StageStream or ExecStream
	Consumer string // StageConsumer or ExecConsumer
	Handler  Handler

	Heartbeat Heartbeat    // optional
	Slots     int          // concurrent jobs; default 1
	Logger    *slog.Logger // default slog.Default()
	// PollWait is how long one pull waits for a message; it also bounds how
	// long Run takes to notice shutdown while idle. Default 5s.
	PollWait time.Duration
	// RetryBase and RetryMax bound the nak delay after a failure:
	// RetryBase * 2^(deliveries-1), at most RetryMax. Default 1s and 1m.
	RetryBase, RetryMax time.Duration
	// ShutdownDelay is the nak delay of a job interrupted by shutdown, so
	// another replica takes it soon. Default 1s.
	ShutdownDelay time.Duration

	stats Stats
}

// Stats returns the worker's counters.
func (w *Worker) Stats() *Stats { return &w.stats }

// Run pulls and handles jobs until ctx is done, then waits for running
// handlers to end their messages and returns nil. It returns an error only
// when the worker cannot go on (bad settings, connection closed for good).
// A NATS outage is waited out: pulls are retried with a small backoff.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.check(); err != nil {
		return err
	}
	cons, err := w.consumer(ctx)
	if err != nil || cons == nil {
		return err
	}
	ackWait := cons.CachedInfo().Config.AckWait
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var running sync.WaitGroup
	err = w.loop(jobCtx, cons, ackWait, &running)
	cancel()
	running.Wait()
	// Naks and terms are fire-and-forget publishes: flush them out before
	// the caller closes the connection.
	_ = w.JS.Conn().FlushTimeout(2 * time.Second)
	return err
}

func (w *Worker) check() error {
	if w.JS == nil || w.Stream == "" || w.Consumer == "" || w.Handler == nil {
		return errors.New("queue: worker needs JS, Stream, Consumer and Handler")
	}
	return nil
}

// consumer looks up the durable consumer, waiting while NATS is away. It
// returns nil, nil when ctx is done first.
func (w *Worker) consumer(ctx context.Context) (jetstream.Consumer, error) {
	for delay := backoffStart; ctx.Err() == nil; delay = nextDelay(delay) {
		cons, err := w.JS.Consumer(ctx, w.Stream, w.Consumer)
		if err == nil {
			return cons, nil
		}
		if errors.Is(err, nats.ErrConnectionClosed) {
			return nil, fmt.Errorf("queue: consumer %s/%s: %w", w.Stream, w.Consumer, err)
		}
		w.logger().Warn("queue: consumer lookup failed, retrying", "stream", w.Stream, "consumer", w.Consumer, "err", err)
		sleep(ctx, delay)
	}
	return nil, nil
}

// loop takes a free slot, then pulls one message for it.
func (w *Worker) loop(ctx context.Context, cons jetstream.Consumer, ackWait time.Duration, running *sync.WaitGroup) error {
	slots := make(chan struct{}, max(w.Slots, 1))
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		msg, err := w.pull(ctx, cons)
		if msg == nil {
			<-slots
			if err != nil {
				return err
			}
			continue
		}
		running.Go(func() {
			defer func() { <-slots }()
			w.process(ctx, msg, ackWait)
		})
	}
}

// pull fetches one message. It retries errors with a backoff and returns
// nil, nil when ctx is done; the error is only for a closed connection.
func (w *Worker) pull(ctx context.Context, cons jetstream.Consumer) (jetstream.Msg, error) {
	for delay := backoffStart; ctx.Err() == nil; {
		msg, err := fetchOne(cons, w.pollWait())
		switch {
		case msg != nil:
			return msg, nil
		case errors.Is(err, nats.ErrConnectionClosed):
			return nil, fmt.Errorf("queue: pull from %s/%s: %w", w.Stream, w.Consumer, err)
		case err != nil:
			w.logger().Warn("queue: pull failed, retrying", "stream", w.Stream, "consumer", w.Consumer, "err", err)
			sleep(ctx, delay)
			delay = nextDelay(delay)
		default:
			delay = backoffStart // an empty pull: the server is reachable
		}
	}
	return nil, nil
}

// fetchOne asks for exactly one message and waits up to wait for it.
func fetchOne(cons jetstream.Consumer, wait time.Duration) (jetstream.Msg, error) {
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(wait))
	if err != nil {
		return nil, err
	}
	var got jetstream.Msg
	for msg := range batch.Messages() {
		got = msg
	}
	if got != nil {
		return got, nil
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
		return nil, err
	}
	return nil, nil
}

const (
	backoffStart = 100 * time.Millisecond
	backoffMax   = 2 * time.Second
)

func nextDelay(d time.Duration) time.Duration { return min(2*d, backoffMax) }

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

func (w *Worker) pollWait() time.Duration {
	return orDefault(w.PollWait, 5*time.Second)
}

// retryDelay is the nak delay after a failed delivery number n.
func (w *Worker) retryDelay(n uint64) time.Duration {
	base := orDefault(w.RetryBase, time.Second)
	limit := orDefault(w.RetryMax, time.Minute)
	d := base
	for i := uint64(1); i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
