package pipeline_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/testenv"
)

// TestFetch: each kind of object source is copied into a folder with the
// objects' own names, and the copy's file:// URI returned.
func TestFetch(t *testing.T) {
	t.Parallel()
	s3 := testenv.S3(t)
	cfg := s3.Config()
	ctx := context.Background()
	store, err := objstore.Open("s3://"+s3.Bucket+"/in", cfg)
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]string{"a.csv": "x\n1\n", "b.csv": "x\n2\n", "b.csv.bak": "old", "sub/c.csv": "x\n3\n", "parts/p1.parquet": "p1", "parts/p2.parquet": "p2"}
	for key, text := range objects {
		if err := store.Put(ctx, key, strings.NewReader(text)); err != nil {
			t.Fatal(err)
		}
	}
	in := "s3://" + s3.Bucket + "/in/"
	// names lists a folder's files, below it too, each with its text.
	names := func(t *testing.T, dir string) []string {
		t.Helper()
		var out []string
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(path)
				rel, _ := filepath.Rel(dir, path)
				out = append(out, rel+"="+string(b))
			}
			return err
		})
		return out
	}

	for _, c := range []struct {
		name, uri, local string
		files            []string
	}{
		{"one_object", in + "a.csv", "a.csv", []string{"a.csv=x\n1\n"}},
		{"a_pattern", in + "*.csv", "*.csv", []string{"a.csv=x\n1\n", "b.csv=x\n2\n"}},
		{"parts_under_a_prefix", in + "parts/", "", []string{"p1.parquet=p1", "p2.parquet=p2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			got, err := pipeline.Fetch(ctx, c.uri, dir, cfg)
			if want := "file://" + filepath.Join(dir, c.local); err != nil || strings.TrimSuffix(got, "/") != strings.TrimSuffix(want, "/") {
				t.Errorf("Fetch = %q, %v; want %q", got, err, want)
			}
			if files := names(t, dir); !slices.Equal(files, c.files) {
				t.Errorf("copied %q, want %q", files, c.files)
			}
		})
	}
	t.Run("a_file_is_read_in_place", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if got, err := pipeline.Fetch(ctx, "file:///data/a.csv", dir, cfg); err != nil || got != "file:///data/a.csv" || len(names(t, dir)) != 0 {
			t.Errorf("Fetch = %q, %v", got, err)
		}
	})
	t.Run("each_at_once", func(t *testing.T) {
		t.Parallel()
		dirs := []string{t.TempDir(), t.TempDir()}
		locals, errs := pipeline.FetchEach(ctx, []string{in + "a.csv", in + "z.csv"}, dirs, cfg)
		if locals[0] != "file://"+filepath.Join(dirs[0], "a.csv") || errs[0] != nil || !errors.Is(errs[1], objstore.ErrNotFound) {
			t.Errorf("FetchEach = %q, %v; want a.csv copied and z.csv not found", locals, errs)
		}
	})
	t.Run("nothing_to_fetch", func(t *testing.T) {
		t.Parallel()
		_, err := pipeline.Fetch(ctx, in+"z-*.csv", t.TempDir(), cfg)
		var none *pipeline.NoMatchError
		if !errors.As(err, &none) || !errors.Is(err, objstore.ErrNotFound) || err.Error() != "no object in "+in+" matches z-*.csv" {
			t.Errorf("a pattern naming none: %v", err)
		}
		if _, err := pipeline.Fetch(ctx, in+"z.csv", t.TempDir(), cfg); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("a missing object: %v", err)
		}
	})
}
