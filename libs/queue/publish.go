package queue

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// Publisher publishes job messages and waits for the server's PubAck.
type Publisher struct {
	js jetstream.JetStream
}

// NewPublisher returns a Publisher on js.
func NewPublisher(js jetstream.JetStream) *Publisher {
	return &Publisher{js: js}
}

// Publish stores payload on subject with msgID as its de-duplication id.
// duplicate reports that the stream already held msgID within its window,
// which is success for a retrying outbox.
func (p *Publisher) Publish(ctx context.Context, subject, msgID string, payload []byte) (duplicate bool, err error) {
	ack, err := p.js.Publish(ctx, subject, payload, jetstream.WithMsgID(msgID))
	if err != nil {
		return false, fmt.Errorf("queue: publish %s on %s: %w", msgID, subject, err)
	}
	return ack.Duplicate, nil
}

// PublishJob marshals env with the trace context of ctx and publishes it on
// its subject with MsgID(job_id, attempt).
func (p *Publisher) PublishJob(ctx context.Context, env *kallav1.JobEnvelope) (duplicate bool, err error) {
	payload, err := Marshal(ctx, env)
	if err != nil {
		return false, err
	}
	return p.Publish(ctx, SubjectFor(env), MsgID(env.GetJobId(), env.GetAttempt()), payload)
}

// Marshal encodes a copy of env with the W3C trace context of ctx injected.
// The result is what an outbox row stores and what goes on the wire.
func Marshal(ctx context.Context, env *kallav1.JobEnvelope) ([]byte, error) {
	if SubjectFor(env) == "" {
		return nil, fmt.Errorf("queue: envelope of job %q carries no job", env.GetJobId())
	}
	env = proto.CloneOf(env)
	Inject(ctx, env)
	b, err := proto.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("queue: marshal job %s: %w", env.GetJobId(), err)
	}
	return b, nil
}

// Decode parses a message payload. An error means a poison message.
func Decode(payload []byte) (*kallav1.JobEnvelope, error) {
	env := &kallav1.JobEnvelope{}
	if err := proto.Unmarshal(payload, env); err != nil {
		return nil, fmt.Errorf("queue: decode envelope: %w", err)
	}
	if env.GetJobId() == "" || Kind(env) == KindUnknown {
		return nil, errors.New("queue: decode envelope: no job id or no job")
	}
	return env, nil
}

// traceContext is W3C Trace Context (traceparent, tracestate), used as is
// so it works whether or not the process set a global propagator.
var traceContext = propagation.TraceContext{}

// Inject writes the trace context of ctx into env.trace_context. Without a
// valid span in ctx it leaves env unchanged.
func Inject(ctx context.Context, env *kallav1.JobEnvelope) {
	carrier := propagation.MapCarrier{}
	traceContext.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return
	}
	if env.TraceContext == nil {
		env.TraceContext = map[string]string{}
	}
	for k, v := range carrier {
		env.TraceContext[k] = v
	}
}

// Extract returns ctx with the remote span context carried by env, so spans
// a handler starts join the trace of whoever enqueued the job.
func Extract(ctx context.Context, env *kallav1.JobEnvelope) context.Context {
	if len(env.GetTraceContext()) == 0 {
		return ctx
	}
	return traceContext.Extract(ctx, propagation.MapCarrier(env.GetTraceContext()))
}
