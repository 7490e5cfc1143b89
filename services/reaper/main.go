// Command reaper keeps the pipeline honest: stale heartbeats, retries, run
// timeouts, the outbox and the scaling signals. Any number may run at once.
//
// Settings (environment): KALLA_DATABASE_URL and KALLA_NATS_URL are
// required; KALLA_METRICS_ADDR, KALLA_REAPER_INTERVAL (default 5s),
// KALLA_WORKER_ID.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/service"
	"github.com/kallahq/kalla/libs/settings"
	"github.com/kallahq/kalla/services/reaper/internal/sweep"
)

func main() {
	r := &settings.Reader{}
	cfg := service.ReadSettings(r)
	interval := r.Duration("KALLA_REAPER_INTERVAL", 5*time.Second)
	if err := r.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "reaper: bad settings:\n%v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, interval); err != nil {
		fmt.Fprintf(os.Stderr, "reaper: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg service.Settings, interval time.Duration) error {
	base, err := service.Start(ctx, "reaper", cfg)
	if err != nil {
		return err
	}
	defer base.Close()
	s := &sweep.Sweeper{Store: base.Store, JS: base.JS, Publisher: queue.NewPublisher(base.JS), Metrics: base.Metrics, Log: base.Log, KeepPublished: 24 * time.Hour}
	base.Log.Info("reaper started", "interval", interval.String())
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return base.ServeHealth(ctx) })
	g.Go(func() error { return s.Run(ctx, interval) })
	return g.Wait()
}
