package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/testenv"
)

// TestEveryMessageDeliveredTwice publishes a second copy of every job
// message, under another message id so JetStream delivers both: each
// chunk still counts once, one exec job runs, and the counts are right.
func TestEveryMessageDeliveredTwice(t *testing.T) {
	t.Parallel()
	source := testenv.Postgres(t)
	path := writeStagedCase(t, source, 50_000)
	s := startSystem(t, "KALLA_CHUNK_ROWS=10000")
	url := s.startPlanner()
	s.start("reaper", "reaper")
	s.start("stager-1", "stager")
	s.start("stager-2", "stager")
	s.start("executor", "executor")

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	duplicated := make(chan int, 1)
	go func() { duplicated <- s.duplicateEveryMessage(ctx) }()

	res := kalla(t, "submit", "--server", url, "--recipe", path, "--token", apiToken, "--wait", "--json")
	if res.code != exitOK {
		t.Fatalf("submit: exit %d: %s", res.code, res.stderr)
	}
	var got struct {
		RunID string `json:"run_id"`
		evidence.Summary
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("submit printed %q: %v", res.stdout, err)
	}
	run, err := s.store.GetRun(context.Background(), got.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.ChunksTotal < 5 || run.ChunksStaged != run.ChunksTotal || run.RowsStaged != 50_000 {
		t.Errorf("staging progress: %d of %d chunks, %d rows", run.ChunksStaged, run.ChunksTotal, run.RowsStaged)
	}
	var execJobs int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM jobs WHERE run_id = $1 AND type = 'exec'", run.ID).Scan(&execJobs); err != nil {
		t.Fatal(err)
	}
	if execJobs != 1 || got.Left.Rows != 50_000 || got.Left.Matched+got.Left.Unmatched != 50_000 {
		t.Errorf("%d exec jobs; summary %+v", execJobs, got.Summary)
	}
	stop()
	var jobCount int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM jobs WHERE run_id = $1", run.ID).Scan(&jobCount); err != nil || jobCount == 0 {
		t.Fatalf("jobs of run %s: %d, %v", run.ID, jobCount, err)
	}
	if n := <-duplicated; n < jobCount {
		t.Errorf("only %d of %d job messages were duplicated; the test proves less than it claims", n, jobCount)
	}
}

// duplicateEveryMessage republishes each published outbox entry once more
// with a fresh message id, until ctx ends, and returns how many it did.
func (s *system) duplicateEveryMessage(ctx context.Context) int {
	nc, err := queue.Connect(s.nats.URL())
	if err != nil {
		s.t.Error(err)
		return 0
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		s.t.Error(err)
		return 0
	}
	pub := queue.NewPublisher(js)
	done := map[int64]bool{}
	for ctx.Err() == nil {
		rows, err := s.pool.Query(ctx, "SELECT id, subject, msg_id, payload FROM outbox WHERE published_at IS NOT NULL")
		if err == nil {
			for rows.Next() {
				var id int64
				var subject, msgID string
				var payload []byte
				if rows.Scan(&id, &subject, &msgID, &payload) == nil && !done[id] {
					if _, err := pub.Publish(ctx, subject, fmt.Sprintf("%s-dup", msgID), payload); err == nil {
						done[id] = true
					}
				}
			}
			rows.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return len(done)
}
