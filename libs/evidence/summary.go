// Package evidence holds a run's outputs: the summary.json shape and the
// publishing of evidence files so that nothing half-written looks complete.
package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kallahq/kalla/libs/objstore"
)

// Summary is summary.json. Its shape is a stable interface: fields may be
// added, never renamed.
type Summary struct {
	RecipeID    string        `json:"recipe_id"`
	Engine      string        `json:"engine"`
	Left        SideSummary   `json:"left"`
	Right       SideSummary   `json:"right"`
	MatchGroups int64         `json:"match_groups"`
	Rules       []RuleSummary `json:"rules"`
	TimingsMS   Timings       `json:"timings_ms"`
}

// SideSummary counts one side; Rows = Matched + Unmatched.
type SideSummary struct {
	Alias     string `json:"alias"`
	Rows      int64  `json:"rows"`
	Matched   int64  `json:"matched"`
	Unmatched int64  `json:"unmatched"`
}

// RuleSummary counts one rule, in execution order.
type RuleSummary struct {
	Name         string `json:"name"`
	Pattern      string `json:"pattern"`
	Groups       int64  `json:"groups"`
	LeftMatched  int64  `json:"left_matched"`
	RightMatched int64  `json:"right_matched"`
}

// Timings are in milliseconds.
type Timings struct {
	Load  int64 `json:"load"`
	Match int64 `json:"match"`
	Write int64 `json:"write"`
	Total int64 `json:"total"`
}

// SummaryFile is the summary's file name.
const SummaryFile = "summary.json"

// WriteSummary writes s as indented JSON to path.
func WriteSummary(path string, s *Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadSummary reads a summary.json.
func ReadSummary(path string) (*Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// Publish moves finished files from a staging directory to their places,
// the summary (the last move) last, so a summary.json is only ever beside
// complete evidence: an earlier summary at its place is removed first, with
// the stale files, earlier outputs this run replaces without writing them.
// Earlier outputs at the places moved to are replaced. Each move is a rename
// within one file system where possible.
func Publish(moves []Move, stale []string) error {
	for _, m := range moves {
		if err := os.MkdirAll(filepath.Dir(m.To), 0o755); err != nil {
			return err
		}
	}
	for _, path := range append([]string{moves[len(moves)-1].To}, stale...) {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("publish: remove the earlier %s: %w", path, err)
		}
	}
	for _, m := range moves {
		if err := rename(m.From, m.To); err != nil {
			return fmt.Errorf("publish %s: %w", m.To, err)
		}
	}
	return nil
}

// Move is one file to publish.
type Move struct{ From, To string }

func rename(from, to string) error {
	if err := os.Rename(from, to); err == nil {
		return nil
	}
	// Another file system: a synced copy beside the target, renamed there,
	// so the target is never seen half written.
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	return objstore.WriteFileAtomic(context.Background(), to, src)
}
