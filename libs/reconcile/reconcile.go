// Package reconcile runs one reconciliation from a recipe to published
// evidence. `kalla reconcile` and the executor service both call it, so
// matching is implemented once.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/scratch"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/xlsx"
)

// Options of one run.
type Options struct {
	Engine engine.Engine
	Format engine.Format
	// OutDir, when set, receives matched.<format>, unmatched_left.<format>,
	// unmatched_right.<format> and summary.json. Otherwise the recipe's
	// output paths are used, with summary.json beside the matched file.
	OutDir   string
	Progress func(engine.Progress)
	// LeftRead and RightRead, when above 0, are how many records a side's
	// source held before its filter, where the files read hold fewer (see
	// plan.Input.Read).
	LeftRead, RightRead int64
	// TempDir holds the CSV copies of workbook sheets during the run;
	// empty means the system's temp directory.
	TempDir string
}

// IsBadInput reports whether err was caused by the user's input: the
// recipe, a source that is missing or malformed, a broken key.
func IsBadInput(err error) bool {
	var errs recipe.Errors
	return errors.Is(err, engine.ErrBadInput) || errors.As(err, &errs)
}

// stagingPrefix names a run's folder of unfinished evidence, beside the
// outputs; those of killed runs are swept by the next run there.
const stagingPrefix = ".kalla-run-"

// copiesPrefix names a run's folder of CSV copies of workbook sheets.
const copiesPrefix = "kalla-sheets-"

// Run reconciles r, whose file URIs are absolute (recipe.Load makes them
// so), and publishes the evidence. Nothing is published unless the whole
// run succeeded.
func Run(ctx context.Context, r *kallav1.Recipe, opts Options) (_ *evidence.Summary, err error) {
	start := time.Now()
	targets, stale, err := targetsOf(r, opts)
	if err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		opts.Progress(engine.Progress{Phase: engine.PhaseRead, Detail: "the sources' columns and types"})
	}
	// A workbook's sheet is written as CSV while it is read for its types,
	// for the engine to read: each is read once.
	copyDir := ""
	if readsWorkbook(r) {
		copies, err := scratch.Mkdir(opts.TempDir, copiesPrefix)
		if err != nil {
			return nil, err
		}
		defer copies.RemoveAll()
		copyDir = copies.Path
	}
	p, err := planWith(ctx, r, copyDir)
	if err != nil {
		return nil, err
	}
	p.Left.Read, p.Right.Read = opts.LeftRead, opts.RightRead
	out := filepath.Dir(targets[0].To)
	made, err := evidence.MakeDirs(out)
	if err != nil {
		return nil, outputError(out, err)
	}
	// A failed run leaves no empty directory it made behind.
	defer func() {
		if err != nil {
			evidence.RemoveDirs(made)
		}
	}()
	held, err := scratch.Mkdir(out, stagingPrefix)
	if err != nil {
		return nil, outputError(out, err)
	}
	defer held.RemoveAll()
	staging := held.Path
	written := opts.Format
	if written == engine.XLSX {
		written = engine.Parquet
	}
	res, err := opts.Engine.Reconcile(ctx, p, engine.Output{Dir: staging, Format: written}, opts.Progress)
	if err != nil {
		return nil, err
	}
	if opts.Format == engine.XLSX {
		begin := time.Now()
		if err := workbooks(ctx, staging); err != nil {
			return nil, err
		}
		res.Timings.Write += time.Since(begin)
	}
	sum := summarize(p, opts.Engine.Name(), res, time.Since(start))
	summary := filepath.Join(staging, evidence.SummaryFile)
	if err := evidence.WriteSummary(summary, sum); err != nil {
		return nil, err
	}
	for i := range targets {
		targets[i].From = filepath.Join(staging, filepath.Base(targets[i].From))
	}
	if err := evidence.Publish(targets, stale); err != nil {
		return nil, err
	}
	return sum, nil
}

// readsWorkbook says whether a source of r is an Excel workbook (or
// workbooks a pattern names).
func readsWorkbook(r *kallav1.Recipe) bool {
	for _, s := range []*kallav1.Source{r.GetSources().GetLeft(), r.GetSources().GetRight()} {
		if ref, err := source.Parse(s.GetUri()); err == nil && source.Workbook(ref.Path) {
			return true
		}
	}
	return false
}

