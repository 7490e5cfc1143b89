package api

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/jobs"
)

// WatchRun sends the run's state at once and then on every change until
// the run ends or the client goes away. Changes arrive by LISTEN on
// jobs.RunsChannel; a poll every PollInterval covers a missed notification
// (for example across a database restart).
func (s *Server) WatchRun(ctx context.Context, req *connect.Request[kallav1.WatchRunRequest], stream *connect.ServerStream[kallav1.WatchRunResponse]) error {
	id := req.Msg.GetRunId()
	if err := checkRunID(id); err != nil {
		return err
	}
	changed, unsubscribe := s.watch.subscribe(id)
	defer unsubscribe()
	r, err := s.getRun(ctx, id)
	if err != nil {
		return err
	}
	last := toProto(r)
	if err := stream.Send(&kallav1.WatchRunResponse{Run: last}); err != nil {
		return err
	}
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	for !ended(r.Status) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return connect.NewError(connect.CodeUnavailable, errors.New("the server is shutting down; watch again"))
		case <-changed:
		case <-tick.C:
		}
		r, err = s.store.GetRun(ctx, id)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, jobs.ErrNotFound):
			return s.storeError(err, "run", id)
		case err != nil:
			// The database may be restarting: keep watching, the poll retries.
			s.log.Warn("watch run: read failed; retrying", "run_id", id, "error", err)
			r.Status = ""
			continue
		}
		if now := toProto(r); !proto.Equal(now, last) {
			last = now
			if err := stream.Send(&kallav1.WatchRunResponse{Run: now}); err != nil {
				return err
			}
		}
	}
	return nil
}

// hub holds one dedicated connection LISTENing on jobs.RunsChannel for the
// whole server and wakes the watchers of the run each notification names,
// so watchers do not each hold a pooled connection.
type hub struct {
	ctx  context.Context
	pool *pgxpool.Pool
	log  *slog.Logger
	wg   *sync.WaitGroup

	once sync.Once
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func newHub(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, wg *sync.WaitGroup) *hub {
	return &hub{ctx: ctx, pool: pool, log: log, wg: wg, subs: map[string]map[chan struct{}]struct{}{}}
}

// subscribe returns a channel that receives a value whenever the run may
// have changed; call the returned func to stop.
func (h *hub) subscribe(runID string) (<-chan struct{}, func()) {
	h.once.Do(func() {
		h.wg.Add(1)
		go h.run()
	})
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[runID] == nil {
		h.subs[runID] = map[chan struct{}]struct{}{}
	}
	h.subs[runID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[runID], ch)
		if len(h.subs[runID]) == 0 {
			delete(h.subs, runID)
		}
		h.mu.Unlock()
	}
}

// wake signals the watchers of one run, or of every run when runID is "".
func (h *hub) wake(runID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, chans := range h.subs {
		if runID != "" && id != runID {
			continue
		}
		for ch := range chans {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// run keeps a listening connection up until the server closes.
func (h *hub) run() {
	defer h.wg.Done()
	for h.ctx.Err() == nil {
		err := h.listen()
		if h.ctx.Err() != nil {
			return
		}
		h.log.Warn("listening for run changes failed; retrying (watchers poll meanwhile)", "error", err)
		select {
		case <-h.ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (h *hub) listen() error {
	c, err := h.pool.Acquire(h.ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool: it stays in LISTEN mode for good.
	conn := c.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(h.ctx, "LISTEN "+jobs.RunsChannel); err != nil {
		return err
	}
	// Changes made before LISTEN took effect would be missed otherwise.
	h.wake("")
	for {
		n, err := conn.WaitForNotification(h.ctx)
		if err != nil {
			return err
		}
		h.wake(n.Payload)
	}
}
