// Command planner serves Kalla's API: RunService and RecipeService over
// Connect, gRPC and gRPC-Web on KALLA_HTTP_ADDR, with signed evidence
// downloads at /evidence/ and the embedded web page at /, and /health,
// /ready and /metrics on KALLA_METRICS_ADDR. CreateRun validates a recipe against its
// sources, records the run and its jobs in PostgreSQL with an outbox, and
// publishes them on NATS JetStream.
//
// Settings (environment):
//
//	KALLA_DATABASE_URL   PostgreSQL URL (required)
//	KALLA_NATS_URL       NATS URL (required)
//	KALLA_HTTP_ADDR      API address, default :8080
//	KALLA_METRICS_ADDR   /health, /ready, /metrics address, default :9090
//	KALLA_API_TOKENS     comma-separated bearer tokens; unset: no auth
//	KALLA_RUN_TIMEOUT    a run's total time limit, default 2h
//	KALLA_EVIDENCE_CACHE_MB  local disk for evidence files that ListMatches
//	                     and ListUnmatched page through, and for the Excel
//	                     workbooks of downloads, default 1024
//	KALLA_WORKBOOK_CONVERSIONS  Excel workbooks written at once for
//	                     downloads, default half the CPUs (at least 1)
//	AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
//	KALLA_S3_PATH_STYLE  the S3 client that reads evidence for ListMatches,
//	                     ListUnmatched and the /evidence/ downloads
//
// Bad settings stop it with exit code 2 and a message naming each one.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/service"
	"github.com/kallahq/kalla/libs/settings"
	"github.com/kallahq/kalla/services/planner/internal/api"
)

// config is the planner's settings, read from KALLA_* variables.
type config struct {
	service.Settings
	HTTPAddr   string
	Tokens     []string
	RunTimeout time.Duration
	CacheMB    int
	// Conversions is api.Config.WorkbookConversions; 0 takes its default.
	Conversions int
	ObjStore    objstore.Config
}

// loadConfig reads every setting and reports every problem at once.
func loadConfig() (config, error) {
	var r settings.Reader
	c := config{
		Settings:    service.ReadSettings(&r),
		HTTPAddr:    r.String("KALLA_HTTP_ADDR", ":8080"),
		RunTimeout:  r.Duration("KALLA_RUN_TIMEOUT", 2*time.Hour),
		CacheMB:     r.Int("KALLA_EVIDENCE_CACHE_MB", 1024),
		Conversions: r.Int("KALLA_WORKBOOK_CONVERSIONS", 0),
	}
	service.CheckAddr(&r, "KALLA_HTTP_ADDR", c.HTTPAddr)
	for _, t := range strings.Split(os.Getenv("KALLA_API_TOKENS"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.Tokens = append(c.Tokens, t)
		}
	}
	var err error
	if c.ObjStore, err = objstore.ConfigFromEnv(); err != nil {
		r.Fail("KALLA_S3_PATH_STYLE or AWS_ENDPOINT_URL", "%v", err)
	}
	return c, r.Err()
}

func main() {
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "planner: bad settings:\n%v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "planner: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	base, err := service.Start(ctx, "planner", cfg.Settings)
	if err != nil {
		return err
	}
	defer base.Close()
	log := base.Log
	srv := api.New(api.Config{
		Pool: base.Pool, Publisher: queue.NewPublisher(base.JS), Log: log,
		Tokens: cfg.Tokens, RunTimeout: cfg.RunTimeout, ObjStore: cfg.ObjStore,
		EvidenceCacheBytes: int64(cfg.CacheMB) << 20, WorkbookConversions: cfg.Conversions,
	})
	defer srv.Close()
	apiLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("KALLA_HTTP_ADDR: %w", err)
	}
	log.Info("planner serving", "api", apiLn.Addr().String(), "metrics", cfg.MetricsAddr, "auth", len(cfg.Tokens) > 0)

	errc := make(chan error, 2)
	go func() { errc <- base.ServeHealth(ctx) }()
	httpSrv := api.NewHTTPServer(srv.Handler())
	go func() { errc <- httpSrv.Serve(apiLn) }()

	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	log.Info("planner shutting down")
	srv.Close() // ends WatchRun streams so Shutdown does not wait for them
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := httpSrv.Shutdown(shutdown); serr != nil && err == nil {
		err = serr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
