package main

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/gen/kalla/v1/kallav1connect"
	"github.com/kallahq/kalla/libs/jobs"
)

// TestCancelRun cancels a run while the executor works on it: the run
// reads cancelled, the executor stops, and no evidence is recorded.
func TestCancelRun(t *testing.T) {
	t.Parallel()
	s := startSystem(t)
	url := s.startPlanner()
	s.start("reaper", "reaper")
	exec := s.start("executor", "executor")
	path := writeLedger(t, 600_000)
	runID := s.submit(url, path)
	s.waitClaim(runID, "executor", jobs.TypeExec, 60*time.Second)

	client := kallav1connect.NewRunServiceClient(http.DefaultClient, url)
	req := connect.NewRequest(&kallav1.CancelRunRequest{RunId: runID})
	req.Header().Set("Authorization", "Bearer "+apiToken)
	resp, err := client.CancelRun(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Msg.GetRun().GetStatus(); got != kallav1.RunStatus_RUN_STATUS_CANCELLED {
		t.Fatalf("CancelRun returned %v", got)
	}
	run := s.waitRun(runID, 10*time.Second)
	if run.Status != jobs.RunCancelled || len(run.Evidence) > 0 && string(run.Evidence) != "null" {
		t.Errorf("run after cancel: %s, evidence %s", run.Status, run.Evidence)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !bytes.Contains(readFile(t, exec.log), []byte("its run was cancelled")) {
		if time.Now().After(deadline) {
			t.Fatalf("the executor never stopped the cancelled job:\n%s", readFile(t, exec.log))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
