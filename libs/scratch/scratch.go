// Package scratch makes a run's temporary directories and files, each
// locked by the process that made it, and sweeps those left by runs that
// were killed (SIGKILL, the OOM killer, a power cut), which never got to
// remove their own.
//
// A lock is a flock(2) on the path, which the kernel releases when the
// process ends however it ends; a path nobody locks belongs to no live run.
// Where the file system takes no flock (some NFS mounts), paths are made
// unlocked and never swept: nothing can tell a live run's from a dead one's.
package scratch

import (
	"errors"
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
	lock *os.File // the open path the lock is on (none where the file system takes no lock)
}

// Mkdir makes a directory in parent (the temp directory when "") named
// prefix and a random number, as os.MkdirTemp does, and holds it. It first
// sweeps parent of the directories of that prefix that killed processes
// left (see Sweep).
func Mkdir(parent, prefix string) (*Held, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	Sweep(parent, prefix, Grace)
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

// CreateTemp makes a file in dir named prefix and a random number, as
// os.CreateTemp does, and holds it; File writes to it.
func CreateTemp(dir, prefix string) (*Held, error) {
	f, err := os.CreateTemp(dir, prefix+"*")
	if err != nil {
		return nil, err
	}
	h := &Held{Path: f.Name(), lock: f}
	if err := lock(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return h, nil
}

// Hold locks an existing directory or regular file until Release. A file
// keeps its lock when renamed, so holding one before moving it under a
// temporary name leaves no moment it could be swept.
func Hold(path string) (*Held, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, err
	}
	return &Held{Path: path, lock: f}, nil
}

// File is the held path, open: for writing when it is a regular file.
func (h *Held) File() *os.File { return h.lock }

// Release lets go of the path (it does not remove it). It is safe on nil.
func (h *Held) Release() {
	if h != nil && h.lock != nil {
		h.lock.Close()
	}
}

// RemoveAll removes the held directory or file, then releases it. It is
// safe on nil.
func (h *Held) RemoveAll() error {
	if h == nil {
		return nil
	}
	defer h.Release()
	return os.RemoveAll(h.Path)
}

// open opens a directory, or a regular file for writing (NFS locks only
// files open for writing), never following a link and never waiting (a
// FIFO would wait for a writer).
func open(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	flags := syscall.O_NOFOLLOW | syscall.O_NONBLOCK
	switch {
	case fi.IsDir():
		flags |= os.O_RDONLY
	case fi.Mode().IsRegular():
		flags |= os.O_RDWR
	default:
		return nil, &os.PathError{Op: "hold", Path: path, Err: errors.New("neither a directory nor a regular file")}
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return nil, err
	}
	// The path may have been replaced between the look and the open.
	if again, err := f.Stat(); err != nil || !os.SameFile(fi, again) {
		f.Close()
		return nil, &os.PathError{Op: "hold", Path: path, Err: errors.New("replaced while opened")}
	}
	return f, nil
}

// lock takes f's lock without waiting. A file system that takes no locks
// leaves f unlocked, which Sweep can then not lock either: nothing there is
// swept.
func lock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil || errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.EOPNOTSUPP) {
		return nil
	}
	return &os.PathError{Op: "lock", Path: f.Name(), Err: err}
}

// Sweep removes the entries of parent named prefix and a number (as Mkdir
// and CreateTemp name them, so a user's ".kalla-run-notes" is left alone)
// that this user owns, that no process holds and that have not changed for
// quiet (Grace, but for tests), and returns what it removed. It never
// follows a link and skips what it cannot open or lock: sweeping is
// housekeeping, so it has no error to report.
func Sweep(parent, prefix string, quiet time.Duration) []string {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !ours(e.Name(), prefix) {
			continue
		}
		path := filepath.Join(parent, e.Name())
		if sweep(path, quiet) {
			removed = append(removed, path)
		}
	}
	return removed
}

// ours says that name is prefix and a random number, as os.MkdirTemp and
// os.CreateTemp make them.
func ours(name, prefix string) bool {
	suffix, ok := strings.CutPrefix(name, prefix)
	return ok && suffix != "" && strings.Trim(suffix, "0123456789") == ""
}

func sweep(path string, quiet time.Duration) bool {
	fi, err := os.Lstat(path)
	if err != nil || changedWithin(fi, quiet) || !ownedByMe(fi) {
		return false
	}
	f, err := open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false // held by a live run, or no locks here
	}
	return os.RemoveAll(path) == nil
}

func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// changedWithin says the path's inode changed within d. It is the change
// time, not the modification time, that counts: a rename keeps a file's
// modification time but sets its change time.
func changedWithin(fi os.FileInfo, d time.Duration) bool {
	return time.Since(changeTime(fi)) < d
}
