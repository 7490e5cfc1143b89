package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/source"
)

// CreateRun validates the recipe against its sources, records the run and
// its first jobs with their outbox entries in one transaction, and only
// then publishes them. It returns at once.
func (s *Server) CreateRun(ctx context.Context, req *connect.Request[kallav1.CreateRunRequest]) (*connect.Response[kallav1.CreateRunResponse], error) {
	text, err := s.runRecipe(ctx, req.Msg)
	if err != nil {
		return nil, err
	}
	r, err := parseRecipe(text)
	if err != nil {
		return nil, invalidArgument(err)
	}
	if _, err := s.buildPlan(ctx, r); err != nil {
		return nil, invalidArgument(err)
	}
	first, err := firstJobs(ctx, r)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	parsed, err := proto.Marshal(r)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("encode recipe: %w", err))
	}
	nr := jobs.NewRun{RecipeID: r.GetRecipeId(), RecipeText: text, Recipe: parsed, Jobs: first}
	if s.cfg.RunTimeout > 0 {
		nr.Deadline = time.Now().Add(s.cfg.RunTimeout)
	}
	runID, err := s.store.CreateRun(ctx, nr)
	if err != nil {
		s.log.Error("create run failed", "recipe_id", r.GetRecipeId(), "error", err)
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("the run could not be recorded; try again"))
	}
	s.log.Info("run created", "run_id", runID, "recipe_id", r.GetRecipeId(), "jobs", len(first),
		"left", source.Redact(r.GetSources().GetLeft().GetUri()), "right", source.Redact(r.GetSources().GetRight().GetUri()))
	s.dispatch()
	return connect.NewResponse(&kallav1.CreateRunResponse{RunId: runID}), nil
}

// runRecipe returns the text of the recipe a run is asked for: the one
// given, or the one saved under recipe_id.
func (s *Server) runRecipe(ctx context.Context, m *kallav1.CreateRunRequest) (string, error) {
	id := m.GetRecipeId()
	switch {
	case id == "":
		return m.GetRecipe(), nil
	case m.GetRecipe() != "":
		return "", connect.NewError(connect.CodeInvalidArgument, errors.New("give recipe or recipe_id, not both"))
	}
	stored, err := s.store.GetRecipe(ctx, id)
	if err != nil {
		return "", s.storeError(err, "recipe", id)
	}
	return stored.Text, nil
}

// firstJobs classifies the sources: each staged source (PostgreSQL) gets a
// stage plan job, and the stagers enqueue the exec job once the last chunk
// lands. With only native sources the exec job is queued directly.
func firstJobs(ctx context.Context, r *kallav1.Recipe) ([]jobs.NewJob, error) {
	var out []jobs.NewJob
	for _, side := range pipeline.Sides(r) {
		ref, err := source.Parse(side.Source.GetUri())
		if err != nil {
			return nil, err
		}
		if ref.Native() {
			continue
		}
		j, err := pipeline.NewJob(ctx, jobs.TypeStagePlan, &kallav1.JobEnvelope{
			Job: &kallav1.JobEnvelope_StagePlan{StagePlan: &kallav1.StagePlan{Side: side.Side, Alias: side.Source.GetAlias()}},
		})
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	if len(out) > 0 {
		return out, nil
	}
	// Every source is native: the staging root and run id are not needed.
	j, err := pipeline.ExecJob(ctx, r, "", "")
	if err != nil {
		return nil, err
	}
	return []jobs.NewJob{j}, nil
}

// dispatch wakes the outbox publisher. A failure to publish is only
// logged: the entries stay in the outbox and a later dispatch here or a
// reaper publishes them.
func (s *Server) dispatch() {
	if s.pub == nil {
		return
	}
	s.dispatchOnce.Do(func() {
		s.wg.Add(1)
		go s.dispatcher()
	})
	select {
	case s.kick <- struct{}{}:
	default: // a dispatch is already due; it will see this run's entries
	}
}

func (s *Server) dispatcher() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		n, err := pipeline.Dispatch(ctx, s.store, s.pub)
		cancel()
		if err != nil {
			s.log.Warn("publishing the outbox failed; the reaper publishes what is left", "published", n, "error", err)
		}
	}
}

