package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"golang.org/x/term"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
)

// maxThreads bounds --threads: DuckDB takes a count it can hold, and a
// machine with more cores than this is not one Kalla runs on.
const maxThreads = 4096

func reconcileCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kalla reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	recipePath := fs.String("recipe", "", "recipe file, JSON or YAML (required)")
	out := fs.String("out", "", "directory, or s3://bucket/prefix, for matched, unmatched_left, unmatched_right and summary.json (default: the recipe's output paths)")
	format := fs.String("format", "parquet", "evidence format: parquet, csv or xlsx (Excel workbooks, a sheet each)")
	asJSON := fs.Bool("json", false, "print only the summary JSON on stdout")
	threads := fs.Int("threads", 0, "engine threads (default: one per core)")
	memoryLimit := fs.String("memory-limit", "", "engine memory limit such as 2GB; past it the engine spills to disk (default: 80% of RAM)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		// Flags after it were not read: say what stopped them.
		fmt.Fprintf(stderr, "kalla reconcile: unexpected argument %q; flags come first, each with its -\n", fs.Arg(0))
		return exitBadInput
	case *recipePath == "":
		fmt.Fprintln(stderr, "kalla reconcile: --recipe is required")
		return exitBadInput
	case !slices.Contains(engine.Formats, engine.Format(*format)):
		fmt.Fprintf(stderr, "kalla reconcile: --format %q: allowed are parquet, csv and xlsx\n", *format)
		return exitBadInput
	case *threads < 0 || *threads > maxThreads:
		fmt.Fprintf(stderr, "kalla reconcile: --threads %d: allowed are 0 (one per core) to %d\n", *threads, maxThreads)
		return exitBadInput
	}

	r, err := recipe.Load(*recipePath)
	if err != nil {
		return fail(stderr, err)
	}
	opts := reconcile.Options{
		Engine: &duckdb.Engine{Threads: *threads, MemoryLimit: *memoryLimit},
		Format: engine.Format(*format),
		OutDir: *out,
	}
	if !*asJSON && isTerminal(stderr) {
		opts.Progress = progressPrinter(stderr)
	}
	sum, err := reconcileObjects(ctx, r, opts)
	if err != nil {
		if opts.Progress != nil {
			fmt.Fprint(stderr, "\r\033[K") // the progress line, not the error's
		}
		var upErr *uploadError
		switch {
		case ctx.Err() != nil && errors.As(err, &upErr):
			fmt.Fprintf(stderr, "kalla: stopped while uploading: %v\n", err)
			return exitFailure
		case ctx.Err() != nil:
			fmt.Fprintln(stderr, "kalla: stopped before the end; no output was published")
			return exitFailure
		}
		return fail(stderr, err)
	}
	const done = "the evidence is published"
	if *asJSON {
		return showJSON(stdout, stderr, "kalla", sum, done)
	}
	var text bytes.Buffer
	printSummary(&text, sum)
	return show(stdout, stderr, "kalla", text.Bytes(), done)
}

// reconcileObjects is reconcile.Run with the sources of an object store
// downloaded first, and with the evidence uploaded after when the output
// folder is one (--out s3://bucket/prefix).
func reconcileObjects(ctx context.Context, r *kallav1.Recipe, opts reconcile.Options) (*evidence.Summary, error) {
	var up *upload
	if strings.Contains(opts.OutDir, "://") {
		if !strings.HasPrefix(opts.OutDir, "s3://") {
			return nil, engine.BadInput("--out %s: give a folder, or s3://bucket/prefix", opts.OutDir)
		}
		var err error
		if up, err = newUpload(opts.OutDir); err != nil {
			return nil, err
		}
		defer up.remove()
		if err := up.checkPlaces(r); err != nil {
			return nil, err
		}
		opts.OutDir = up.dir
	}
	objs, err := fetchObjects(ctx, r, opts.Progress)
	if err != nil {
		return nil, err
	}
	defer objs.remove()
	sum, err := reconcile.Run(ctx, r, opts)
	if err != nil || up == nil {
		return sum, err
	}
	if opts.Progress != nil {
		opts.Progress(engine.Progress{Phase: engine.PhaseWrite, Detail: "uploading to " + up.store.URI("")})
	}
	return sum, up.publish(ctx, opts.Format)
}

// show writes the answer of a command that has done its work to stdout. A
// failed write (a full disk) is exit 1, so that a script does not take the
// missing answer for success; done says what stands. (A closed pipe ends
// the process first, by SIGPIPE, as Go does on stdout: exit 141 in a shell.)
func show(stdout, stderr io.Writer, cmd string, text []byte, done string) int {
	if _, err := stdout.Write(text); err != nil {
		fmt.Fprintf(stderr, "%s: %s, but the answer could not be written to stdout: %v\n", cmd, done, err)
		return exitFailure
	}
	return exitOK
}

