// Package scratch makes a run's temporary directories and files, each
// locked by the process that made it, and sweeps those left by runs that
// were killed (SIGKILL, the OOM killer, a power cut), which never got to
// remove their own.
//
// A lock is a flock(2) on the path, which the kernel releases when the
// process ends however it ends; a path nobody locks belongs to no live run.
package scratch

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Grace spares a path changed this recently: it may be one another process
// has just made and not yet locked. Locking follows making at once, so any
// run's own paths are safe, however long the run.
const Grace = time.Minute

// Held is a temporary directory or file its process holds a lock on.
type Held struct {
	Path string
	lock *os.File
}

// Mkdir makes a directory in parent named prefix and a random suffix, and
// holds it.
func Mkdir(parent, prefix string) (*Held, error) {
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return nil, err
	}
	h, err := Hold(dir)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	return h, nil
}

// Hold locks an existing path (a file renamed into place under a temporary
// name, say) until Release.
func Hold(path string) (*Held, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "lock", Path: path, Err: err}
	}
	return &Held{Path: path, lock: f}, nil
}

// Release lets go of the path (it does not remove it). It is safe on nil.
func (h *Held) Release() {
	if h != nil {
		h.lock.Close()
	}
}

// RemoveAll removes the held directory or file, then releases it.
func (h *Held) RemoveAll() error {
	defer h.Release()
	return os.RemoveAll(h.Path)
}

// Sweep removes the entries of parent whose names start with prefix, that
// no process holds and that have not changed for quiet (Grace, but for
// tests), and returns what it removed. It never follows a link, and skips what it cannot open
// or lock (another user's, a live run's): sweeping is housekeeping, so it
// has no error to report.
func Sweep(parent, prefix string, quiet time.Duration) []string {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || e.Type()&os.ModeSymlink != 0 {
			continue
		}
		path := filepath.Join(parent, e.Name())
		if sweep(path, quiet) {
			removed = append(removed, path)
		}
	}
	return removed
}

func sweep(path string, quiet time.Duration) bool {
	fi, err := os.Lstat(path)
	if err != nil || changedWithin(fi, quiet) {
		return false
	}
	h, err := Hold(path)
	if err != nil {
		return false
	}
	// Held now, so no live run is using it; the second look catches a path
	// replaced between the Lstat and the lock.
	if again, err := os.Lstat(path); err != nil || !os.SameFile(fi, again) {
		h.Release()
		return false
	}
	return h.RemoveAll() == nil
}

// changedWithin says the path's inode changed within d. It is the change
// time, not the modification time, that counts: a rename keeps a file's
// modification time but sets its change time.
func changedWithin(fi os.FileInfo, d time.Duration) bool {
	changed := fi.ModTime()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		changed = time.Unix(st.Ctim.Unix())
	}
	return time.Since(changed) < d
}
