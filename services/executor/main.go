// Command executor takes Exec jobs from the exec stream: it reconciles the
// run's sources (staged Parquet parts and native files) on the configured
// engine and publishes the evidence to the object store.
//
// Settings (environment): KALLA_DATABASE_URL, KALLA_NATS_URL and
// KALLA_STAGING_URI are required; KALLA_EVIDENCE_URI (default: evidence/
// beside the staging prefix), KALLA_METRICS_ADDR, KALLA_SLOTS (default 1),
// KALLA_ENGINE (duckdb), KALLA_THREADS, KALLA_MEMORY_LIMIT, KALLA_TEMP_DIR,
// KALLA_WORKER_ID, KALLA_ACK_WAIT; S3 through AWS_* and KALLA_S3_PATH_STYLE.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/service"
	"github.com/kallahq/kalla/libs/settings"
	"github.com/kallahq/kalla/services/executor/internal/execute"
)

type config struct {
	service.Settings
	evidenceURI string
	slots       int
	threads     int
	memoryLimit string
	tempDir     string
	s3          objstore.Config
}

func readConfig() (config, error) {
	r := &settings.Reader{}
	c := config{Settings: service.ReadSettings(r)}
	staging := r.Required("KALLA_STAGING_URI")
	c.evidenceURI = r.String("KALLA_EVIDENCE_URI", evidenceBeside(staging))
	c.slots = r.Int("KALLA_SLOTS", 1)
	c.threads = r.Int("KALLA_THREADS", runtime.NumCPU())
	c.memoryLimit = r.String("KALLA_MEMORY_LIMIT", "")
	c.tempDir = r.String("KALLA_TEMP_DIR", os.TempDir())
	if e := r.String("KALLA_ENGINE", "duckdb"); e != "duckdb" {
		r.Fail("KALLA_ENGINE", "%q is not available; allowed: duckdb (the ballista engine is not built yet)", e)
	}
	var err error
	if c.s3, err = objstore.ConfigFromEnv(); err != nil {
		r.Fail("S3 settings", "%v", err)
	}
	return c, r.Err()
}

// evidenceBeside turns s3://b/kalla/staging into s3://b/kalla/evidence.
func evidenceBeside(staging string) string {
	staging = strings.TrimSuffix(staging, "/")
	if i := strings.LastIndex(staging, "/"); i > len("s3://") && i < len(staging) {
		return staging[:i] + "/evidence"
	}
	return staging + "/evidence"
}

func main() {
	cfg, err := readConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "executor: bad settings:\n%v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "executor: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	base, err := service.Start(ctx, "executor", cfg.Settings)
	if err != nil {
		return err
	}
	defer base.Close()
	evidenceStore, err := objstore.Open(cfg.evidenceURI, cfg.s3)
	if err != nil {
		return fmt.Errorf("KALLA_EVIDENCE_URI: %w", err)
	}
	exec := &execute.Executor{
		Store:      base.Store,
		Engine:     &duckdb.Engine{Threads: cfg.threads, MemoryLimit: cfg.memoryLimit, TempDir: cfg.tempDir},
		Evidence:   evidenceStore,
		S3:         cfg.s3,
		TempDir:    cfg.tempDir,
		CancelPoll: 2 * time.Second,
		Log:        base.Log,
	}
	runner := &pipeline.Runner{Store: base.Store, WorkerID: base.WorkerID, Metrics: base.Metrics, Log: base.Log, Handle: exec.Handle}
	worker := &queue.Worker{JS: base.JS, Stream: queue.ExecStream, Consumer: queue.ExecConsumer, Slots: cfg.slots,
		Handler: runner.Handler(), Heartbeat: runner.Heartbeat(), Logger: base.Log}
	base.CountMessages(worker)
	base.Log.Info("executor started", "slots", cfg.slots, "evidence", cfg.evidenceURI)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return base.ServeHealth(ctx) })
	g.Go(func() error { return worker.Run(ctx) })
	return g.Wait()
}
