package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/testenv"
)

// TestMain removes the services binary builds, some hundreds of MB a run.
func TestMain(m *testing.M) {
	testenv.Main(m, func() {
		if binDir != "" {
			os.RemoveAll(binDir)
		}
	})
}

// system is the whole pipeline, each service a separate process, on a real
// PostgreSQL, NATS and S3.
type system struct {
	t        *testing.T
	env      []string
	db       string
	nats     *testenv.NATSServer
	s3       *testenv.S3Server
	store    *jobs.Store
	pool     *pgxpool.Pool
	services map[string]*service
}

type service struct {
	name    string
	cmd     *exec.Cmd
	log     string
	metrics string
	exited  chan struct{} // closed once the process has ended
}

var (
	buildMu sync.Mutex
	binDir  string
	built   = map[string]bool{}
)

// binary builds a service once per test binary and returns its path.
func binary(t *testing.T, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if binDir == "" {
		dir, err := os.MkdirTemp("", "kalla-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binDir = dir
	}
	path := filepath.Join(binDir, name)
	if !built[name] {
		cmd := exec.Command("go", "build", "-o", path, "./services/"+name)
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
		built[name] = true
	}
	return path
}

func startSystem(t *testing.T, extraEnv ...string) *system {
	t.Helper()
	return startSystemOn(t, testenv.Postgres(t), extraEnv...)
}

// startSystemOn is startSystem on a given database, such as one on a
// cluster the test restarts.
func startSystemOn(t *testing.T, db string, extraEnv ...string) *system {
	t.Helper()
	s := &system{t: t, db: db, nats: testenv.NATS(t), s3: testenv.S3(t), services: map[string]*service{}}
	s.env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"KALLA_DATABASE_URL=" + s.db,
		"KALLA_NATS_URL=" + s.nats.URL(),
		"KALLA_STAGING_URI=s3://" + s.s3.Bucket + "/kalla/staging",
		"AWS_ENDPOINT_URL=" + s.s3.Endpoint,
		"AWS_ACCESS_KEY_ID=" + s.s3.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.s3.SecretKey,
		"AWS_REGION=" + s.s3.Region,
		"KALLA_S3_PATH_STYLE=true",
		"KALLA_ACK_WAIT=3s",
		"KALLA_REAPER_INTERVAL=1s",
	}, extraEnv...)
	pool, err := pgxpool.New(context.Background(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s.store, s.pool = jobs.New(pool), pool
	return s
}

// start runs one process of a service program under a name such as
// "stager-2".
func (s *system) start(name, program string, env ...string) *service {
	s.t.Helper()
	svc := &service{name: name, metrics: freeAddr(s.t), log: filepath.Join(s.t.TempDir(), name+".log")}
	logFile, err := os.Create(svc.log)
	if err != nil {
		s.t.Fatal(err)
	}
	svc.cmd = exec.Command(binary(s.t, program))
	svc.cmd.Env = append(append(append([]string{}, s.env...), env...), "KALLA_METRICS_ADDR="+svc.metrics, "KALLA_WORKER_ID="+name)
	svc.cmd.Stdout, svc.cmd.Stderr = logFile, logFile
	svc.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := svc.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	svc.exited = make(chan struct{})
	go func() { svc.cmd.Wait(); close(svc.exited) }()
	s.services[name] = svc
	s.t.Cleanup(func() {
		svc.stop()
		logFile.Close()
		if s.t.Failed() {
			b, _ := os.ReadFile(svc.log)
			s.t.Logf("---- %s log ----\n%s", name, tail(string(b), 4000))
		}
	})
	s.waitReady(svc)
	return svc
}

func (svc *service) stop() {
	select {
	case <-svc.exited:
		return
	default:
	}
	svc.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-svc.exited:
	case <-time.After(10 * time.Second):
		svc.cmd.Process.Kill()
		<-svc.exited
	}
}

// kill ends the process at once, as an OOM kill would.
func (svc *service) kill() {
	svc.cmd.Process.Kill()
	<-svc.exited
}

func (s *system) waitReady(svc *service) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + svc.metrics + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-svc.exited: // crashed at start: no use waiting out the deadline
			deadline = time.Now()
		case <-time.After(100 * time.Millisecond):
		}
	}
	b, _ := os.ReadFile(svc.log)
	s.t.Fatalf("%s did not become ready:\n%s", svc.name, tail(string(b), 3000))
}

// submit sends the recipe at path to the planner at url with
// `kalla submit --json` and returns the new run's id.
func (s *system) submit(url, path string) string {
	s.t.Helper()
	res := kalla(s.t, "submit", "--server", url, "--recipe", path, "--token", apiToken, "--json")
	if res.code != exitOK {
		s.t.Fatalf("submit: exit %d: %s", res.code, res.stderr)
	}
	var created struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &created); err != nil || created.RunID == "" {
		s.t.Fatalf("submit printed %q: %v", res.stdout, err)
	}
	return created.RunID
}

// waitRun polls until the run ends and returns it.
func (s *system) waitRun(runID string, timeout time.Duration) jobs.Run {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		r, err := s.store.GetRun(context.Background(), runID)
		if err == nil && (r.Status == jobs.RunCompleted || r.Status == jobs.RunFailed || r.Status == jobs.RunCancelled) {
			return r
		}
		time.Sleep(200 * time.Millisecond)
	}
	r, _ := s.store.GetRun(context.Background(), runID)
	s.t.Fatalf("run %s did not end within %s: status %s, phase %s", runID, timeout, r.Status, r.Phase)
	return jobs.Run{}
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

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
