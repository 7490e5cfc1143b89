package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/sqlplan"
)

// explainCommand checks a recipe against its sources' columns and types
// without reading their data, and says what a run would do: each side's
// columns as read, and the rules in the order they run; with --sql, the
// engine's script too. What only the data shows (a duplicate key, a value
// a pattern or a type refuses) a run still checks.
func explainCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kalla explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	recipePath := fs.String("recipe", "", "recipe file, JSON or YAML (required)")
	withSQL := fs.Bool("sql", false, "also print the SQL script the DuckDB engine would run")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "kalla explain: unexpected argument %q; flags come first, each with its -\n", fs.Arg(0))
		return exitBadInput
	case *recipePath == "":
		fmt.Fprintln(stderr, "kalla explain: --recipe is required")
		return exitBadInput
	}
	r, err := recipe.Load(*recipePath)
	if err != nil {
		return fail(stderr, err)
	}
	objs, err := fetchObjects(ctx, r, nil)
	if err != nil {
		return fail(stderr, err)
	}
	defer objs.remove()
	p, err := reconcile.Plan(ctx, r)
	if err != nil {
		return fail(stderr, err)
	}
	objs.shown(p)
	var text bytes.Buffer
	describe(&text, p)
	if *withSQL {
		_, script := sqlplan.Explain(p)
		fmt.Fprintf(&text, "\n%s", script)
	}
	return show(stdout, stderr, "kalla explain", text.Bytes(), "the recipe is valid")
}

// describe writes a plan as a person checks it against the files.
func describe(w io.Writer, p *plan.Plan) {
	// Keys, patterns and values are checked when a run reads the data.
	fmt.Fprintf(w, "recipe %s: its fields fit its sources' columns and types (a run still checks the data: unique keys, patterns, values)\n", p.RecipeID)
	for _, side := range []struct {
		name string
		in   plan.Input
	}{{"left", p.Left}, {"right", p.Right}} {
		describeInput(w, side.name, side.in)
	}
	fmt.Fprintln(w, "\nrules, in the order they run:")
	for i, r := range p.Rules {
		fmt.Fprintf(w, "  %d. %s (%s): %s\n", i+1, r.Name, r.PatternName(), strings.Join(conditions(r), "; "))
	}
}

func describeInput(w io.Writer, side string, in plan.Input) {
	fmt.Fprintf(w, "\n%s %s: %s\n", side, in.Alias, in.Ref)
	if in.Ref.Format == source.FormatCSV {
		layout := in.Schema.CSVParts(in.Ref.Path)[0].Layout
		before, lines := "its header", "lines"
		if layout.Sheet != "" {
			lines = "rows"
			sheet := strconv.Quote(layout.Sheet)
			if reconcile.SheetOf(in) == "" {
				sheet = "each of those listed below" // a sheet pattern's
			}
			fmt.Fprintf(w, "  sheet: %s, its cells' values (whole numbers as saved, others to 15 digits; dates and times by their format), written as CSV for the engine\n", sheet)
		}
		if layout.Headerless() {
			before = "its records"
			fmt.Fprintf(w, "  header: none; every %s is a record, of the columns the recipe names\n", strings.TrimSuffix(lines, "s"))
		}
		if layout.Encoding != "" {
			fmt.Fprintf(w, "  encoding: %s, read as UTF-8\n", layout.Encoding)
		}
		if layout.Separator != "" {
			fmt.Fprintf(w, "  separator: %s, as the recipe sets\n", strconv.QuoteRune(rune(layout.Separator[0])))
		}
		if layout.SkipLines > 0 {
			fmt.Fprintf(w, "  skips: the first %d %s of each file, before %s\n", layout.SkipLines, lines, before)
		}
	}
	key := "the row number in the file"
	if files := in.Schema.Files; len(files) > 1 || source.Pattern(in.Ref.Path) {
		fmt.Fprintf(w, "  files, read in this order: %s\n", fileList(reconcile.FileSummaries(in.Schema)))
		key = "the row number, counted through the files in turn"
		if len(files) > 1 {
			key += " (the evidence also names each record's file and its row there)"
		}
	}
	if len(in.Key) > 0 {
		key = source.Schema{Columns: in.Key}.Names()
	}
	fmt.Fprintf(w, "  key: %s\n", key)
	cols := make([]string, len(in.Schema.Columns))
	for i, c := range in.Schema.Columns {
		cols[i] = c.Name + " " + columnType(c)
	}
	fmt.Fprintf(w, "  columns: %s\n", strings.Join(cols, ", "))
	var derived []string
	for _, c := range in.Derived() {
		derived = append(derived, in.Described(c.Name)+" "+c.TypeName())
	}
	if len(derived) > 0 {
		fmt.Fprintf(w, "  derived: %s\n", strings.Join(derived, ", "))
	}
	if len(in.Filters) > 0 {
		fmt.Fprintf(w, "  kept: the records where %s\n", filterText(in.Filters))
	}
	if checks := sqlplan.PostgresChecks(in, true); in.Ref.Format == source.FormatPostgres && len(checks) > 0 {
		note := ""
		if slices.ContainsFunc(checks, func(f plan.Filter) bool { return plan.Classify(f.Column.Type) == plan.String }) {
			note = " (those on text when it encodes text in UTF-8, as by default)"
		}
		fmt.Fprintf(w, "  checked by PostgreSQL before it sends the rows: %s%s\n", filterText(checks), note)
	}
	if len(in.Totals) > 0 {
		totals := make([]string, len(in.Totals))
		for i, t := range in.Totals {
			totals[i] = t.Column.Name
			if t.By != nil {
				totals[i] += " by " + t.By.Name
			}
		}
		fmt.Fprintf(w, "  totals: %s\n", strings.Join(totals, ", "))
	}
}

