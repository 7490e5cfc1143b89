// Package stage runs the stager's jobs: StagePlan counts a PostgreSQL
// source and cuts it into block-range chunks; StageChunk extracts one chunk
// to Parquet, uploads it at its deterministic key and records it, and the
// chunk that completes the run enqueues the exec job.
//
// Every handler is idempotent. A plan is saved in the staging store before
// its chunk jobs are added, and a plan that runs again reuses it, so its
// chunk jobs (whose ids derive from the plan job's id and the chunk index)
// are the same; a chunk that runs again before it was recorded overwrites
// its part, and once recorded is not read again. Chunks read the plan's
// snapshot of the source (snapshot.go).
package stage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/telemetry"
	"github.com/kallahq/kalla/services/stager/internal/extract"
)

// Stager holds what the stage handlers need.
type Stager struct {
	Store   *jobs.Store
	Staging objstore.Store
	// Publisher publishes the outbox right after a handler's writes; nil
	// leaves that to the reaper.
	Publisher *queue.Publisher
	Metrics   *telemetry.Metrics // nil: no metrics
	Log       *slog.Logger       // nil: slog.Default()
	ChunkRows int                // target rows per chunk; default 250000
	MaxChunks int                // most chunks per source; default 64
	TempDir   string             // for chunk files; "" means os.TempDir()
}

// Handle is the pipeline.Handle of the stager: it runs StagePlan and
// StageChunk jobs and refuses anything else as poison.
func (s *Stager) Handle(ctx context.Context, job jobs.Job, env *kallav1.JobEnvelope) error {
	switch j := env.GetJob().(type) {
	case *kallav1.JobEnvelope_StagePlan:
		return s.Plan(ctx, job.ID, env.GetRunId(), j.StagePlan)
	case *kallav1.JobEnvelope_StageChunk:
		return s.Chunk(ctx, job.ID, env.GetRunId(), j.StageChunk)
	}
	return queue.Poison(fmt.Errorf("the stager does not run %s jobs", queue.Kind(env)))
}

func (s *Stager) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// savedPlan is a stage plan as kept in the staging store: the source's
// schema, read once, and its chunks. Nothing secret: no DSN.
type savedPlan struct {
	Table  string        `json:"table"`
	Rows   int64         `json:"rows"`
	Pages  int64         `json:"pages"`
	Schema source.Schema `json:"schema"`
	// Chunks are block ranges of the table, or of a partitioned table's
	// leaves (each naming its leaf).
	Chunks []extract.Blocks `json:"chunks"`
	// KeyChunks replace Chunks for a source that is not cut by pages (a
	// view, a partitioned table whose leaves cannot be read directly):
	// ranges of its key.
	KeyChunks []extract.Keys `json:"key_chunks,omitempty"`
	// Snapshot identifies the plan's exported snapshot, which the chunks
	// import while the plan's stager holds it; "" if none was exported.
	Snapshot string `json:"snapshot,omitempty"`
	// Keep is the condition of the source's filter the chunks have the
	// database check (see sqlplan.PostgresWhere); "" stages every row.
	Keep string `json:"keep,omitempty"`
}

// ranges are the plan's chunks, whichever kind they are.
func (p savedPlan) ranges() []extract.Range {
	var out []extract.Range
	for _, k := range p.KeyChunks {
		out = append(out, k)
	}
	for _, b := range p.Chunks {
		out = append(out, b)
	}
	return out
}

// PlanKey is where the stage plan of a run's side is saved, beside (not
// inside) the side's directory of parts, so readers of the parts never see it.
func PlanKey(runID string, side kallav1.Side) string {
	return fmt.Sprintf("%s/_plan/%s.json", runID, pipeline.SideName(side))
}

func (s *Stager) loadPlan(ctx context.Context, runID string, side kallav1.Side) (savedPlan, bool, error) {
	r, err := s.Staging.Open(ctx, PlanKey(runID, side))
	if errors.Is(err, objstore.ErrNotFound) {
		return savedPlan{}, false, nil
	}
	if err != nil {
		return savedPlan{}, false, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return savedPlan{}, false, err
	}
	var p savedPlan
	if err := json.Unmarshal(b, &p); err != nil {
		return savedPlan{}, false, queue.Poison(fmt.Errorf("stage plan %s is damaged: %w", PlanKey(runID, side), err))
	}
	return p, true, nil
}

func (s *Stager) savePlan(ctx context.Context, runID string, side kallav1.Side, p savedPlan) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.Staging.Put(ctx, PlanKey(runID, side), bytes.NewReader(b))
}

// stagedSource is one side of a run as the stager sees it.
type stagedSource struct {
	run    jobs.Run
	recipe *kallav1.Recipe
	source *kallav1.Source
	ref    source.Ref
}

// loadSource reads the run and finds the source of side in its recipe. The
// source URI (with its credentials) comes from PostgreSQL, never the queue.
func (s *Stager) loadSource(ctx context.Context, runID string, side kallav1.Side) (stagedSource, error) {
	run, err := s.Store.GetRun(ctx, runID)
	if errors.Is(err, jobs.ErrNotFound) {
		return stagedSource{}, queue.Poison(err)
	}
	if err != nil {
		return stagedSource{}, err
	}
	var recipe kallav1.Recipe
	if err := proto.Unmarshal(run.Recipe, &recipe); err != nil {
		return stagedSource{}, queue.Poison(fmt.Errorf("run %s: recipe is not a kalla.v1.Recipe: %w", runID, err))
	}
	var src *kallav1.Source
	for _, sd := range pipeline.Sides(&recipe) {
		if sd.Side == side {
			src = sd.Source
		}
	}
	if src == nil || src.GetUri() == "" {
		return stagedSource{}, queue.Poison(fmt.Errorf("run %s: the recipe has no %s source", runID, side))
	}
	ref, err := source.Parse(src.GetUri())
	if err != nil {
		return stagedSource{}, queue.Poison(err)
	}
	if ref.Format != source.FormatPostgres {
		return stagedSource{}, queue.Poison(fmt.Errorf("run %s: the %s source %s is %s, which is read as it is, not staged", runID, pipeline.SideName(side), ref, ref.Format))
	}
	return stagedSource{run: run, recipe: &recipe, source: src, ref: ref}, nil
}

// execJob is the run's exec job: staged sources are read from the staging
// root.
func (s *Stager) execJob(ctx context.Context, recipe *kallav1.Recipe, runID string) (jobs.NewJob, error) {
	root := strings.TrimRight(s.Staging.URI(""), "/") + "/"
	nj, err := pipeline.ExecJob(ctx, recipe, root, runID)
	if err != nil {
		return jobs.NewJob{}, queue.Poison(err)
	}
	return nj, nil
}

// dispatch publishes the outbox now; what fails is left to the reaper.
func (s *Stager) dispatch(ctx context.Context, log *slog.Logger) {
	if s.Publisher == nil {
		return
	}
	if _, err := pipeline.Dispatch(context.WithoutCancel(ctx), s.Store, s.Publisher); err != nil {
		log.Warn("publishing the outbox failed; the reaper will publish what is left", "error", err)
	}
}

func (s *Stager) chunkRows() int {
	if s.ChunkRows > 0 {
		return s.ChunkRows
	}
	return 250000
}

func (s *Stager) maxChunks() int {
	if s.MaxChunks > 0 {
		return s.MaxChunks
	}
	return 64
}
