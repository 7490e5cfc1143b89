// Package queue carries jobs over NATS JetStream: the two work-queue streams
// and their shared durable consumers, the job envelope on the wire, and the
// worker loop that ends every message on purpose (ack, nak with delay, term).
//
// PostgreSQL stays the source of truth for a job (status, attempts, claim);
// the queue only delivers. Handlers must therefore be idempotent: a message
// can be delivered again after a lost ack, a crash or a network partition.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// Streams, subjects and durable consumers. KEDA triggers name the streams
// and consumers, so they are part of the deployment contract.
const (
	StageStream   = "KALLA_STAGE"
	StageSubject  = "kalla.jobs.stage"
	StageConsumer = "stager"

	ExecStream   = "KALLA_EXEC"
	ExecSubject  = "kalla.jobs.exec"
	ExecConsumer = "executor"
)

// Job kinds, spelled as the job type in PostgreSQL.
const (
	KindStagePlan  = "stage_plan"
	KindStageChunk = "stage_chunk"
	KindExec       = "exec"
	KindUnknown    = "unknown"
)

// Config tunes the streams and consumers Setup creates. Zero fields take
// the defaults below.
type Config struct {
	// AckWait is how long the server waits for an ack, nak or in-progress
	// before it redelivers. Workers send InProgress every AckWait/3.
	AckWait time.Duration // default 30s
	// MaxDeliver caps deliveries of one message. It is a backstop: the job's
	// max_attempts in PostgreSQL is the real limit.
	MaxDeliver int // default 10
	// MaxAckPending caps messages in flight on one consumer across all
	// replicas (running jobs plus those waiting for redelivery).
	MaxAckPending int // default 512
	// Replicas of each stream (3 on the production cluster).
	Replicas int // default 1
	// Duplicates is the de-duplication window of Nats-Msg-Id.
	Duplicates time.Duration // default 2m
}

func (c Config) withDefaults() Config {
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 10
	}
	if c.MaxAckPending <= 0 {
		c.MaxAckPending = 512
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Duplicates <= 0 {
		c.Duplicates = 2 * time.Minute
	}
	return c
}

// Setup creates or updates both streams and their durable consumers. It is
// idempotent and safe when several services start at once.
func Setup(ctx context.Context, js jetstream.JetStream, cfg Config) error {
	cfg = cfg.withDefaults()
	for _, q := range []struct{ stream, subject, consumer string }{
		{StageStream, StageSubject, StageConsumer},
		{ExecStream, ExecSubject, ExecConsumer},
	} {
		if err := setupStream(ctx, js, cfg, q.stream, q.subject); err != nil {
			return err
		}
		if err := setupConsumer(ctx, js, cfg, q.stream, q.consumer); err != nil {
			return err
		}
	}
	return nil
}

func setupStream(ctx context.Context, js jetstream.JetStream, cfg Config, name, subject string) error {
	sc := jetstream.StreamConfig{
		Name:       name,
		Subjects:   []string{subject},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Replicas:   cfg.Replicas,
		Duplicates: cfg.Duplicates,
	}
	err := retry(ctx, func() error {
		_, err := js.CreateOrUpdateStream(ctx, sc)
		return err
	})
	if err != nil {
		return fmt.Errorf("queue: set up stream %s: %w", name, err)
	}
	return nil
}

// setupConsumer creates the one durable pull consumer of a stream, shared by
// every replica: a work-queue stream refuses a second unfiltered consumer.
func setupConsumer(ctx context.Context, js jetstream.JetStream, cfg Config, stream, name string) error {
	cc := jetstream.ConsumerConfig{
		Durable:       name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    cfg.MaxDeliver,
		MaxAckPending: cfg.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		Replicas:      cfg.Replicas,
	}
	err := retry(ctx, func() error {
		_, err := js.CreateOrUpdateConsumer(ctx, stream, cc)
		return err
	})
	if err != nil {
		return fmt.Errorf("queue: set up consumer %s on %s: %w", name, stream, err)
	}
	return nil
}

// retry covers the race of two services creating the same stream at once
// (the loser's create can fail with "already in use"; its retry updates).
func retry(ctx context.Context, fn func() error) error {
	var err error
	for range 3 {
		if err = fn(); err == nil || ctx.Err() != nil {
			return err
		}
		sleep(ctx, 100*time.Millisecond)
	}
	return err
}

// Kind names the job an envelope carries, as PostgreSQL spells its type.
func Kind(env *kallav1.JobEnvelope) string {
	switch env.GetJob().(type) {
	case *kallav1.JobEnvelope_StagePlan:
		return KindStagePlan
	case *kallav1.JobEnvelope_StageChunk:
		return KindStageChunk
	case *kallav1.JobEnvelope_Exec:
		return KindExec
	}
	return KindUnknown
}

// SubjectFor returns the subject an envelope is published on, or "" when
// the envelope carries no job.
func SubjectFor(env *kallav1.JobEnvelope) string {
	switch Kind(env) {
	case KindStagePlan, KindStageChunk:
		return StageSubject
	case KindExec:
		return ExecSubject
	}
	return ""
}

// MsgID is the de-duplication id of one attempt of a job: a republished
// attempt is a duplicate, a new attempt is not.
func MsgID(jobID string, attempt int32) string {
	return jobID + "-" + strconv.Itoa(int(attempt))
}

// Connect dials NATS with options that survive a server restart: reconnect
// forever, and keep retrying when the server is not up yet at start. Later
// opts override these.
func Connect(url string, opts ...nats.Option) (*nats.Conn, error) {
	base := []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			slog.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			slog.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
	}
	nc, err := nats.Connect(url, append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("queue: connect %s: %w", url, err)
	}
	return nc, nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// ErrPoison marks a job that can never succeed; see Poison.
var ErrPoison = errors.New("poison job")

// ErrStop, returned (wrapped) by a Heartbeat hook, tells the worker the job
// is no longer its own (the claim was lost): the handler's context is
// cancelled and the message is terminated.
var ErrStop = errors.New("stop job")

// Poison marks err as permanent: the worker terminates the message instead
// of asking for a redelivery.
func Poison(err error) error {
	if err == nil {
		err = ErrPoison
	}
	return fmt.Errorf("%w: %w", ErrPoison, err)
}