// GetRun returns a run's state.
func (s *Server) GetRun(ctx context.Context, req *connect.Request[kallav1.GetRunRequest]) (*connect.Response[kallav1.GetRunResponse], error) {
	r, err := s.getRun(ctx, req.Msg.GetRunId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&kallav1.GetRunResponse{Run: toProto(r)}), nil
}

// getRun loads a run, with InvalidArgument for a malformed id and NotFound
// for an unknown one.
func (s *Server) getRun(ctx context.Context, id string) (jobs.Run, error) {
	if err := checkRunID(id); err != nil {
		return jobs.Run{}, err
	}
	r, err := s.store.GetRun(ctx, id)
	if err != nil {
		return jobs.Run{}, s.storeError(err, "run", id)
	}
	return r, nil
}

// storeError maps a database error about a run or recipe (what) with the
// given id: NotFound, Canceled or DeadlineExceeded when the caller went
// away or ran out of time, else Unavailable
// (logged here, since the caller only sees "try again").
func (s *Server) storeError(err error, what, id string) error {
	if errors.Is(err, jobs.ErrNotFound) {
		return connect.NewError(connect.CodeNotFound, fmt.Errorf("%s %q not found", what, id))
	}
	if errors.Is(err, jobs.ErrBadPageToken) {
		return badPageToken()
	}
	if errors.Is(err, context.Canceled) {
		return connect.NewError(connect.CodeCanceled, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	}
	s.log.Error("database error", what+"_id", id, "error", err)
	return connect.NewError(connect.CodeUnavailable, fmt.Errorf("the %s store is unavailable; try again", what))
}

// checkRunID accepts a UUID in its canonical text form.
func checkRunID(id string) error {
	bad := len(id) != 36
	for i := 0; !bad && i < len(id); i++ {
		c := id[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			bad = c != '-'
		default:
			bad = !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F')
		}
	}
	if bad {
		return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("run_id %q is not a run id (a UUID)", id))
	}
	return nil
}

// ListRuns pages through runs, newest first.
func (s *Server) ListRuns(ctx context.Context, req *connect.Request[kallav1.ListRunsRequest]) (*connect.Response[kallav1.ListRunsResponse], error) {
	size, err := pageSize(req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	status := statusName(req.Msg.GetStatus())
	if status == "" && req.Msg.GetStatus() != kallav1.RunStatus_RUN_STATUS_UNSPECIFIED {
		// A status this server does not know would otherwise list every run.
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("status %d is not a run status", req.Msg.GetStatus()))
	}
	runs, next, err := s.store.ListRuns(ctx, status, size, req.Msg.GetPageToken())
	if err != nil {
		return nil, s.storeError(err, "run", "")
	}
	resp := &kallav1.ListRunsResponse{NextPageToken: next}
	for _, r := range runs {
		resp.Runs = append(resp.Runs, toProto(r))
	}
	return connect.NewResponse(resp), nil
}

// badPageToken is the answer to a page_token no list handed out.
func badPageToken() error {
	return connect.NewError(connect.CodeInvalidArgument, errors.New("page_token is not valid: pass the next_page_token of an earlier answer"))
}

// pageSize reads a request's page_size, the same for runs, recipes and
// evidence.
func pageSize(n int32) (int, error) {
	if n < 0 {
		return 0, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("page_size %d is negative", n))
	}
	return jobs.PageSize(int(n)), nil
}

// CancelRun ends a run: its remaining jobs are cancelled and workers stop
// between batches. Cancelling an ended run leaves it as it is.
func (s *Server) CancelRun(ctx context.Context, req *connect.Request[kallav1.CancelRunRequest]) (*connect.Response[kallav1.CancelRunResponse], error) {
	id := req.Msg.GetRunId()
	if err := checkRunID(id); err != nil {
		return nil, err
	}
	r, err := s.store.CancelRun(ctx, id)
	if err != nil {
		return nil, s.storeError(err, "run", id)
	}
	s.log.Info("run cancel requested", "run_id", id, "status", r.Status)
	return connect.NewResponse(&kallav1.CancelRunResponse{Run: toProto(r)}), nil
}
