package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgSuperuser is the cluster's superuser; trust auth means no password.
const pgSuperuser = "kalla"

// initdbArgs trade durability for speed: test clusters are throwaway.
var initdbArgs = []string{"-U", pgSuperuser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"}

var sharedPG shared[*PostgresServer]

// Postgres returns a connection URL to a fresh, empty database created for
// this test and dropped at t.Cleanup. The cluster behind it is shared by the
// whole test binary, started on first use and stopped by Main.
func Postgres(t testing.TB) string {
	t.Helper()
	srv, err := sharedPostgres()
	if err != nil {
		t.Fatalf("testenv: shared postgres: %v", err)
	}
	name := "test_" + randomHex(8)
	url, err := srv.CreateDatabase(name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.dropDatabase(name); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return url
}

func sharedPostgres() (*PostgresServer, error) {
	return sharedPG.get(newPostgres, (*PostgresServer).close)
}

// PostgresServer is a PostgreSQL cluster on a loopback port with its data in
// a temp dir. Stop and Start keep the port and the data dir, so tests can
// simulate a database restart in the middle of a run.
type PostgresServer struct {
	bin  string              // dir holding initdb and postgres
	root string              // temp dir holding data/, sock/ and postgres.log
	port int                 // fixed for the cluster's life so URLs stay valid
	cred *syscall.Credential // the postgres OS user when we run as root

	mu   sync.Mutex
	proc *process // nil while stopped
}

// StartPostgres starts a dedicated cluster owned by this test, so it can be
// stopped and started without disturbing other tests. t.Cleanup stops it and
// removes its data.
func StartPostgres(t testing.TB) *PostgresServer {
	t.Helper()
	s, err := newPostgres()
	if err != nil {
		t.Fatalf("testenv: start postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return s
}

func newPostgres() (*PostgresServer, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	template, err := postgresTemplate(bin, cred)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	root, err := publicTempDir("kalla-pg-*")
	if err != nil {
		return nil, err
	}
	s := &PostgresServer{bin: bin, root: root, port: port, cred: cred}
	if err := s.layout(template); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if err := s.Start(); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	return s, nil
}

// URL returns the connection URL of database db in this cluster.
func (s *PostgresServer) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", pgSuperuser, s.port, db)
}

// Start starts the stopped cluster on its original port and data dir and
// waits until it accepts connections.
func (s *PostgresServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("postgres: already running")
	}
	p, err := s.spawn()
	if err != nil {
		return err
	}
	if err := s.waitReady(p); err != nil {
		p.stop(syscall.SIGKILL, 10*time.Second)
		return fmt.Errorf("postgres on port %d: %w\n--- %s (tail) ---\n%s", s.port, err, s.logPath(), logTail(s.logPath()))
	}
	s.proc = p
	return nil
}

// Stop shuts the cluster down with SIGINT (fast shutdown: open sessions are
// cut, committed data is kept) and waits for it to exit.
func (s *PostgresServer) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop(syscall.SIGINT, 30*time.Second)
	s.proc = nil
	if err != nil {
		return fmt.Errorf("stop postgres on port %d: %w", s.port, err)
	}
	return nil
}

// CreateDatabase creates an empty database and returns its URL.
func (s *PostgresServer) CreateDatabase(name string) (string, error) {
	if err := s.exec("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %q: %w", name, err)
	}
	return s.URL(name), nil
}

