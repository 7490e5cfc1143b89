package api

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/kallahq/kalla/libs/scratch"
)

const cachePrefix = "kalla-planner-evidence-"

// evidenceCache keeps downloaded evidence files on local disk, so paging
// through a run's results fetches each object once instead of once per
// page. A completed run's evidence never changes (a retried exec job writes
// the same bytes at the same keys), so a URI names its content.
//
// Files are evicted least recently used first when the total passes the
// limit; a file being read is never evicted.
type evidenceCache struct {
	dir   *scratch.Held
	limit int64

	mu    sync.Mutex
	files map[string]*cachedFile
	used  int64
	next  int
}

type cachedFile struct {
	path  string
	ready chan struct{} // closed when the download ended
	err   error         // the download's error, once ready
	size  int64
	refs  int
	last  time.Time
}

// downloadTimeout bounds one download, which runs detached from the request
// that started it: other requests may be waiting for the same file.
const downloadTimeout = 10 * time.Minute

func newEvidenceCache(limit int64) *evidenceCache {
	return &evidenceCache{limit: limit, files: map[string]*cachedFile{}}
}

// get returns a local copy of uri, downloading it with fetch unless it is
// cached or already on its way; call release when done reading.
func (c *evidenceCache) get(ctx context.Context, uri string, fetch func(ctx context.Context, local string) error) (path string, release func(), err error) {
	c.mu.Lock()
	if c.dir == nil {
		// A killed planner's cache is swept by the next one.
		if c.dir, err = scratch.Mkdir("", cachePrefix); err != nil {
			c.mu.Unlock()
			return "", nil, fmt.Errorf("evidence cache: %w", err)
		}
	}
	f, ok := c.files[uri]
	if !ok {
		c.next++
		f = &cachedFile{path: filepath.Join(c.dir.Path, strconv.Itoa(c.next)), ready: make(chan struct{})}
		c.files[uri] = f
		go c.download(ctx, uri, f, fetch)
	}
	f.refs++
	c.mu.Unlock()

	release = func() {
		c.mu.Lock()
		f.refs--
		f.last = time.Now()
		c.evict()
		c.mu.Unlock()
	}
	select {
	case <-f.ready:
	case <-ctx.Done():
		release()
		return "", nil, ctx.Err()
	}
	if f.err != nil {
		release()
		return "", nil, f.err
	}
	return f.path, release, nil
}

func (c *evidenceCache) download(ctx context.Context, uri string, f *cachedFile, fetch func(context.Context, string) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), downloadTimeout)
	defer cancel()
	err := fetch(ctx, f.path)
	var size int64
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(f.path); err == nil {
			size = st.Size()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f.err, f.size, f.last = err, size, time.Now()
	if err != nil {
		// Not kept: the next request tries again.
		delete(c.files, uri)
		os.Remove(f.path)
	} else {
		c.used += size
	}
	close(f.ready)
}

// evict removes the least recently used unread files while the cache is
// over its limit. Callers hold c.mu.
func (c *evidenceCache) evict() {
	for c.used > c.limit {
		var oldURI string
		var oldest *cachedFile
		for uri, f := range c.files {
			// A failed download is never in the map once ready.
			if f.refs > 0 || !isClosed(f.ready) {
				continue
			}
			if oldest == nil || f.last.Before(oldest.last) {
				oldURI, oldest = uri, f
			}
		}
		if oldest == nil {
			return
		}
		delete(c.files, oldURI)
		c.used -= oldest.size
		os.Remove(oldest.path)
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// close removes every cached file.
func (c *evidenceCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dir.RemoveAll()
}
