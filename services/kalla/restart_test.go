package main

import (
	"bytes"
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
	path := writeLedger(t, 300_000)
	r, err := recipe.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	runID := s.createRun(r)
	s.waitStatus(runID, jobs.RunExecuting, 30*time.Second)
	exec := s.services["executor"]
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
	log := readFile(t, exec.log)
	// "job completed" may not be logged yet: the run is marked completed first.
	if cut, done := bytes.Index(log, []byte("nats disconnected")), bytes.Index(log, []byte(`"msg":"job completed"`)); cut < 0 || done >= 0 && done < cut {
		t.Errorf("the executor finished the job before NATS went away; the test proves nothing:\n%s", log)
	}
	s.sameAsReconcile(run, path)
}