// workbooks writes each evidence file of the staging directory as an
// Excel workbook from its Parquet file, on a sheet of its name.
func workbooks(ctx context.Context, staging string) error {
	for _, name := range engine.EvidenceFiles {
		from := filepath.Join(staging, engine.Parquet.File(name))
		err := xlsx.FromParquet(ctx, from, filepath.Join(staging, engine.XLSX.File(name)), name)
		var tooLarge *xlsx.TooLargeError
		if errors.As(err, &tooLarge) {
			return engine.BadInput("%v: write the evidence as csv or parquet", err)
		}
		if err != nil {
			return fmt.Errorf("write %s as a workbook: %w", name, err)
		}
	}
	return nil
}

// targetsOf lists where each evidence file goes, summary last, and the
// earlier outputs a run replaces though it does not write them: in an --out
// directory, the evidence of the other format.
func targetsOf(r *kallav1.Recipe, opts Options) (moves []evidence.Move, stale []string, err error) {
	var names []string
	for _, f := range engine.EvidenceFiles {
		names = append(names, opts.Format.File(f))
	}
	names = append(names, evidence.SummaryFile)
	var to []string
	if opts.OutDir != "" {
		for _, n := range names {
			to = append(to, filepath.Join(opts.OutDir, n))
		}
		for _, other := range engine.Formats {
			for _, f := range engine.EvidenceFiles {
				if other != opts.Format {
					stale = append(stale, filepath.Join(opts.OutDir, other.File(f)))
				}
			}
		}
	} else {
		o := r.GetOutput()
		if o.GetMatched() == "" || o.GetUnmatchedLeft() == "" || o.GetUnmatchedRight() == "" {
			return nil, nil, engine.BadInput("no output directory given (--out) and the recipe's output does not name matched, unmatched_left and unmatched_right")
		}
		to = []string{o.GetMatched(), o.GetUnmatchedLeft(), o.GetUnmatchedRight(), filepath.Join(filepath.Dir(o.GetMatched()), evidence.SummaryFile)}
		if err := checkExtensions(to[:3], opts.Format); err != nil {
			return nil, nil, err
		}
	}
	moves = make([]evidence.Move, len(names))
	for i := range names {
		moves[i] = evidence.Move{From: names[i], To: to[i]}
	}
	if err := checkPlaces(r, moves, stale); err != nil {
		return nil, nil, err
	}
	return moves, stale, nil
}

// checkPlaces refuses outputs that would overwrite each other or a file
// the run reads: two outputs at one path (the summary's included), or an
// output, or an earlier one to be removed, that is a source or inside a
// source's directory of parts.
func checkPlaces(r *kallav1.Recipe, moves []evidence.Move, stale []string) error {
	seen := map[string]bool{}
	for _, m := range moves {
		if err := checkPlace(m.To); err != nil {
			return err
		}
		to := absPath(m.To)
		if seen[to] {
			return engine.BadInput("output: %s is named for two outputs; give each its own path", m.To)
		}
		seen[to] = true
	}
	for _, s := range []*kallav1.Source{r.GetSources().GetLeft(), r.GetSources().GetRight()} {
		ref, err := source.Parse(s.GetUri())
		if err != nil || ref.Path == "" {
			continue // refused with the source, or not a file
		}
		src := absPath(ref.Path)
		if real, err := filepath.EvalSymlinks(src); err == nil {
			src = real // a source that is a link is read where it points
		}
		pattern := source.Pattern(src)
		for path := range seen {
			if path == src || strings.HasPrefix(path, src+string(filepath.Separator)) {
				return engine.BadInput("output: %s is where source %s is read from; write the evidence elsewhere", path, s.GetAlias())
			}
			if pattern && source.PatternMatches(src, path) {
				return engine.BadInput("output: %s would be read by source %s, whose pattern %s names it; write the evidence elsewhere", path, s.GetAlias(), filepath.Base(src))
			}
		}
		for _, path := range stale {
			if absPath(path) == src {
				return engine.BadInput("output: %s, an earlier output this run would remove, is source %s; write the evidence elsewhere", path, s.GetAlias())
			}
			if _, err := os.Lstat(path); err == nil && pattern && source.PatternMatches(src, absPath(path)) {
				return engine.BadInput("output: %s, an earlier output this run would remove, is a file of source %s (its pattern %s names it); write the evidence elsewhere", path, s.GetAlias(), filepath.Base(src))
			}
		}
	}
	return nil
}

// outputError is the error of a run that could not make its staging folder
// in the output folder dir: bad input where the user may not write there
// (permissions, a read-only file system), naming dir rather than the
// staging folder.
func outputError(dir string, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return engine.BadInput("output: cannot write in %s (%v); give a folder this user may write to", dir, unwrapPath(err))
	}
	return fmt.Errorf("output: cannot write in %s: %w", dir, err)
}

