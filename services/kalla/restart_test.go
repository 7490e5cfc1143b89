package main

import (
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/testenv"
)

// TestRestartsDuringARun restarts NATS and PostgreSQL while a run
// executes: the run must still end, completed with the right counts.
func TestRestartsDuringARun(t *testing.T) {
	t.Parallel()
	pg := testenv.StartPostgres(t)
	db, err := pg.CreateDatabase("kalla")
	if err != nil {
		t.Fatal(err)
	}
	s := startSystemOn(t, db)
	s.start("reaper", "reaper")
	s.start("executor", "executor")
	r, err := recipe.Load(writeLedger(t, 300_000))
	if err != nil {
		t.Fatal(err)
	}
	runID := s.createRun(r)
	s.waitStatus(runID, jobs.RunExecuting, 30*time.Second)
	if err := s.nats.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	run := s.waitRun(runID, 180*time.Second)
	if run.Status != jobs.RunCompleted {
		t.Fatalf("run %s: %s (%s)", runID, run.Status, run.Error)
	}
}