// dropDatabase uses FORCE so connections a test forgot to close don't make
// cleanup fail.
func (s *PostgresServer) dropDatabase(name string) error {
	if err := s.exec("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	return nil
}

func (s *PostgresServer) close() error {
	err := s.Stop()
	return errors.Join(err, os.RemoveAll(s.root))
}

func (s *PostgresServer) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func (s *PostgresServer) dataDir() string { return filepath.Join(s.root, "data") }
func (s *PostgresServer) sockDir() string { return filepath.Join(s.root, "sock") }
func (s *PostgresServer) logPath() string { return filepath.Join(s.root, "postgres.log") }

// layout copies the template data dir and hands data/ and sock/ to the
// server's OS user.
func (s *PostgresServer) layout(template string) error {
	if err := runCmd(exec.Command("cp", "-a", template, s.dataDir())); err != nil {
		return fmt.Errorf("copy template data dir: %w", err)
	}
	if err := os.Mkdir(s.sockDir(), 0o755); err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	if s.cred == nil {
		return nil
	}
	if err := checkTraversable(s.root, s.cred.Uid); err != nil {
		return err
	}
	owner := fmt.Sprintf("%d:%d", s.cred.Uid, s.cred.Gid)
	if err := runCmd(exec.Command("chown", "-R", owner, s.dataDir(), s.sockDir())); err != nil {
		return fmt.Errorf("chown cluster dirs: %w", err)
	}
	return nil
}

func (s *PostgresServer) spawn() (*process, error) {
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open postgres log: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(filepath.Join(s.bin, "postgres"),
		"-D", s.dataDir(),
		"-p", strconv.Itoa(s.port),
		"-k", s.sockDir(),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		"-c", "synchronous_commit=off",
		"-c", "max_connections=200",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = serverProcAttr(s.cred)
	return startProcess(cmd)
}

// waitReady polls with real connections because the port opens before
// recovery finishes and the server accepts queries.
func (s *PostgresServer) waitReady(p *process) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		err := ping(ctx, s.URL("postgres"))
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("postgres exited during start-up: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready after 30s: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// postgresBinDir finds the server binaries; Debian keeps them out of PATH.
func postgresBinDir() (string, error) {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	globbed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(globbed, func(i, j int) bool { return pgMajor(globbed[i]) > pgMajor(globbed[j]) })
	dirs = append(dirs, globbed...)
	for _, dir := range dirs {
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, postgres) found via pg_config --bindir or /usr/lib/postgresql/*/bin: install Debian's postgresql package")
}

// pgMajor extracts the version from /usr/lib/postgresql/VERSION/bin.
func pgMajor(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// pgVersion picks "15.18" out of "postgres (PostgreSQL) 15.18 (Debian ...)".
func pgVersion(versionOutput string) string {
	for _, f := range strings.Fields(versionOutput) {
		if f[0] >= '0' && f[0] <= '9' {
			return f
		}
	}
	return "unknown"
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// postgresCredential returns the OS user to run the server as. initdb and
// postgres refuse to run as root, so as root we switch to "postgres".
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres OS user (from Debian's postgresql package): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of postgres user: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// checkTraversable fails early, with a clear message, when the server's OS
// user couldn't reach dir because a parent dir is closed to others (e.g. a
// TMPDIR under /root).
func checkTraversable(dir string, uid uint32) error {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("stat %s: %w", d, err)
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if ok && sys.Uid != uid && st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s (mode %v) is not traversable by uid %d that runs postgres; set TMPDIR to a world-traversable dir", d, st.Mode().Perm(), uid)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// postgresTemplate returns an initdb'd data dir cached across test binaries:
// initdb takes seconds, a copy takes milliseconds. The cache key covers the
// server version and initdb flags so upgrades never reuse a stale template.
func postgresTemplate(bin string, cred *syscall.Credential) (string, error) {
	out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("postgres --version: %w", err)
	}
	sum := sha256.Sum256([]byte(bin + "\x00" + string(out) + "\x00" + strings.Join(initdbArgs, " ")))
	key := "pgdata-" + pgVersion(string(out)) + "-" + hex.EncodeToString(sum[:6])

	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(cache, key)
	err = withFileLock(dst+".lock", func() error {
		if isFile(filepath.Join(dst, "PG_VERSION")) {
			return nil
		}
		return buildTemplate(bin, cred, dst)
	})
	if err != nil {
		return "", fmt.Errorf("postgres template data dir: %w", err)
	}
	return dst, nil
}

// buildTemplate runs initdb in a world-traversable temp dir (the cache may
// sit under /root, closed to the postgres user) and moves the result into
// the cache with a rename so readers never see a half-written template.
func buildTemplate(bin string, cred *syscall.Credential, dst string) error {
	tmp, err := publicTempDir("kalla-initdb-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if cred != nil {
		if err := os.Chown(tmp, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("chown initdb dir: %w", err)
		}
	}
	data := filepath.Join(tmp, "data")
	cmd := exec.Command(filepath.Join(bin, "initdb"), append([]string{"-D", data}, initdbArgs...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := runCmd(cmd); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	staging := dst + ".tmp"
	os.RemoveAll(staging)
	if err := runCmd(exec.Command("cp", "-a", data, staging)); err != nil {
		return fmt.Errorf("copy template into cache: %w", err)
	}
	if err := os.Rename(staging, dst); err != nil {
		return fmt.Errorf("publish template: %w", err)
	}
	return nil
}
