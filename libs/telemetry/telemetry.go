// Package telemetry gives every service the same logs, metrics, traces and
// /health, /ready, /metrics endpoints.
package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Logger writes structured JSON logs to stderr, tagged with the service.
// KALLA_LOG_LEVEL (debug, info, warn, error) sets the level; info by default.
func Logger(service string) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("KALLA_LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	h := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	return slog.New(h).With("service", service)
}

// Metrics are the operational and scaling signals of the seed plan.
type Metrics struct {
	Registry           *prometheus.Registry
	StageQueueDepth    prometheus.Gauge
	ExecQueueDepth     prometheus.Gauge
	OldestWait         *prometheus.GaugeVec
	ActiveJobs         *prometheus.GaugeVec
	JobsCompleted      *prometheus.CounterVec
	JobsFailed         *prometheus.CounterVec
	Reclaimed          prometheus.Counter
	ReaperFailed       prometheus.Counter
	RowsProcessed      prometheus.Counter
	CurrentJobDuration *prometheus.GaugeVec
}

// NewMetrics registers every metric, plus Go and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry:           prometheus.NewRegistry(),
		StageQueueDepth:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "kalla_stage_queue_depth", Help: "Stage jobs waiting or in flight on the stage stream's consumer."}),
		ExecQueueDepth:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "kalla_exec_queue_depth", Help: "Exec jobs waiting or in flight on the exec stream's consumer."}),
		OldestWait:         prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kalla_queue_oldest_wait_seconds", Help: "Age of the oldest job waiting to be taken, per job type."}, []string{"type"}),
		ActiveJobs:         prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kalla_worker_active_jobs", Help: "Jobs being worked on, per job type."}, []string{"type"}),
		JobsCompleted:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kalla_worker_jobs_completed_total", Help: "Jobs completed, per job type."}, []string{"type"}),
		JobsFailed:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kalla_worker_jobs_failed_total", Help: "Job attempts that failed, per job type."}, []string{"type"}),
		Reclaimed:          prometheus.NewCounter(prometheus.CounterOpts{Name: "kalla_reaper_jobs_reclaimed_total", Help: "Stale jobs given back to the queue by a reaper."}),
		ReaperFailed:       prometheus.NewCounter(prometheus.CounterOpts{Name: "kalla_reaper_jobs_failed_total", Help: "Jobs failed by a reaper after their last attempt."}),
		RowsProcessed:      prometheus.NewCounter(prometheus.CounterOpts{Name: "kalla_worker_rows_processed_total", Help: "Rows staged or reconciled."}),
		CurrentJobDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kalla_worker_current_job_duration_seconds", Help: "How long the longest running job of each type has run."}, []string{"type"}),
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.StageQueueDepth, m.ExecQueueDepth, m.OldestWait, m.ActiveJobs, m.JobsCompleted, m.JobsFailed,
		m.Reclaimed, m.ReaperFailed, m.RowsProcessed, m.CurrentJobDuration)
	return m
}

// Check is one readiness dependency, such as PostgreSQL or NATS.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Handler serves /health (the process is alive), /ready (every check
// passes) and /metrics.
func Handler(reg *prometheus.Registry, checks ...Check) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var failed []string
		for _, c := range checks {
			if err := c.Ping(ctx); err != nil {
				failed = append(failed, c.Name+": "+err.Error())
			}
		}
		if len(failed) > 0 {
			http.Error(w, "not ready: "+strings.Join(failed, "; "), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// Serve runs h on addr until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, h)
}

// ServeListener is Serve on an open listener.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdown)
		if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
}
