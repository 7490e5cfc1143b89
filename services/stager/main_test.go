package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/queue/queuetest"
	"github.com/kallahq/kalla/libs/testenv"
	"github.com/kallahq/kalla/services/stager/internal/stagetest"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// TestMain removes the stager binary built for the tests.
func TestMain(m *testing.M) {
	testenv.Main(m, func() {
		if built.path != "" {
			os.RemoveAll(filepath.Dir(built.path))
		}
	})
}

var built struct {
	once sync.Once
	path string
	err  error
}

// binary builds the stager once per test binary.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "kalla-stager-bin-*")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "stager")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// environ is the test's environment without KALLA_ and AWS_ settings, plus vars.
func environ(vars ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KALLA_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, vars...)
}

func TestBadSettingsExitTwo(t *testing.T) {
	bin := binary(t)
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{
			name: "staging URI missing",
			env:  []string{"KALLA_DATABASE_URL=postgres://kalla@127.0.0.1:1/kalla", "KALLA_NATS_URL=nats://127.0.0.1:1"},
			want: []string{"KALLA_STAGING_URI"},
		},
		{
			name: "everything wrong",
			env:  []string{"KALLA_CHUNK_ROWS=many", "KALLA_MAX_CHUNKS=0", "KALLA_ACK_WAIT=soon", "KALLA_SLOTS=-1"},
			want: []string{"KALLA_DATABASE_URL", "KALLA_NATS_URL", "KALLA_STAGING_URI", "KALLA_CHUNK_ROWS", "KALLA_MAX_CHUNKS", "KALLA_ACK_WAIT", "KALLA_SLOTS"},
		},
		{
			name: "staging URI malformed",
			env:  []string{"KALLA_DATABASE_URL=postgres://kalla@127.0.0.1:1/kalla", "KALLA_NATS_URL=nats://127.0.0.1:1", "KALLA_STAGING_URI=ftp://bucket/x"},
			want: []string{"KALLA_STAGING_URI", "ftp"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = environ(tc.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit: %v, want status 2; stderr:\n%s", err, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not name %s:\n%s", w, stderr.String())
				}
			}
		})
	}
}

// TestServiceStagesRun runs the stager binary against real PostgreSQL,
// NATS and S3: it stages a run's source, enqueues the exec job, serves
// /ready and /metrics, and stops cleanly on SIGTERM.
func TestServiceStagesRun(t *testing.T) {
	const n = 10000
	ctx := context.Background()
	srcURI, _ := stagetest.Source(t, n)
	stateURL := testenv.Postgres(t)
	natsURL := testenv.NATS(t).URL()
	s3 := testenv.S3(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()

	cmd := exec.Command(binary(t))
	cmd.Env = environ(
		"KALLA_DATABASE_URL="+stateURL,
		"KALLA_NATS_URL="+natsURL,
		"KALLA_STAGING_URI=s3://"+s3.Bucket+"/staging",
		"KALLA_METRICS_ADDR="+metricsAddr,
		"KALLA_CHUNK_ROWS=2000",
		"KALLA_ACK_WAIT=10s",
		"AWS_ENDPOINT_URL="+s3.Endpoint,
		"AWS_ACCESS_KEY_ID="+s3.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+s3.SecretKey,
		"AWS_REGION="+s3.Region,
		"KALLA_S3_PATH_STYLE=true",
	)
	var logs testenv.Buffer // written by exec's copying goroutine while the test reads it
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("stager logs:\n%s", logs.String())
		}
	}()

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + metricsAddr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if code, _ := get("/ready"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stager never became ready")
		}
	}

	// The stager migrated the state database; play the planner: create a
	// run and publish its outbox.
	store, _ := stateStore(t, stateURL)
	runID, _ := stagetest.CreateRun(t, store, stagetest.Recipe(t, srcURI))
	publish(t, store, natsURL)
	var run jobs.Run
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if run, err = store.GetRun(ctx, runID); err != nil {
			t.Fatal(err)
		}
		if run.ExecEnqueued || run.Status == jobs.RunFailed || time.Now().After(deadline) {
			break
		}
	}
	if !run.ExecEnqueued || run.ChunksTotal < 5 || run.ChunksStaged != run.ChunksTotal || run.RowsStaged != n {
		t.Fatalf("run %s (%s): exec enqueued %t, %d of %d chunks, %d rows staged; want %d rows in several chunks",
			run.Status, run.Error, run.ExecEnqueued, run.ChunksStaged, run.ChunksTotal, run.RowsStaged, n)
	}
	staging, err := objstore.Open("s3://"+s3.Bucket+"/staging", objstore.Config{
		Endpoint: s3.Endpoint, AccessKeyID: s3.AccessKey, SecretAccessKey: s3.SecretKey, Region: s3.Region, PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := staging.List(ctx, pipeline.StagingPrefix(runID, kallav1.Side_SIDE_LEFT))
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != run.ChunksTotal {
		t.Errorf("%d parts for %d chunks", len(parts), run.ChunksTotal)
	}
	_, metrics := get("/metrics")
	if !strings.Contains(metrics, fmt.Sprintf("kalla_worker_rows_processed_total %d", n)) {
		t.Errorf("/metrics does not count %d rows processed", n)
	}
	// A message is acked after its job is recorded, so wait for the acks.
	acked := fmt.Sprintf(`kalla_queue_messages_total{outcome="completed",type="stage_chunk"} %d`, run.ChunksTotal)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(metrics, acked); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("/metrics lacks %s", acked)
			break
		}
		_, metrics = get("/metrics")
	}
	if strings.Contains(logs.String(), "postgres://kalla@") {
		t.Errorf("the logs show a source DSN")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("after SIGTERM: %v, want exit status 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("the stager did not stop within 30s of SIGTERM")
	}
}

func stateStore(t *testing.T, url string) (*jobs.Store, error) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return jobs.New(pool), nil
}

func publish(t *testing.T, store *jobs.Store, natsURL string) {
	t.Helper()
	_, js := queuetest.Connect(t, natsURL)
	if _, err := pipeline.Dispatch(context.Background(), store, queue.NewPublisher(js)); err != nil {
		t.Fatal(err)
	}
}
