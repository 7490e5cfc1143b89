package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Depth reports the load on one consumer: pending messages not yet
// delivered, ackPending messages delivered and not yet ended (running jobs
// and naked ones waiting for redelivery), and the age of the oldest message
// not yet delivered.
//
// oldestWait is not the stream's FirstTime: on a work-queue stream a
// message stays stored until acked, so the first message is usually one a
// worker is running right now, and a long exec job would look like a queue
// stuck for half an hour. Instead we read the first stored message after
// the consumer's delivered stream sequence; messages at or below it have
// all been handed to a worker at least once. It is 0 when nothing waits.
func Depth(ctx context.Context, js jetstream.JetStream, stream, consumer string) (pending, ackPending int, oldestWait time.Duration, err error) {
	cons, err := js.Consumer(ctx, stream, consumer)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("queue: depth of %s/%s: %w", stream, consumer, err)
	}
	info := cons.CachedInfo()
	pending, ackPending = int(info.NumPending), info.NumAckPending
	if pending == 0 {
		return pending, ackPending, 0, nil
	}
	oldestWait, err = firstWaiting(ctx, js, stream, info.Delivered.Stream+1)
	return pending, ackPending, oldestWait, err
}

// firstWaiting returns the age of the first message stored at or after seq.
func firstWaiting(ctx context.Context, js jetstream.JetStream, stream string, seq uint64) (time.Duration, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("queue: depth of %s: %w", stream, err)
	}
	// The subject filter makes the server return the next stored message
	// at or after seq, skipping sequences already acked and removed.
	msg, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(">"))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil // delivered between the two reads
	}
	if err != nil {
		return 0, fmt.Errorf("queue: oldest message of %s: %w", stream, err)
	}
	return max(time.Since(msg.Time), 0), nil
}
