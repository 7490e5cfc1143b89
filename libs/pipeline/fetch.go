package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/source"
)

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
		return "", fmt.Errorf("no object in %s/ matches %s", store.URI(""), glob)
	}
	return local, nil
}

// fetchers is how many objects FetchPattern downloads at once: a folder of
// small daily files is bound by each request's round trip, not by the
// bytes.
const fetchers = 8
