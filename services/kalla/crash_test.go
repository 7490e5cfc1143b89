package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/recipe"
)

// TestExecutorKilledMidRun kills an executor with SIGKILL while it
// reconciles; another executor takes the job over after AckWait and the run
// completes with the same evidence as kalla reconcile.
func TestExecutorKilledMidRun(t *testing.T) {
	t.Parallel()
	s := startSystem(t)
	s.start("reaper", "reaper")
	first := s.start("executor-1", "executor")
	path := writeLedger(t, 400_000)
	r, err := recipe.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	runID := s.createRun(r)
	s.waitStatus(runID, jobs.RunExecuting, 30*time.Second)
	time.Sleep(300 * time.Millisecond)
	first.kill()
	s.start("executor-2", "executor")
	run := s.waitRun(runID, 120*time.Second)
	if run.Status != jobs.RunCompleted {
		t.Fatalf("run %s: %s (%s)", runID, run.Status, run.Error)
	}
	if log := readFile(t, first.log); bytes.Contains(log, []byte("job completed")) {
		t.Fatalf("executor-1 finished the job before it was killed; the test proves nothing:\n%s", log)
	}
	s.sameAsReconcile(run, path)
}

// TestFailingJobFailsTheRun gives the executor a source that can never be
// read: the job is retried up to its attempts, then it and its run fail
// with the reason.
func TestFailingJobFailsTheRun(t *testing.T) {
	t.Parallel()
	s := startSystem(t)
	s.start("reaper", "reaper")
	s.start("executor", "executor")
	r, err := recipe.Load(example(t))
	if err != nil {
		t.Fatal(err)
	}
	r.Sources.Right.Uri = "s3://" + s.s3.Bucket + "/nowhere/payments.csv"
	runID := s.createRun(r)
	run := s.waitRun(runID, 90*time.Second)
	if run.Status != jobs.RunFailed || !strings.Contains(run.Error, "after 2 attempts") || !strings.Contains(run.Error, "payments") {
		t.Fatalf("run %s: status %s, error %q; want failed after 2 attempts naming the source", runID, run.Status, run.Error)
	}
}

func (s *system) waitStatus(runID, status string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if r, err := s.store.GetRun(context.Background(), runID); err == nil && r.Status == status {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("run %s never reached %s", runID, status)
}

// writeLedger writes n invoices and their payments (most exact, some off
// by cents, some missing) and a recipe over them; it returns the recipe.
func writeLedger(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var inv, pay strings.Builder
	inv.WriteString("invoice_id,amount\n")
	pay.WriteString("payment_id,reference,paid\n")
	for i := 0; i < n; i++ {
		cents := 100 + rng.IntN(10_000_000)
		fmt.Fprintf(&inv, "INV-%07d,%d.%02d\n", i, cents/100, cents%100)
		if rng.IntN(10) < 8 {
			cents += rng.IntN(3)
			fmt.Fprintf(&pay, "PAY-%07d,INV-%07d,%d.%02d\n", i, i, cents/100, cents%100)
		}
	}
	files := map[string]string{"invoices.csv": inv.String(), "payments.csv": pay.String(), "recipe.yaml": `
recipe_id: ledger
sources:
  left: {alias: invoices, uri: "file://invoices.csv", primary_key: [invoice_id]}
  right: {alias: payments, uri: "file://payments.csv", primary_key: [payment_id]}
match_rules:
  - name: exact
    pattern: "1:1"
    conditions: [{left: invoice_id, op: eq, right: reference}, {left: amount, op: tolerance, right: paid, threshold: 0.01}]
`}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "recipe.yaml")
}