// unwrapPath is the reason of a path error without its operation and path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkPlace refuses, before any work, an output path that cannot take a
// file: a directory at it, or a file or a broken link where one of its
// folders should be.
func checkPlace(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return engine.BadInput("output: %s is a directory; give a file's path", path)
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		switch {
		case err == nil && !fi.IsDir():
			return engine.BadInput("output: %s is a file, where a folder of the outputs should be", dir)
		case err == nil:
			return nil
		}
		if _, lerr := os.Lstat(dir); lerr == nil {
			return engine.BadInput("output: %s is a link to nothing", dir)
		}
		if filepath.Dir(dir) == dir {
			return nil
		}
	}
}

// absPath is p absolute, with the symbolic links of the part of it that
// exists resolved: an output reached through a link to a source's folder
// is that folder. The last element is kept as a link, as a move into
// place replaces a link rather than writing through it.
func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		a = filepath.Clean(p)
	}
	dir, rest := filepath.Dir(a), []string{filepath.Base(a)}
	for {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(append([]string{real}, rest...)...)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return a
		}
		dir, rest = parent, append([]string{filepath.Base(dir)}, rest...)
	}
}

// checkExtensions refuses a recipe output path whose name says another
// format than the one written: matched.csv holding Parquet would mislead.
func checkExtensions(paths []string, format engine.Format) error {
	fields := []string{"output.matched", "output.unmatched_left", "output.unmatched_right"}
	for i, p := range paths {
		ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(p), "."))
		if slices.Contains(engine.Formats, engine.Format(ext)) && ext != string(format) {
			return engine.BadInput("%s %q ends in .%s, but the evidence format is %s: give --format %s, or name the file .%s", fields[i], p, ext, format, ext, format)
		}
	}
	return nil
}

// Plan reads both sources' schemas, side by side since each is a full read
// of a file, and builds the plan: what Run would do, checked against the
// sources, before anything runs. Mistakes in the recipe or the sources are
// bad input (IsBadInput).
func Plan(ctx context.Context, r *kallav1.Recipe) (*plan.Plan, error) {
	return planWith(ctx, r, "")
}

// planWith is Plan, writing the CSV copies of workbook sheets into copyDir
// when it is set (see source.CSVOptions.CopyDir).
func planWith(ctx context.Context, r *kallav1.Recipe, copyDir string) (*plan.Plan, error) {
	var right plan.Input
	var rightErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		right, rightErr = input(ctx, r.GetSources().GetRight(), copyDir)
	}()
	left, err := input(ctx, r.GetSources().GetLeft(), copyDir)
	<-done
	if err != nil {
		return nil, err
	}
	if rightErr != nil {
		return nil, rightErr
	}
	return plan.Build(r, left, right)
}

func input(ctx context.Context, s *kallav1.Source, copyDir string) (plan.Input, error) {
	ref, err := source.Parse(s.GetUri())
	if err != nil {
		return plan.Input{}, engine.BadInput("%s: %v", s.GetAlias(), err)
	}
	in := plan.Input{Alias: s.GetAlias(), Ref: ref}
	if ref.Object {
		return plan.Input{}, engine.BadInput("source %s: %s is an object; a run reads local files (download it first: pipeline.Fetch)", s.GetAlias(), ref)
	}
	opts := recipe.CSVOptions(s)
	opts.CopyDir = copyDir
	if in.Schema, err = source.ReadSchema(ctx, ref, ref.Path, opts); err != nil {
		var copyErr *source.CopyError
		if source.Unavailable(err) || errors.As(err, &copyErr) {
			// A database away or busy for now, or a full disk: no fault of
			// the recipe's.
			return plan.Input{}, fmt.Errorf("source %s: %w", s.GetAlias(), err)
		}
		return plan.Input{}, engine.BadInput("source %s: %v", s.GetAlias(), err)
	}
	return in, nil
}

// FileSummaries lists the files a source's schema was read from, by name,
// with the records each held.
func FileSummaries(s source.Schema) []evidence.FileSummary {
	files := make([]evidence.FileSummary, len(s.Files))
	for i, f := range s.Files {
		files[i] = evidence.FileSummary{Name: filepath.Base(f), Rows: s.FileRows[i]}
	}
	return files
}

