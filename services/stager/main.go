// Command stager is Kalla's staging service. It takes StagePlan jobs (count
// a PostgreSQL source and cut it into block-range chunks) and StageChunk
// jobs (extract one chunk to Parquet and upload it to the staging store)
// from the stage stream, and enqueues the run's exec job when its last
// chunk lands.
//
// Settings (environment):
//
//	KALLA_DATABASE_URL  PostgreSQL of Kalla's state (required)
//	KALLA_NATS_URL      NATS with JetStream (required)
//	KALLA_STAGING_URI   s3://bucket/prefix or file:///dir (required)
//	KALLA_METRICS_ADDR  /health, /ready and /metrics (default :9090)
//	KALLA_CHUNK_ROWS    target rows per chunk (default 250000)
//	KALLA_MAX_CHUNKS    most chunks per source (default 64)
//	KALLA_SLOTS         jobs run at once (default 2)
//	KALLA_WORKER_ID     this worker's name in job claims (default hostname-pid)
//	KALLA_ACK_WAIT      the stage consumer's AckWait (default 30s)
//
// and AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_REGION, KALLA_S3_PATH_STYLE for an s3:// staging store. Bad settings
// stop it with exit status 2 and a message naming each one at fault.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/service"
	"github.com/kallahq/kalla/libs/settings"
	"github.com/kallahq/kalla/services/stager/internal/stage"
)

type config struct {
	service.Settings
	staging   objstore.Store
	chunkRows int
	maxChunks int
	slots     int
}

func main() {
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stager: bad settings:\n%v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "stager: %v\n", err)
		os.Exit(1)
	}
}

// loadConfig reads every setting and reports every problem at once.
func loadConfig() (config, error) {
	var r settings.Reader
	c := config{
		Settings:  service.ReadSettings(&r),
		chunkRows: r.Int("KALLA_CHUNK_ROWS", 250000),
		maxChunks: r.Int("KALLA_MAX_CHUNKS", 64),
		slots:     r.Int("KALLA_SLOTS", 2),
	}
	stagingURI := r.Required("KALLA_STAGING_URI")
	s3cfg, err := objstore.ConfigFromEnv()
	if err != nil {
		r.Fail("S3 settings", "%v", err)
	}
	if stagingURI != "" && err == nil {
		if c.staging, err = objstore.Open(stagingURI, s3cfg); err != nil {
			r.Fail("KALLA_STAGING_URI", "%v", err)
		}
	}
	return c, r.Err()
}

func run(ctx context.Context, cfg config) error {
	base, err := service.Start(ctx, "stager", cfg.Settings)
	if err != nil {
		return err
	}
	defer base.Close()
	stager := &stage.Stager{
		Store:     base.Store,
		Staging:   cfg.staging,
		Publisher: queue.NewPublisher(base.JS),
		Metrics:   base.Metrics,
		Log:       base.Log,
		ChunkRows: cfg.chunkRows,
		MaxChunks: cfg.maxChunks,
	}
	runner := &pipeline.Runner{Store: base.Store, WorkerID: base.WorkerID, Metrics: base.Metrics, Log: base.Log, Handle: stager.Handle}
	worker := &queue.Worker{JS: base.JS, Stream: queue.StageStream, Consumer: queue.StageConsumer, Slots: cfg.slots,
		Handler: runner.Handler(), Heartbeat: runner.Heartbeat(), Logger: base.Log}
	base.CountMessages(worker)
	base.Log.Info("stager started", "staging", cfg.staging.URI(""), "slots", cfg.slots, "chunk_rows", cfg.chunkRows, "max_chunks", cfg.maxChunks)
	// The worker returns once ctx ends (SIGTERM) and every running job has
	// ended its message.
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return base.ServeHealth(ctx) })
	g.Go(func() error { return worker.Run(ctx) })
	return g.Wait()
}
