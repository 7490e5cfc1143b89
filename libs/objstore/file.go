package objstore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// notDirErr is what the OS reports when an element of a key's path is a
// file, e.g. opening "a/b" when "a" is an object: the key does not exist.
var notDirErr error = syscall.ENOTDIR

// fileStore keeps objects as files under root. Writes go to a temp file in
// the target's directory and are renamed into place.
type fileStore struct {
	root string // absolute, cleaned
}

func (s *fileStore) String() string { return s.URI("") }

func (s *fileStore) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

func (s *fileStore) URI(key string) string {
	p := filepath.ToSlash(s.root)
	if key != "" {
		p = strings.TrimSuffix(p, "/") + "/" + key
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

func (s *fileStore) PutFile(ctx context.Context, key, localPath string) error {
	if err := checkKey(key); err != nil {
		return opError("put", s.URI(""), err)
	}
	f, err := os.Open(localPath)
	if err != nil {
		return opError("put", s.URI(key), err)
	}
	defer f.Close()
	if err := WriteFileAtomic(ctx, s.path(key), f); err != nil {
		return opError("put", s.URI(key), err)
	}
	return nil
}

func (s *fileStore) Put(ctx context.Context, key string, r io.Reader) error {
	if err := checkKey(key); err != nil {
		return opError("put", s.URI(""), err)
	}
	if err := WriteFileAtomic(ctx, s.path(key), r); err != nil {
		return opError("put", s.URI(key), err)
	}
	return nil
}

func (s *fileStore) GetFile(ctx context.Context, key, localPath string) error {
	return getFile(ctx, s.open, s.URI(key), key, localPath)
}

func (s *fileStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.open(ctx, key)
	if err != nil {
		return nil, opError("open", s.URI(key), err)
	}
	return rc, nil
}

func (s *fileStore) open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, notDirErr) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		// A directory is a key prefix, not an object, as on S3.
		f.Close()
		return nil, ErrNotFound
	}
	return f, nil
}

func (s *fileStore) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, opError("list", s.URI(""), err)
	}
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		start = s.path(prefix[:i])
	}
	var objs []Object
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, notDirErr) {
				return nil // no such prefix, or removed while we walk
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		objs = append(objs, Object{Key: key, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, opError("list", s.URI(prefix), err)
	}
	// Walk order puts "a/b" before "a-b"; S3 order is plain byte order.
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return objs, nil
}

func (s *fileStore) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return opError("delete", s.URI(""), err)
	}
	if err := ctx.Err(); err != nil {
		return opError("delete", s.URI(key), err)
	}
	p := s.path(key)
	st, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, notDirErr) {
		return nil
	}
	if err != nil {
		return opError("delete", s.URI(key), err)
	}
	if st.IsDir() {
		return nil // a prefix, not an object: nothing to delete
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return opError("delete", s.URI(key), err)
	}
	return nil
}
