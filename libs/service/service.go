// Package service starts what every Kalla service needs: its settings, the
// PostgreSQL pool (with migrations applied), NATS with the job streams, and
// the /health, /ready and /metrics server.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

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
	s := Settings{
		DatabaseURL: r.Required("KALLA_DATABASE_URL"),
		NATSURL:     r.Required("KALLA_NATS_URL"),
		MetricsAddr: r.String("KALLA_METRICS_ADDR", ":9090"),
		WorkerID:    r.String("KALLA_WORKER_ID", fmt.Sprintf("%s-%d", host, os.Getpid())),
		Queue: queue.Config{
			AckWait:  r.Duration("KALLA_ACK_WAIT", 30*time.Second),
			Replicas: r.Int("KALLA_STREAM_REPLICAS", 1),
		},
	}
	if s.DatabaseURL != "" {
		if _, err := pgxpool.ParseConfig(s.DatabaseURL); err != nil {
			r.Fail("KALLA_DATABASE_URL", "not a PostgreSQL URL (postgres://user:pass@host:port/db)")
		}
	}
	if s.NATSURL != "" && !strings.Contains(s.NATSURL, "://") {
		r.Fail("KALLA_NATS_URL", "%q is not a URL such as nats://host:4222", s.NATSURL)
	}
	CheckAddr(r, "KALLA_METRICS_ADDR", s.MetricsAddr)
	return s
}

// CheckAddr records a problem when addr is not host:port or :port.
func CheckAddr(r *settings.Reader, name, addr string) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		r.Fail(name, "%q is not an address such as :8080 or 127.0.0.1:8080", addr)
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
	if err := retry(ctx, b.Log, "migrate the database", func() error { return jobs.Migrate(ctx, pool) }); err != nil {
		pool.Close()
		return nil, err
	}
	if b.NATS, err = queue.Connect(s.NATSURL, nats.Name("kalla-"+name)); err != nil {
		pool.Close()
		return nil, fmt.Errorf("KALLA_NATS_URL: %w", err)
	}
	if b.JS, err = jetstream.New(b.NATS); err == nil {
		err = retry(ctx, b.Log, "set up the job streams", func() error { return queue.Setup(ctx, b.JS, s.Queue) })
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return b, nil
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

// CountMessages exports how w ended its messages, as
// kalla_queue_messages_total{type, outcome}.
func (b *Base) CountMessages(w *queue.Worker) {
	b.Metrics.Registry.MustRegister(messages{w.Stats()})
}

var messagesDesc = prometheus.NewDesc("kalla_queue_messages_total",
	"Messages a worker ended, per job type and outcome: completed (acked), retried (nak'd with a backoff), poisoned (undecodable or refused for good) or aborted (shutdown or a lost claim).",
	[]string{"type", "outcome"}, nil)

// messages collects a worker's queue.Stats when /metrics is read.
type messages struct{ stats *queue.Stats }

func (messages) Describe(ch chan<- *prometheus.Desc) { ch <- messagesDesc }

func (m messages) Collect(ch chan<- prometheus.Metric) {
	m.stats.Each(func(kind string, outcome queue.Outcome, n uint64) {
		ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.CounterValue, float64(n), kind, string(outcome))
	})
}