// filterText is a filter's conditions as a person reads them.
func filterText(filters []plan.Filter) string {
	conds := make([]string, len(filters))
	for i, f := range filters {
		conds[i] = strings.TrimSpace(fmt.Sprintf("%s %s %s", f.Column.Name, recipe.FilterName(f.Op), strings.Join(quotedValues(f), ", ")))
	}
	return strings.Join(conds, " and ")
}

// columnType is a column's type as read, and for a CSV column read as text
// although some values are numbers or dates, the value that made it so.
func columnType(c source.Column) string {
	switch {
	case c.Empty:
		return "(no values)"
	case c.Odd != "":
		return fmt.Sprintf("text (because of %q)", c.Odd)
	case c.LeadingZeros != "":
		return fmt.Sprintf("text (codes with leading zeros, such as %q)", c.LeadingZeros)
	case c.Exponent != "":
		return fmt.Sprintf("text (numbers with an exponent, such as %q: set its type to decimal to read them)", c.Exponent)
	}
	return c.TypeName()
}

func conditions(r plan.Rule) []string {
	var out []string
	for _, c := range r.Conditions {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", c.LeftLabel, recipe.OperatorName(c.Op), c.RightLabel, c.ThresholdText)))
	}
	switch a := r.Aggregate; {
	case a == nil:
	case r.Pattern == kallav1.Pattern_PATTERN_MANY_TO_ONE:
		out = append(out, fmt.Sprintf("aggregate the sum of %s and %s within %s", a.LeftLabel, a.RightLabel, a.ToleranceText))
	default:
		out = append(out, fmt.Sprintf("aggregate %s and the sum of %s within %s", a.LeftLabel, a.RightLabel, a.ToleranceText))
	}
	return out
}

// quotedValues are a filter's values, text quoted.
func quotedValues(f plan.Filter) []string {
	out := make([]string, len(f.Values))
	for i, v := range f.Values {
		out[i] = v
		if plan.Classify(f.Column.Type) == plan.String {
			out[i] = fmt.Sprintf("%q", v)
		}
	}
	return out
}

// fileList lists files with the records each holds, the first ten of
// many: a file missed or empty shows.
func fileList(files []evidence.FileSummary) string {
	const shown = 10
	names := make([]string, 0, shown)
	for _, f := range files[:min(len(files), shown)] {
		names = append(names, fmt.Sprintf("%s (%s)", f.Name, source.RowCount(f.Rows)))
	}
	text := strings.Join(names, ", ")
	if len(files) > shown {
		text += fmt.Sprintf(" and %d more", len(files)-shown)
	}
	return text
}
