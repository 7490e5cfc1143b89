package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// process handles one message and ends it on purpose, whatever happens.
func (w *Worker) process(ctx context.Context, msg jetstream.Msg, ackWait time.Duration) {
	job, err := decodeJob(msg)
	if err != nil {
		w.logger().Error("queue: poison message, terminating", "stream", w.Stream, "err", err)
		w.term(msg, err.Error(), w.logger())
		w.stats.end(KindUnknown, Poisoned)
		return
	}
	log := w.logger().With("job_id", job.Envelope.GetJobId(), "run_id", job.Envelope.GetRunId(),
		"kind", job.Kind, "attempt", job.Envelope.GetAttempt(), "deliveries", job.Deliveries)
	if ctx.Err() != nil { // fetched just as shutdown began
		w.nak(msg, w.shutdownDelay(), log)
		w.stats.end(job.Kind, Aborted)
		return
	}
	w.stats.start()
	jobCtx, cancel := context.WithCancelCause(Extract(ctx, job.Envelope))
	defer cancel(nil)
	err = w.runJob(jobCtx, cancel, msg, job, ackWait/3, log)
	w.stats.stop()
	w.stats.end(job.Kind, w.finish(ctx, jobCtx, msg, job, err, log))
}

func decodeJob(msg jetstream.Msg) (Job, error) {
	meta, err := msg.Metadata()
	if err != nil {
		return Job{}, fmt.Errorf("queue: message metadata: %w", err)
	}
	env, err := Decode(msg.Data())
	if err != nil {
		return Job{}, fmt.Errorf("stream seq %d: %w", meta.Sequence.Stream, err)
	}
	return Job{
		Envelope:   env,
		Kind:       Kind(env),
		Deliveries: meta.NumDelivered,
		Age:        max(time.Since(meta.Timestamp), 0),
	}, nil
}

// runJob calls the handler while a keep-alive goroutine tells the server
// (InProgress) and the caller (Heartbeat) that the job is alive.
func (w *Worker) runJob(ctx context.Context, cancel context.CancelCauseFunc, msg jetstream.Msg, job Job, every time.Duration, log *slog.Logger) error {
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		w.keepAlive(ctx, cancel, stop, msg, job.Envelope, every, log)
	}()
	err := callHandler(ctx, w.Handler, job)
	close(stop)
	<-stopped
	return err
}

func (w *Worker) keepAlive(ctx context.Context, cancel context.CancelCauseFunc, stop <-chan struct{}, msg jetstream.Msg, env *kallav1.JobEnvelope, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(orDefault(every, 10*time.Second))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := msg.InProgress(); err != nil {
			log.Warn("queue: in-progress failed", "err", err)
		}
		if err := w.heartbeat(ctx, env, every); errors.Is(err, ErrStop) {
			log.Warn("queue: heartbeat says stop, cancelling job", "err", err)
			cancel(err)
			return
		} else if err != nil {
			log.Warn("queue: heartbeat failed", "err", err)
		}
	}
}

// heartbeat calls the hook with a context that outlives shutdown: a job
// still draining keeps its claim fresh.
func (w *Worker) heartbeat(ctx context.Context, env *kallav1.JobEnvelope, timeout time.Duration) error {
	if w.Heartbeat == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	return w.Heartbeat(ctx, env)
}

// callHandler turns a panic into an error, so the message is still ended.
func callHandler(ctx context.Context, h Handler, job Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("queue: handler panicked: %v", p)
		}
	}()
	return h(ctx, job)
}

// finish ends the message according to the handler's result. It never
// acks a failed job.
func (w *Worker) finish(runCtx, jobCtx context.Context, msg jetstream.Msg, job Job, err error, log *slog.Logger) Outcome {
	switch {
	case err == nil:
		w.ack(msg, log)
		return Completed
	case errors.Is(context.Cause(jobCtx), ErrStop):
		log.Warn("queue: job stopped, terminating message", "err", err)
		w.term(msg, "stopped: "+context.Cause(jobCtx).Error(), log)
		return Aborted
	case errors.Is(err, ErrPoison):
		log.Error("queue: poison job, terminating", "err", err)
		w.term(msg, err.Error(), log)
		return Poisoned
	case runCtx.Err() != nil:
		log.Info("queue: job interrupted by shutdown, handing it back", "err", err)
		w.nak(msg, w.shutdownDelay(), log)
		return Aborted
	default:
		delay := w.retryDelay(job.Deliveries)
		log.Warn("queue: job failed, asking for redelivery", "err", err, "delay", delay)
		w.nak(msg, delay, log)
		return Retried
	}
}

// ack waits for the server's confirmation and retries a few times. If the
// ack is lost the message is delivered again; handlers are idempotent.
func (w *Worker) ack(msg jetstream.Msg, log *slog.Logger) {
	var err error
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = msg.DoubleAck(ctx)
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrMsgAlreadyAckd) || errors.Is(err, nats.ErrConnectionClosed) {
			break
		}
		time.Sleep(time.Duration(i+1) * 200 * time.Millisecond)
	}
	if err != nil {
		log.Error("queue: ack failed; the job will be delivered again", "err", err)
	}
}

func (w *Worker) nak(msg jetstream.Msg, delay time.Duration, log *slog.Logger) {
	if err := msg.NakWithDelay(delay); err != nil {
		log.Error("queue: nak failed; redelivery after AckWait", "err", err)
	}
}

// term stops redelivery; the reason shows in the server's advisory.
func (w *Worker) term(msg jetstream.Msg, reason string, log *slog.Logger) {
	const maxReason = 200
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	if err := msg.TermWithReason(reason); err != nil {
		log.Error("queue: term failed; redelivery after AckWait", "err", err)
	}
}

func (w *Worker) shutdownDelay() time.Duration {
	return orDefault(w.ShutdownDelay, time.Second)
}
