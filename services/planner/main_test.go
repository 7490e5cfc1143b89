package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/gen/kalla/v1/kallav1connect"
	"github.com/kallahq/kalla/libs/service"
	"github.com/kallahq/kalla/libs/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestLoadConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		t.Setenv("KALLA_DATABASE_URL", "postgres://u:p@db:5432/kalla")
		t.Setenv("KALLA_NATS_URL", "nats://nats:4222")
		t.Setenv("KALLA_API_TOKENS", " a, ,b ")
		c, err := loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if c.HTTPAddr != ":8080" || c.MetricsAddr != ":9090" || c.RunTimeout != 2*time.Hour || strings.Join(c.Tokens, "|") != "a|b" || c.Conversions != 0 {
			t.Errorf("config = %+v", c)
		}
	})
	t.Run("every_problem_at_once", func(t *testing.T) {
		t.Setenv("KALLA_DATABASE_URL", "")
		t.Setenv("KALLA_NATS_URL", "")
		t.Setenv("KALLA_RUN_TIMEOUT", "soon")
		t.Setenv("KALLA_HTTP_ADDR", "8080")
		t.Setenv("KALLA_WORKBOOK_CONVERSIONS", "0")
		_, err := loadConfig()
		if err == nil {
			t.Fatal("no error")
		}
		for _, name := range []string{"KALLA_DATABASE_URL", "KALLA_NATS_URL", "KALLA_RUN_TIMEOUT", "KALLA_HTTP_ADDR", "KALLA_WORKBOOK_CONVERSIONS"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name %s: %v", name, err)
			}
		}
	})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRun starts the whole service on a real PostgreSQL and NATS, checks
// readiness and one authenticated call, and shuts it down gracefully.
func TestRun(t *testing.T) {
	cfg := config{
		Settings: service.Settings{DatabaseURL: testenv.Postgres(t), NATSURL: testenv.NATS(t).URL(), MetricsAddr: freeAddr(t), WorkerID: "planner-test"},
		HTTPAddr: freeAddr(t), Tokens: []string{"tok"}, RunTimeout: time.Hour,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("run did not stop within 20s")
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + cfg.MetricsAddr + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := kallav1connect.NewRunServiceClient(http.DefaultClient, "http://"+cfg.HTTPAddr)
	req := connect.NewRequest(&kallav1.ListRunsRequest{})
	if _, err := c.ListRuns(ctx, req); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("without token: %v, want unauthenticated", err)
	}
	req.Header().Set("Authorization", "Bearer tok")
	if _, err := c.ListRuns(ctx, req); err != nil {
		t.Errorf("with token: %v", err)
	}
}
