// Command planner serves Kalla's API: RunService and RecipeService over
// Connect, gRPC and gRPC-Web on KALLA_HTTP_ADDR, and /health, /ready and
// /metrics on KALLA_METRICS_ADDR. CreateRun validates a recipe against its
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
//	AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
//	KALLA_S3_PATH_STYLE  the S3 client that reads evidence for ListMatches
//	                     and ListUnmatched
//
// Bad settings stop it with exit code 2 and a message naming each one.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/settings"
	"github.com/kallahq/kalla/libs/telemetry"
	"github.com/kallahq/kalla/services/planner/internal/api"
)

// config is the planner's settings, read from KALLA_* variables.
type config struct {
	DatabaseURL string
	NATSURL     string
	HTTPAddr    string
	MetricsAddr string
	Tokens      []string
	RunTimeout  time.Duration
	ObjStore    objstore.Config
}

// loadConfig reads every setting and reports every problem at once.
func loadConfig() (config, error) {
	var r settings.Reader
	c := config{
		DatabaseURL: r.Required("KALLA_DATABASE_URL"),
		NATSURL:     r.Required("KALLA_NATS_URL"),
		HTTPAddr:    r.String("KALLA_HTTP_ADDR", ":8080"),
		MetricsAddr: r.String("KALLA_METRICS_ADDR", ":9090"),
		RunTimeout:  r.Duration("KALLA_RUN_TIMEOUT", 2*time.Hour),
	}
	if c.DatabaseURL != "" {
		if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
			r.Fail("KALLA_DATABASE_URL", "not a PostgreSQL URL (postgres://user:pass@host:port/db)")
		}
	}
	if c.NATSURL != "" && !strings.Contains(c.NATSURL, "://") {
		r.Fail("KALLA_NATS_URL", "%q is not a URL such as nats://host:4222", c.NATSURL)
	}
	for _, name := range []string{"KALLA_HTTP_ADDR", "KALLA_METRICS_ADDR"} {
		if _, _, err := net.SplitHostPort(r.String(name, ":0")); err != nil {
			r.Fail(name, "%q is not an address such as :8080 or 127.0.0.1:8080", os.Getenv(name))
		}
	}
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
	log := telemetry.Logger("planner")
	slog.SetDefault(log)
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "planner: bad settings:\n%v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("planner stopped", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer pool.Close()
	if err := migrate(ctx, pool, log); err != nil {
		return err
	}
	nc, err := queue.Connect(cfg.NATSURL, nats.Name("kalla-planner"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	setupCtx, cancel := context.WithTimeout(ctx, time.Minute)
	err = queue.Setup(setupCtx, js, queue.Config{})
	cancel()
	if err != nil {
		return err
	}

	metrics := telemetry.NewMetrics()
	checks := []telemetry.Check{
		{Name: "postgresql", Ping: pool.Ping},
		{Name: "nats", Ping: func(context.Context) error {
			if s := nc.Status(); s != nats.CONNECTED {
				return fmt.Errorf("connection is %s", s)
			}
			return nil
		}},
	}
	srv := api.New(api.Config{
		Pool: pool, Publisher: queue.NewPublisher(js), Log: log,
		Tokens: cfg.Tokens, RunTimeout: cfg.RunTimeout, ObjStore: cfg.ObjStore,
	})
	defer srv.Close()

	apiLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("KALLA_HTTP_ADDR: %w", err)
	}
	metricsLn, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		apiLn.Close()
		return fmt.Errorf("KALLA_METRICS_ADDR: %w", err)
	}
	log.Info("planner serving", "api", apiLn.Addr().String(), "metrics", metricsLn.Addr().String(), "auth", len(cfg.Tokens) > 0)

	errc := make(chan error, 2)
	go func() {
		errc <- telemetry.ServeListener(ctx, metricsLn, telemetry.Handler(metrics.Registry, checks...))
	}()
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

// migrate applies the schema migrations, retrying while the database is
// still starting.
func migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := jobs.Migrate(ctx, pool)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("database: %w", err)
		}
		log.Warn("database not ready; retrying", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}
