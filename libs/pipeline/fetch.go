package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/source"
)

// Fetch points a source at a local copy: an s3:// object, the objects a
// pattern names, or every part under a prefix ending in "/" (a stager's
// chunks) is downloaded into dir, keeping its name, and the copy's file://
// URI returned; a file:// URI is returned as it is.
func Fetch(ctx context.Context, uri, dir string, cfg objstore.Config) (string, error) {
	switch {
	case strings.HasPrefix(uri, "file://"):
		return uri, nil
	case strings.HasSuffix(uri, "/"):
		return fetchParts(ctx, uri, dir, cfg)
	case source.Pattern(uri):
		local, err := FetchPattern(ctx, uri, dir, cfg)
		return "file://" + local, err
	}
	store, name, err := objstore.OpenObject(uri, cfg)
	if err != nil {
		return "", err
	}
	local := filepath.Join(dir, name)
	if err := store.GetFile(ctx, name, local); err != nil {
		return "", err
	}
	return "file://" + local, nil
}

// FetchEach is Fetch for each of uris into the folder of the same index
// in dirs, all at once (a recipe's two sides, say): the copies' URIs and
// each one's error, by index.
func FetchEach(ctx context.Context, uris, dirs []string, cfg objstore.Config) ([]string, []error) {
	locals, errs := make([]string, len(uris)), make([]error, len(uris))
	var wg sync.WaitGroup
	for i, uri := range uris {
		wg.Go(func() { locals[i], errs[i] = Fetch(ctx, uri, dirs[i], cfg) })
	}
	wg.Wait()
	return locals, errs
}

// fetchParts downloads every part under a prefix.
func fetchParts(ctx context.Context, uri, dir string, cfg objstore.Config) (string, error) {
	store, err := objstore.Open(strings.TrimSuffix(uri, "/"), cfg)
	if err != nil {
		return "", err
	}
	parts, err := store.List(ctx, "")
	if err != nil {
		return "", err
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("no parts under %s", uri)
	}
	for _, p := range parts {
		if err := store.GetFile(ctx, p.Key, filepath.Join(dir, filepath.FromSlash(p.Key))); err != nil {
			return "", err
		}
	}
	return "file://" + dir, nil
}

// FetchPattern downloads the objects that an s3:// pattern names (the
// objects of its folder whose names match, as source.PatternMatches has
// it) into dir, keeping their names, and returns the pattern naming the
// copies: the planner reads their schema, the executor reconciles them.
func FetchPattern(ctx context.Context, uri, dir string, cfg objstore.Config) (string, error) {
	store, glob, err := objstore.OpenObject(uri, cfg)
	if err != nil {
		return "", err
	}
	objects, err := store.List(ctx, glob[:strings.Index(glob, "*")])
	if err != nil {
		return "", err
	}
	local, fetched := filepath.Join(dir, glob), 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchers)
	for _, o := range objects {
		path := filepath.Join(dir, o.Key)
		if !source.PatternMatches(local, path) {
			continue // in a folder below, or not named
		}
		g.Go(func() error { return store.GetFile(gctx, o.Key, path) })
		fetched++
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	if fetched == 0 {
		return "", &NoMatchError{Folder: store.URI(""), Pattern: glob}
	}
	return local, nil
}

// NoMatchError is a pattern that names no object of its folder. It is an
// objstore.ErrNotFound (errors.Is).
type NoMatchError struct{ Folder, Pattern string }

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("no object in %s/ matches %s", e.Folder, e.Pattern)
}

func (e *NoMatchError) Unwrap() error { return objstore.ErrNotFound }

// fetchers is how many objects FetchPattern downloads at once: a folder of
// small daily files is bound by each request's round trip, not by the
// bytes.
const fetchers = 8
