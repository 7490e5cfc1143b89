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
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/settings"
	"github.com/kallahq/kalla/libs/telemetry"
	"github.com/kallahq/kalla/services/stager/internal/stage"
)

type config struct {
	databaseURL string
	natsURL     string
	staging     objstore.Store
	metricsAddr string
	chunkRows   int
	maxChunks   int
	slots       int
	workerID    string
	ackWait     time.Duration
}

func main() {
	os.Exit(run())
}

func run() int {
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stager: bad settings:\n%v\n", err)
		return 2
	}
	log := telemetry.Logger("stager").With("worker_id", cfg.workerID)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	shutdownTracing, err := telemetry.Tracing(ctx, "stager")
	if err != nil {
		log.Error("tracing", "error", err)
		return 1
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(ctx); err != nil {
			log.Warn("flushing traces", "error", err)
		}
	}()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("stager stopped", "error", err)
		return 1
	}
	log.Info("stager stopped")
	return 0
}

// loadConfig reads every setting and reports every problem at once.
func loadConfig() (config, error) {
	var r settings.Reader
	host, _ := os.Hostname()
	if host == "" {
		host = "stager"
	}
	c := config{
		databaseURL: r.Required("KALLA_DATABASE_URL"),
		natsURL:     r.Required("KALLA_NATS_URL"),
		metricsAddr: r.String("KALLA_METRICS_ADDR", ":9090"),
		chunkRows:   r.Int("KALLA_CHUNK_ROWS", 250000),
		maxChunks:   r.Int("KALLA_MAX_CHUNKS", 64),
		slots:       r.Int("KALLA_SLOTS", 2),
		workerID:    r.String("KALLA_WORKER_ID", fmt.Sprintf("%s-%d", host, os.Getpid())),
		ackWait:     r.Duration("KALLA_ACK_WAIT", 30*time.Second),
	}
	stagingURI := r.Required("KALLA_STAGING_URI")
	if c.databaseURL != "" {
		if _, err := pgxpool.ParseConfig(c.databaseURL); err != nil {
			r.Fail("KALLA_DATABASE_URL", "not a valid PostgreSQL connection URL")
		}
	}
	if c.natsURL != "" && !strings.Contains(c.natsURL, "://") {
		r.Fail("KALLA_NATS_URL", "%q: want nats://host:port", c.natsURL)
	}
	if _, _, err := net.SplitHostPort(c.metricsAddr); err != nil {
		r.Fail("KALLA_METRICS_ADDR", "%q: want host:port or :port", c.metricsAddr)
	}
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

func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pool, err := pgxpool.New(ctx, cfg.databaseURL)
	if err != nil {
		return fmt.Errorf("KALLA_DATABASE_URL: %w", err)
	}
	defer pool.Close()
	if err := retry(ctx, log, "migrate the database", func() error { return jobs.Migrate(ctx, pool) }); err != nil {
		return err
	}
	nc, err := queue.Connect(cfg.natsURL, nats.Name("kalla-stager "+cfg.workerID))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if err := retry(ctx, log, "set up the job streams", func() error {
		return queue.Setup(ctx, js, queue.Config{AckWait: cfg.ackWait})
	}); err != nil {
		return err
	}

	metrics := telemetry.NewMetrics()
	ln, err := net.Listen("tcp", cfg.metricsAddr)
	if err != nil {
		return fmt.Errorf("KALLA_METRICS_ADDR: %w", err)
	}
	httpDone := make(chan error, 1)
	go func() {
		httpDone <- telemetry.ServeListener(ctx, ln, telemetry.Handler(metrics.Registry,
			telemetry.Check{Name: "postgresql", Ping: pool.Ping},
			telemetry.Check{Name: "nats", Ping: func(context.Context) error {
				if s := nc.Status(); s != nats.CONNECTED {
					return fmt.Errorf("connection is %s", s)
				}
				return nil
			}},
		))
	}()

	store := jobs.New(pool)
	stager := &stage.Stager{
		Store:     store,
		Staging:   cfg.staging,
		Publisher: queue.NewPublisher(js),
		Metrics:   metrics,
		Log:       log,
		ChunkRows: cfg.chunkRows,
		MaxChunks: cfg.maxChunks,
	}
	runner := &pipeline.Runner{Store: store, WorkerID: cfg.workerID, Metrics: metrics, Log: log, Handle: stager.Handle}
	worker := &queue.Worker{
		JS:        js,
		Stream:    queue.StageStream,
		Consumer:  queue.StageConsumer,
		Slots:     cfg.slots,
		Handler:   runner.Handler(),
		Heartbeat: runner.Heartbeat(),
		Logger:    log,
	}
	log.Info("stager started", "staging", cfg.staging.URI(""), "metrics", ln.Addr().String(),
		"slots", cfg.slots, "chunk_rows", cfg.chunkRows, "max_chunks", cfg.maxChunks)
	// Run returns once ctx ends (SIGTERM) and every running job has ended
	// its message.
	werr := worker.Run(ctx)
	cancel()
	if herr := <-httpDone; herr != nil && !errors.Is(herr, context.Canceled) {
		log.Warn("metrics server", "error", herr)
	}
	return werr
}

// retry runs fn until it succeeds, for up to a minute, so services started
// together wait for PostgreSQL and NATS.
func retry(ctx context.Context, log *slog.Logger, what string, fn func() error) error {
	deadline := time.Now().Add(time.Minute)
	for delay := 200 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		log.Warn("retrying", "what", what, "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(delay):
		}
	}
}
