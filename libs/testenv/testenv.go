// Package testenv gives integration tests real servers: PostgreSQL, NATS with
// JetStream, and an S3 server (versitygw). Nothing is mocked; every server
// listens on 127.0.0.1 only and keeps its state in temporary directories.
//
// Test packages that use it call Main from TestMain so that servers shared by
// the whole test binary are stopped and their directories removed:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Binaries and caches that outlive a test binary (a template PostgreSQL data
// directory, the versitygw binary) live under os.UserCacheDir()/kalla-testenv.
package testenv

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// sharedStops holds the stop functions of servers shared by the test binary,
// run by Main after all tests are done.
var (
	sharedMu    sync.Mutex
	sharedStops []func() error
)

// Main runs the package's tests, then the package's own clean-ups (after),
// and stops every shared server started by this package. Test packages call
// it from TestMain.
func Main(m *testing.M, after ...func()) {
	code := m.Run()
	for _, f := range after {
		f()
	}
	if err := stopShared(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: stopping shared servers: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// shared is a server that the whole test binary shares: started on first
// use, stopped by Main.
type shared[T any] struct {
	once sync.Once
	srv  T
	err  error
}

// get starts the server with start the first time and returns it (or the
// error it failed with) every time.
func (s *shared[T]) get(start func() (T, error), stop func(T) error) (T, error) {
	s.once.Do(func() {
		s.srv, s.err = start()
		if s.err == nil {
			registerShared(func() error { return stop(s.srv) })
		}
	})
	return s.srv, s.err
}

func registerShared(stop func() error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	sharedStops = append(sharedStops, stop)
}

func stopShared() error {
	sharedMu.Lock()
	stops := sharedStops
	sharedStops = nil
	sharedMu.Unlock()

	var errs []error
	for i := len(stops) - 1; i >= 0; i-- {
		errs = append(errs, stops[i]())
	}
	return errors.Join(errs...)
}

// cacheDir returns the directory for artifacts reused across test binaries.
// It is outside the repository so that `git status` stays clean.
func cacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("user cache dir: %w", err)
	}
	dir := filepath.Join(base, "kalla-testenv")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create cache dir: %w", err)
	}
	return dir, nil
}

// withFileLock runs fn while holding an exclusive flock on path. Test
// binaries of several packages run in parallel, and this keeps them from
// building the same cached artifact at once.
func withFileLock(path string, fn func() error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open lock file: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	// Closing the file releases the lock.
	return fn()
}

// freePort asks the kernel for an unused loopback port. Another process may
// grab it before we bind it again; that race is accepted for tests.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// publicTempDir makes a temp dir with mode 0755. t.TempDir and os.MkdirTemp
// create 0700 dirs, which a server running as another user can't traverse.
func publicTempDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("create temp dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("chmod temp dir: %w", err)
	}
	return dir, nil
}

// logTail returns the end of a server log, to make start-up errors
// self-explanatory.
func logTail(path string) string {
	const max = 4 << 10
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		f.Seek(st.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