// patternFiles lists the files of a source a pattern names, or the
// sheets of a workbook its sheet pattern names; nil for another (the parts
// of a directory may be a stager's chunks of a table).
func patternFiles(in plan.Input) []evidence.FileSummary {
	if !source.Pattern(in.Ref.Path) && (in.Ref.Format != source.FormatCSV || len(in.Schema.Files) == 0) {
		return nil
	}
	return FileSummaries(in.Schema)
}

// SheetOf is the sheet read of a workbook source (of each of its files);
// "" for another, or where the sheets differ (the files name them).
func SheetOf(in plan.Input) string {
	if in.Ref.Format != source.FormatCSV {
		return ""
	}
	parts := in.Schema.CSVParts(in.Ref.Path)
	for _, p := range parts[1:] {
		if p.Layout.Sheet != parts[0].Layout.Sheet {
			return ""
		}
	}
	return parts[0].Layout.Sheet
}

func summarize(p *plan.Plan, engineName string, res *engine.Result, total time.Duration) *evidence.Summary {
	s := &evidence.Summary{
		RecipeID: p.RecipeID,
		Engine:   engineName,
		Left:     evidence.SideSummary{Alias: p.Left.Alias, Rows: res.LeftRows, FilteredOut: res.LeftFilteredOut},
		Right:    evidence.SideSummary{Alias: p.Right.Alias, Rows: res.RightRows, FilteredOut: res.RightFilteredOut},
		Rules:    make([]evidence.RuleSummary, len(p.Rules)),
		TimingsMS: evidence.Timings{
			Load:  res.Timings.Load.Milliseconds(),
			Match: res.Timings.Match.Milliseconds(),
			Write: res.Timings.Write.Milliseconds(),
			Total: total.Milliseconds(),
		},
	}
	for i, r := range p.Rules {
		c := res.Rules[i]
		s.Rules[i] = evidence.RuleSummary{Name: r.Name, Pattern: r.PatternName(), Groups: c.Groups, LeftMatched: c.LeftMatched, RightMatched: c.RightMatched}
		s.MatchGroups += c.Groups
		s.Left.Matched += c.LeftMatched
		s.Right.Matched += c.RightMatched
	}
	s.Left.Files, s.Right.Files = patternFiles(p.Left), patternFiles(p.Right)
	s.Left.Sheet, s.Right.Sheet = SheetOf(p.Left), SheetOf(p.Right)
	s.Left.Unmatched = s.Left.Rows - s.Left.Matched
	s.Right.Unmatched = s.Right.Rows - s.Right.Matched
	s.Left.Totals = totalSummaries(p.Left.Totals, res.LeftTotals)
	s.Right.Totals = totalSummaries(p.Right.Totals, res.RightTotals)
	for k := range s.Rules {
		s.Rules[k].Totals = ruleTotals(k, p, res.RuleTotals)
	}
	return s
}

// ruleTotals lists the sums of the records rule k matched, the left side's
// totals first, each in the recipe's order; a total without by has a line
// even when the rule matched none of the side's records.
func ruleTotals(k int, p *plan.Plan, sums []engine.RuleSums) []evidence.RuleTotal {
	var out []evidence.RuleTotal
	for _, side := range []struct {
		name   string
		totals []plan.Total
	}{{"left", p.Left.Totals}, {"right", p.Right.Totals}} {
		for i, t := range side.totals {
			line := evidence.RuleTotal{Side: side.name, Column: t.Column.Name}
			if t.By != nil {
				line.By = t.By.Name
			}
			found := false
			for _, x := range sums {
				if x.Rule == k && x.Side == side.name && x.Total == i {
					found = true
					line.Value, line.Records, line.Empty, line.Total = x.Value, x.Records, x.Empty, x.Sum
					out = append(out, line)
				}
			}
			if !found && t.By == nil {
				line.Total = new(big.Rat).FloatString(t.Column.Scale)
				out = append(out, line)
			}
		}
	}
	return out
}

// totalSummaries lists a side's totals, a line per value of a total's by
// column.
func totalSummaries(totals []plan.Total, sums [][]engine.Sums) []evidence.TotalSummary {
	var out []evidence.TotalSummary
	for i, t := range totals {
		for _, x := range sums[i] {
			line := evidence.TotalSummary{
				Column: t.Column.Name, Value: x.Value, Records: x.Records,
				MatchedRecords: x.MatchedRecords, UnmatchedRecords: x.Records - x.MatchedRecords, Empty: x.Empty,
				Total: x.Total, Matched: x.Matched, Unmatched: x.Unmatched,
			}
			if t.By != nil {
				line.By = t.By.Name
			}
			out = append(out, line)
		}
	}
	return out
}