// showJSON is show for v as indented JSON.
func showJSON(stdout, stderr io.Writer, cmd string, v any, done string) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return exitFailure
	}
	return show(stdout, stderr, cmd, append(b, '\n'), done)
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "kalla: %v\n", err)
	if reconcile.IsBadInput(err) {
		return exitBadInput
	}
	return exitFailure
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func progressPrinter(w io.Writer) func(engine.Progress) {
	start := time.Now()
	return func(p engine.Progress) {
		line := string(p.Phase)
		if p.Detail != "" {
			line += ": " + p.Detail
		}
		fmt.Fprintf(w, "\r\033[K[%5.1fs] %s", time.Since(start).Seconds(), line)
		if p.Phase == engine.PhaseWrite {
			fmt.Fprintln(w)
		}
	}
}

// printSummary writes the readable table a person sees at the end of a run.
func printSummary(w io.Writer, s *evidence.Summary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "recipe %s (engine %s, %d ms)\n\n", s.RecipeID, s.Engine, s.TimingsMS.Total)
	// Records a filter left out are shown when there are any.
	filtered := s.Left.FilteredOut+s.Right.FilteredOut > 0
	header := "side\talias\trows\tmatched\tunmatched\tmatch rate\t"
	if filtered {
		header += "filtered out\t"
	}
	fmt.Fprintln(tw, header)
	for _, side := range sides(s) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t", side.name, side.s.Alias, side.s.Rows, side.s.Matched, side.s.Unmatched, rate(side.s.Matched, side.s.Rows))
		if filtered {
			fmt.Fprintf(tw, "%d\t", side.s.FilteredOut)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, side := range sides(s) {
		if n := len(side.s.Files); n > 0 {
			noun := "files"
			if n == 1 {
				noun = "file"
			}
			fmt.Fprintf(w, "\n  %s read from %d %s: %s\n", side.s.Alias, n, noun, fileList(side.s.Files))
		}
		if side.s.Sheet != "" {
			fmt.Fprintf(w, "\n  %s read from sheet %q\n", side.s.Alias, side.s.Sheet)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "rule\tpattern\tgroups\tleft matched\tright matched\t")
	for _, r := range s.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t\n", r.Name, r.Pattern, r.Groups, r.LeftMatched, r.RightMatched)
	}
	fmt.Fprintf(tw, "%s\t\t%d\t%d\t%d\t\n", strings.Repeat("-", 5), s.MatchGroups, s.Left.Matched, s.Right.Matched)
	tw.Flush()
	printTotals(w, s)
}

// namedSide is a side of a summary with its name, left or right.
type namedSide struct {
	name string
	s    evidence.SideSummary
}

func sides(s *evidence.Summary) []namedSide {
	return []namedSide{{"left", s.Left}, {"right", s.Right}}
}

// printTotals writes the sums the recipe asks for, a line per total and
// value of its by column.
func printTotals(w io.Writer, s *evidence.Summary) {
	if len(s.Left.Totals)+len(s.Right.Totals) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "side\tcolumn\trecords\tempty\ttotal\tmatched\tunmatched\t")
	for _, side := range sides(s) {
		for _, t := range side.s.Totals {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t\n", side.name, totalName(t.Column, t.By, t.Value), t.Records, t.Empty, t.Total, t.Matched, t.Unmatched)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "rule\tside\tcolumn\tmatched records\tmatched\t")
	for _, r := range s.Rules {
		for _, t := range r.Totals {
			name := totalName(t.Column, t.By, t.Value)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t\n", r.Name, t.Side, name, t.Records, t.Total)
		}
	}
	tw.Flush()
}

// totalName is a total as a person reads it: "amount", "amount, currency
// EUR" or, for an empty value, "amount, currency (empty)". A value that
// could be mistaken for another (" EUR", "(empty)") or would tear the
// table apart (a tab) is quoted.
func totalName(column, by string, value *string) string {
	switch {
	case by == "":
		return column
	case value == nil:
		return fmt.Sprintf("%s, %s (empty)", column, by)
	}
	v := *value
	if v == "" || v == "(empty)" || strings.TrimSpace(v) != v || strings.ContainsFunc(v, unicode.IsControl) {
		v = strconv.Quote(v)
	}
	return fmt.Sprintf("%s, %s %s", column, by, v)
}

func rate(n, of int64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}
