// Package service starts what every Kalla service needs: its settings, the
// PostgreSQL pool (with migrations applied), NATS with the job streams, and
// the /health, /ready and /metrics server.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/settings"
	"github.com/kallahq/kalla/libs/telemetry"
)

// Base holds the connections and observability of a running service.
type Base struct {
	Name     string
	WorkerID string
	Log      *slog.Logger
	Pool     *pgxpool.Pool
	Store    *jobs.Store
	NATS     *nats.Conn
	JS       jetstream.JetStream
	Metrics  *telemetry.Metrics
	// MetricsAddr serves /health, /ready and /metrics.
	MetricsAddr string
	stopTracing func(context.Context) error
}

// Settings are the ones every service reads.
type Settings struct {
	DatabaseURL, NATSURL, MetricsAddr, WorkerID string
	Queue                                       queue.Config
}

// ReadSettings reads the common settings into r, which collects problems.
func ReadSettings(r *settings.Reader) Settings {
	host, _ := os.Hostname()
	return Settings{
		DatabaseURL: r.Required("KALLA_DATABASE_URL"),
		NATSURL:     r.Required("KALLA_NATS_URL"),
		MetricsAddr: r.String("KALLA_METRICS_ADDR", ":9090"),
		WorkerID:    r.String("KALLA_WORKER_ID", fmt.Sprintf("%s-%d", host, os.Getpid())),
		Queue:       queue.Config{AckWait: r.Duration("KALLA_ACK_WAIT", 30*time.Second)},
	}
}

// Start connects to PostgreSQL and NATS, applies migrations and creates the
// streams and consumers; several services may start together.
func Start(ctx context.Context, name string, s Settings) (*Base, error) {
	b := &Base{Name: name, WorkerID: s.WorkerID, Log: telemetry.Logger(name).With("worker", s.WorkerID), Metrics: telemetry.NewMetrics(), MetricsAddr: s.MetricsAddr}
	var err error
	if b.stopTracing, err = telemetry.Tracing(ctx, name); err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	pool, err := pgxpool.New(ctx, s.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("KALLA_DATABASE_URL: %w", err)
	}
	b.Pool, b.Store = pool, jobs.New(pool)
	if err := jobs.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if b.NATS, err = queue.Connect(s.NATSURL, nats.Name("kalla-"+name)); err != nil {
		pool.Close()
		return nil, fmt.Errorf("KALLA_NATS_URL: %w", err)
	}
	if b.JS, err = jetstream.New(b.NATS); err == nil {
		err = queue.Setup(ctx, b.JS, s.Queue)
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return b, nil
}

// ServeHealth serves /health, /ready (PostgreSQL and NATS reachable) and
// /metrics until ctx ends.
func (b *Base) ServeHealth(ctx context.Context) error {
	h := telemetry.Handler(b.Metrics.Registry,
		telemetry.Check{Name: "postgres", Ping: b.Pool.Ping},
		telemetry.Check{Name: "nats", Ping: func(context.Context) error {
			if st := b.NATS.Status(); st != nats.CONNECTED {
				return fmt.Errorf("nats is %s", st)
			}
			return nil
		}})
	return telemetry.Serve(ctx, b.MetricsAddr, h)
}

// Close releases the connections and flushes traces.
func (b *Base) Close() {
	if b.stopTracing != nil {
		b.stopTracing(context.Background())
	}
	if b.NATS != nil {
		b.NATS.Close()
	}
	b.Pool.Close()
}
