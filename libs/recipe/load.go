package recipe

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// Load reads a recipe file and resolves its relative file: URIs and output
// paths against the file's folder.
func Load(path string) (*kallav1.Recipe, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		// The user named a file that cannot be read: their input, not ours.
		return nil, Errors{{Message: fmt.Sprintf("cannot read the recipe file: %v", err)}}
	}
	r, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("recipe %s:\n%w", path, err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("recipe %s: %w", path, err)
	}
	Resolve(r, dir)
	return r, nil
}

// Resolve makes the recipe's file: URIs and output paths absolute against
// dir. "file://data/x.csv" names the relative path data/x.csv (not a host
// called data), as the original recipe format meant it.
func Resolve(r *kallav1.Recipe, dir string) {
	for _, s := range []*kallav1.Source{r.GetSources().GetLeft(), r.GetSources().GetRight()} {
		if s != nil {
			s.Uri = resolveURI(s.GetUri(), dir)
		}
	}
	if o := r.GetOutput(); o != nil {
		o.Matched = resolvePath(o.GetMatched(), dir)
		o.UnmatchedLeft = resolvePath(o.GetUnmatchedLeft(), dir)
		o.UnmatchedRight = resolvePath(o.GetUnmatchedRight(), dir)
	}
}

func resolveURI(uri, dir string) string {
	rest, ok := strings.CutPrefix(uri, "file://")
	if !ok {
		if rest, ok = strings.CutPrefix(uri, "file:"); !ok {
			return uri
		}
	}
	return "file://" + resolvePath(rest, dir)
}

func resolvePath(p, dir string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
