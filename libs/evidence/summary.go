// Package evidence holds a run's outputs: the summary.json shape and the
// publishing of evidence files so that nothing half-written looks complete.
package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/kallahq/kalla/libs/scratch"
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

// SideSummary counts one side; Rows = Matched + Unmatched. Rows counts the
// records reconciled; FilteredOut those read that the source's filter left
// out.
type SideSummary struct {
	Alias       string `json:"alias"`
	Rows        int64  `json:"rows"`
	Matched     int64  `json:"matched"`
	Unmatched   int64  `json:"unmatched"`
	FilteredOut int64  `json:"filtered_out"`
	// Totals are the sums the source's recipe asks for, in its order, a
	// line per value of a total's by column.
	Totals []TotalSummary `json:"totals,omitempty"`
	// Files are, for a source a pattern names, the files read, in order.
	Files []FileSummary `json:"files,omitempty"`
	// Sheet is, for an Excel workbook source, the sheet read (of each of
	// its files): the recipe's, or the first.
	Sheet string `json:"sheet,omitempty"`
}

// FileSummary is one file of a source: its name and the records it held,
// those a filter left out included.
type FileSummary struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// TotalSummary is one column's sums over the records with one value of its
// by column (Value nil for an empty one), or over all records (By empty).
// Sums are exact decimals as text, at the column's scale: Total = Matched
// + Unmatched, Records = MatchedRecords + UnmatchedRecords.
type TotalSummary struct {
	Column           string  `json:"column"`
	By               string  `json:"by,omitempty"`
	Value            *string `json:"value,omitempty"`
	Records          int64   `json:"records"`
	MatchedRecords   int64   `json:"matched_records"`
	UnmatchedRecords int64   `json:"unmatched_records"`
	// Empty counts the records whose column is empty: they add nothing.
	Empty     int64  `json:"empty"`
	Total     string `json:"total"`
	Matched   string `json:"matched"`
	Unmatched string `json:"unmatched"`
}

// RuleSummary counts one rule, in execution order.
type RuleSummary struct {
	Name         string `json:"name"`
	Pattern      string `json:"pattern"`
	Groups       int64  `json:"groups"`
	LeftMatched  int64  `json:"left_matched"`
	RightMatched int64  `json:"right_matched"`
	// Totals break the sides' totals down to the records this rule
	// matched: the left side's first, each in the recipe's order.
	Totals []RuleTotal `json:"totals,omitempty"`
}

// RuleTotal is one total over the records of one side that a rule matched,
// with one value of the total's by column (Value nil for an empty one; a
// value no record of the rule has gets no line) or over all of them (By
// empty; a line even when the rule matched none).
type RuleTotal struct {
	Side    string  `json:"side"`
	Column  string  `json:"column"`
	By      string  `json:"by,omitempty"`
	Value   *string `json:"value,omitempty"`
	Records int64   `json:"records"`
	Empty   int64   `json:"empty"`
	Total   string  `json:"total"`
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
// complete evidence. It works in two steps, so that a failure leaves the
// earlier outputs as they were: first each file is brought beside its place
// under a temporary name (a rename, or a synced copy from another file
// system, where a full disk or a read-only folder fails); only then are the
// earlier summary and the stale files (earlier outputs this run replaces
// without writing them) removed and the files renamed into place, renames
// within one folder. A place that is a directory is refused before anything
// moves, and a folder Publish made is removed again if it fails.
func Publish(moves []Move, stale []string) (err error) {
	for _, m := range moves {
		if fi, err := os.Lstat(m.To); err == nil && fi.IsDir() {
			return fmt.Errorf("publish: %s is a directory, where Kalla writes a file", m.To)
		}
	}
	var made []string
	var placed []*scratch.Held
	swept := map[string]bool{}
	defer func() {
		for _, tmp := range placed {
			if err != nil {
				os.Remove(tmp.Path)
			}
			tmp.Release()
		}
		if err == nil {
			return
		}
		RemoveDirs(made)
	}()
	for _, m := range moves {
		dirs, err := MakeDirs(filepath.Dir(m.To))
		made = append(made, dirs...)
		if err != nil {
			return fmt.Errorf("publish %s: %w", m.To, err)
		}
		if dir := filepath.Dir(m.To); !swept[dir] {
			scratch.Sweep(dir, publishPrefix, scratch.Grace)
			swept[dir] = true
		}
		tmp, err := beside(m.From, m.To)
		if err != nil {
			return fmt.Errorf("publish %s: %w", m.To, err)
		}
		placed = append(placed, tmp)
	}
	// Two runs publishing to the same places take turns: each result is
	// then whole, the last one's standing.
	unlock, err := lockDir(filepath.Dir(moves[len(moves)-1].To))
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer unlock()
	for _, path := range append([]string{moves[len(moves)-1].To}, stale...) {
		// A directory of the stale names is no earlier output: left alone.
		if fi, err := os.Lstat(path); err != nil || fi.IsDir() {
			continue
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("publish: remove the earlier %s: %w", path, err)
		}
	}
	for i, m := range moves {
		if err := os.Rename(placed[i].Path, m.To); err != nil {
			return fmt.Errorf("publish %s: %w", m.To, err)
		}
	}
	return nil
}

// lockDir holds an exclusive lock on a folder (flock, released when the
// process ends, so a killed run leaves none) until unlock is called.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// MakeDirs makes dir and its missing parents, and returns those it made,
// outermost first, for RemoveDirs to undo.
func MakeDirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) || filepath.Dir(d) == d {
			break
		}
		missing = append([]string{d}, missing...)
	}
	return missing, os.MkdirAll(dir, 0o755)
}

// publishPrefix names a file brought beside its place; those of killed runs
// are swept by the next run publishing there.
const publishPrefix = ".kalla-publish-"

// beside brings the file from next to to, under a temporary name in to's
// folder: a rename, or a synced copy when from is on another file system.
// The file is held (see package scratch) until the caller releases it, so
// that no other run sweeps it meanwhile.
func beside(from, to string) (*scratch.Held, error) {
	// Held before it moves: the lock goes with the file through the rename.
	src, err := scratch.Hold(from)
	if err != nil {
		return nil, err
	}
	tmp, err := scratch.CreateTemp(filepath.Dir(to), publishPrefix)
	if err != nil {
		src.Release()
		return nil, err
	}
	if err := os.Rename(from, tmp.Path); err == nil {
		tmp.Release() // its empty file is gone, replaced by from
		src.Path = tmp.Path
		return src, nil
	}
	src.Release()
	if err := copyInto(tmp.File(), from); err != nil {
		tmp.RemoveAll()
		return nil, err
	}
	return tmp, nil
}

func copyInto(f *os.File, from string) error {
	// CreateTemp's 0600 would keep the evidence from its readers.
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := io.Copy(f, src); err != nil {
		return err
	}
	return f.Sync()
}

// Move is one file to publish.
type Move struct{ From, To string }

// RemoveDirs removes the directories MakeDirs made, innermost first, each
// only if empty: a failed run leaves none of them behind, and nothing
// another run put there meanwhile is lost.
func RemoveDirs(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		os.Remove(made[i])
	}
}
