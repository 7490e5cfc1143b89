// Package execute runs Exec jobs: it fetches the run's sources, reconciles
// them with the same code as `kalla reconcile`, and publishes the evidence
// to the object store.
package execute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/reconcile"
	"github.com/kallahq/kalla/libs/scratch"
)

// Executor holds what every Exec job needs.
type Executor struct {
	Store    *jobs.Store
	Engine   engine.Engine
	Evidence objstore.Store
	S3       objstore.Config
	// TempDir holds each job's sources and outputs while it runs.
	TempDir string
	// CancelPoll is how often a running job checks that its run is active.
	CancelPoll time.Duration
	// Log receives a line per executed run with the time of each phase;
	// nil means slog.Default().
	Log *slog.Logger
}

const workPrefix = "kalla-exec-"

// Handle runs one Exec job. Running it twice gives the same evidence at the
// same keys: a retry overwrites, never adds.
func (e *Executor) Handle(ctx context.Context, job jobs.Job, env *kallav1.JobEnvelope) error {
	run, err := e.Store.GetRun(ctx, job.RunID)
	if err != nil {
		return err
	}
	r := &kallav1.Recipe{}
	if err := proto.Unmarshal(run.Recipe, r); err != nil {
		return queue.Poison(fmt.Errorf("run %s: stored recipe: %w", run.ID, err))
	}
	if err := e.Store.SetStatus(ctx, run.ID, jobs.RunExecuting, "executing"); err != nil {
		return err
	}
	// A job's folder left by a killed executor is swept by the next job.
	held, err := scratch.Mkdir(e.TempDir, workPrefix)
	if err != nil {
		return err
	}
	defer held.RemoveAll()
	work := held.Path
	start := time.Now()
	if err := e.fetchSources(ctx, r, env.GetExec(), work); err != nil {
		return err
	}
	fetched := time.Now()
	// A database's stager may have staged only the rows the filter keeps:
	// the records the source held are those its chunks read.
	read, err := e.Store.RowsRead(ctx, run.ID)
	if err != nil {
		return err
	}
	ctx, stop := e.watchCancel(ctx, run.ID)
	defer stop()
	out := filepath.Join(work, "out")
	sum, err := reconcile.Run(ctx, r, reconcile.Options{Engine: e.Engine, Format: engine.Parquet, OutDir: out, TempDir: e.TempDir,
		LeftRead: read[pipeline.SideName(kallav1.Side_SIDE_LEFT)], RightRead: read[pipeline.SideName(kallav1.Side_SIDE_RIGHT)]})
	reconciled := time.Now()
	if err := pipeline.Watch(context.WithoutCancel(ctx), e.Store, run.ID)(); err != nil {
		return err
	}
	if reconcile.IsBadInput(err) {
		return queue.Poison(engine.MarkBadInput(err))
	}
	if err != nil {
		return err
	}
	uris, err := e.publish(ctx, run.ID, out)
	if err != nil {
		return err
	}
	e.log().Info("run executed", "run_id", run.ID, "fetch", fetched.Sub(start), "reconcile", reconciled.Sub(fetched),
		"publish", time.Since(reconciled), "match_groups", sum.MatchGroups)
	return e.complete(ctx, run.ID, sum, uris)
}

func (e *Executor) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// fetchSources points each side of the recipe at a local copy: staged
// Parquet parts and s3:// objects (or the objects a pattern names) are
// downloaded, the sides at once, file:// used in place.
func (e *Executor) fetchSources(ctx context.Context, r *kallav1.Recipe, exec *kallav1.Exec, work string) error {
	bySide := map[kallav1.Side]*kallav1.Source{}
	for _, s := range pipeline.Sides(r) {
		bySide[s.Side] = s.Source
	}
	staged := exec.GetSources()
	var uris, dirs []string
	for _, st := range staged {
		if bySide[st.GetSide()] == nil {
			return queue.Poison(fmt.Errorf("exec job names side %v, which the recipe lacks", st.GetSide()))
		}
		if uri := st.GetUri(); !strings.HasPrefix(uri, "file://") && !strings.HasPrefix(uri, "s3://") {
			return queue.Poison(fmt.Errorf("source %s: the executor cannot read %q: only file:// and s3:// sources reach it", st.GetAlias(), uri))
		}
		uris, dirs = append(uris, st.GetUri()), append(dirs, filepath.Join(work, pipeline.SideName(st.GetSide())))
	}
	locals, errs := pipeline.FetchEach(ctx, uris, dirs, e.S3)
	for i, st := range staged {
		if errs[i] != nil {
			return fmt.Errorf("source %s: %w", st.GetAlias(), errs[i]) // the left side's first
		}
		bySide[st.GetSide()].Uri = locals[i]
	}
	return nil
}

// watchCancel cancels ctx once the run is cancelled or failed elsewhere,
// so a long reconciliation stops instead of finishing for nobody.
func (e *Executor) watchCancel(ctx context.Context, runID string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	check := pipeline.Watch(ctx, e.Store, runID)
	go func() {
		t := time.NewTicker(e.CancelPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if errors.Is(check(), pipeline.ErrCancelled) {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, cancel
}

// publish uploads the evidence under <run>/ in the evidence store, the
// summary last, so a summary only ever stands beside complete evidence.
func (e *Executor) publish(ctx context.Context, runID, dir string) (evidence.URIs, error) {
	var names []string
	for _, n := range engine.EvidenceFiles {
		names = append(names, engine.Parquet.File(n))
	}
	names = append(names, evidence.SummaryFile)
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = runID + "/" + n
		if err := e.Evidence.PutFile(ctx, keys[i], filepath.Join(dir, n)); err != nil {
			return evidence.URIs{}, err
		}
	}
	return evidence.URIs{
		Matched: e.Evidence.URI(keys[0]), UnmatchedLeft: e.Evidence.URI(keys[1]),
		UnmatchedRight: e.Evidence.URI(keys[2]), Summary: e.Evidence.URI(keys[3]),
	}, nil
}

func (e *Executor) complete(ctx context.Context, runID string, sum *evidence.Summary, uris evidence.URIs) error {
	s, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	u, err := json.Marshal(uris)
	if err != nil {
		return err
	}
	return e.Store.CompleteRun(ctx, runID, s, u)
}
