package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
)

// TestExecutorMatchesReconcile runs a native (CSV) run through the executor
// and reaper processes and expects exactly the evidence `kalla reconcile`
// writes for the same recipe.
func TestExecutorMatchesReconcile(t *testing.T) {
	t.Parallel()
	s := startSystem(t)
	s.start("reaper", "reaper")
	s.start("executor", "executor")
	r, err := recipe.Load(example(t))
	if err != nil {
		t.Fatal(err)
	}
	runID := s.createRun(r)
	run := s.waitRun(runID, 60*time.Second)
	if run.Status != jobs.RunCompleted {
		t.Fatalf("run %s: %s (%s)", runID, run.Status, run.Error)
	}

	local := t.TempDir()
	want, err := reconcile.Run(context.Background(), r, reconcile.Options{Engine: &duckdb.Engine{Threads: 2}, Format: engine.Parquet, OutDir: local})
	if err != nil {
		t.Fatal(err)
	}
	var got evidence.Summary
	if err := json.Unmarshal(run.Summary, &got); err != nil {
		t.Fatal(err)
	}
	if got.MatchGroups != want.MatchGroups || got.Left != want.Left || got.Right != want.Right {
		t.Errorf("pipeline summary %+v, reconcile %+v", got, want)
	}
	var uris evidence.URIs
	if err := json.Unmarshal(run.Evidence, &uris); err != nil {
		t.Fatal(err)
	}
	for file, uri := range map[string]string{"matched.parquet": uris.Matched, "unmatched_left.parquet": uris.UnmatchedLeft, "unmatched_right.parquet": uris.UnmatchedRight} {
		if !bytes.Equal(s.object(uri), readFile(t, filepath.Join(local, file))) {
			t.Errorf("%s from the pipeline differs from kalla reconcile's", file)
		}
	}
}

// createRun records an all-native run the way the planner does (run, exec
// job and outbox in one transaction); the reaper publishes the outbox.
func (s *system) createRun(r *kallav1.Recipe) string {
	s.t.Helper()
	ctx := context.Background()
	text, err := recipe.Marshal(r)
	if err != nil {
		s.t.Fatal(err)
	}
	pb, err := proto.Marshal(r)
	if err != nil {
		s.t.Fatal(err)
	}
	job, err := pipeline.ExecJob(ctx, r, "", "")
	if err != nil {
		s.t.Fatal(err)
	}
	runID, err := s.store.CreateRun(ctx, jobs.NewRun{RecipeID: r.GetRecipeId(), RecipeText: string(text), Recipe: pb, Deadline: time.Now().Add(time.Hour), Jobs: []jobs.NewJob{job}})
	if err != nil {
		s.t.Fatal(err)
	}
	return runID
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// object downloads an object of the system's S3 by URI.
func (s *system) object(uri string) []byte {
	s.t.Helper()
	cfg := s.s3.Config()
	dir, key := uri[:strings.LastIndex(uri, "/")], uri[strings.LastIndex(uri, "/")+1:]
	store, err := objstore.Open(dir, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	rc, err := store.Open(context.Background(), key)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}
