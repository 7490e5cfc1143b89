package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kallahq/kalla/libs/telemetry"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	m := telemetry.NewMetrics()
	m.JobsCompleted.WithLabelValues("exec").Inc()
	down := errors.New("connection refused")
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(telemetry.Handler(m.Registry, telemetry.Check{Name: "postgres", Ping: func(context.Context) error {
		if healthy.Load() {
			return nil
		}
		return down
	}}))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/ready"); code != http.StatusOK {
		t.Errorf("/ready with healthy deps = %d", code)
	}
	healthy.Store(false)
	if code, body := get("/ready"); code != http.StatusServiceUnavailable || !strings.Contains(body, "postgres: connection refused") {
		t.Errorf("/ready with postgres down = %d %q", code, body)
	}
	if code, _ := get("/health"); code != http.StatusOK {
		t.Errorf("/health = %d, want 200 even when a dependency is down", code)
	}
	code, body := get("/metrics")
	if code != http.StatusOK || !strings.Contains(body, `kalla_worker_jobs_completed_total{type="exec"} 1`) || !strings.Contains(body, "kalla_stage_queue_depth 0") {
		t.Errorf("/metrics = %d\n%s", code, body)
	}
}
