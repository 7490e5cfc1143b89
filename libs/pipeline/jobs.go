package pipeline

import (
	"context"
	"fmt"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/source"
)

// Sides lists a recipe's sources with their side.
func Sides(r *kallav1.Recipe) []struct {
	Side   kallav1.Side
	Source *kallav1.Source
} {
	return []struct {
		Side   kallav1.Side
		Source *kallav1.Source
	}{{kallav1.Side_SIDE_LEFT, r.GetSources().GetLeft()}, {kallav1.Side_SIDE_RIGHT, r.GetSources().GetRight()}}
}

// SideName is "left" or "right", as job records and staging keys name it.
func SideName(s kallav1.Side) string {
	if s == kallav1.Side_SIDE_RIGHT {
		return "right"
	}
	return "left"
}

// StagingPrefix is where a staged source's Parquet parts go, relative to
// the staging root: <run>/<side>/.
func StagingPrefix(runID string, side kallav1.Side) string {
	return fmt.Sprintf("%s/%s/", runID, SideName(side))
}

// PartKey is the deterministic key of one chunk, so a retried chunk
// overwrites its part instead of adding one.
func PartKey(runID string, side kallav1.Side, chunk int) string {
	return fmt.Sprintf("%spart-%05d.parquet", StagingPrefix(runID, side), chunk)
}

// ExecJob is the job that reconciles a run once its sources are ready:
// native sources are read where they are, staged ones from stagingRoot
// (the staging store's URI of its root, ending in "/").
func ExecJob(ctx context.Context, r *kallav1.Recipe, stagingRoot, runID string) (jobs.NewJob, error) {
	exec := &kallav1.Exec{}
	for _, s := range Sides(r) {
		ref, err := source.Parse(s.Source.GetUri())
		if err != nil {
			return jobs.NewJob{}, err
		}
		uri := s.Source.GetUri()
		if !ref.Native() {
			uri = stagingRoot + StagingPrefix(runID, s.Side)
		}
		exec.Sources = append(exec.Sources, &kallav1.StagedSource{Side: s.Side, Alias: s.Source.GetAlias(), Uri: uri})
	}
	return NewJob(ctx, jobs.TypeExec, &kallav1.JobEnvelope{Job: &kallav1.JobEnvelope_Exec{Exec: exec}})
}

// NewJob wraps an envelope as a job record; the store fills in the job id,
// run id and attempt of the envelope.
func NewJob(ctx context.Context, typ string, env *kallav1.JobEnvelope) (jobs.NewJob, error) {
	id := jobs.NewID()
	env.JobId = id
	payload, err := queue.Marshal(ctx, env)
	if err != nil {
		return jobs.NewJob{}, err
	}
	return jobs.NewJob{ID: id, Type: typ, Subject: queue.SubjectFor(env), Payload: payload}, nil
}
