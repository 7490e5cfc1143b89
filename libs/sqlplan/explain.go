package sqlplan

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
)

// RuleScript is one rule's SQL, as a person reads it.
type RuleScript struct {
	Rule string
	SQL  string
}

// Explain renders the whole plan as a readable SQL script: loading, each
// rule in execution order (loops marked with comments) and near misses.
// File paths are shown, credentials never are.
func Explain(p *plan.Plan) (rules []RuleScript, script string) {
	var b strings.Builder
	b.WriteString("-- Kalla plan for recipe " + p.RecipeID + " (DuckDB SQL)\n")
	for _, side := range []struct {
		table string
		in    plan.Input
	}{{Left, p.Left}, {Right, p.Right}} {
		side.in = Counted(side.in)
		if side.in.Ref.Format == source.FormatPostgres {
			// The copy counts the rows read; any count renders alike.
			side.in.Read = max(side.in.Read, 1)
		}
		fmt.Fprintf(&b, "\n-- load %s from %s\n", side.in.Alias, side.in.Ref)
		if where := PostgresWhere(side.in, true); side.in.Ref.Format == source.FormatPostgres && where != "" {
			fmt.Fprintf(&b, "-- PostgreSQL copies only the rows where %s\n-- (conditions on text when the server's text is UTF-8, as it is by default)\n", where)
		}
		query := read(side.in)
		if q := SampleOrderBreaks(side.in, query); q != "" {
			fmt.Fprintf(&b, "-- where 0, the first %d records read come in key order:\n%s;\n-- then stored as read, and sorted where the count below finds them out of order:\n%s;\n%s;\n-- else sorted as read:\n",
				SampleRows, q, strings.Join(Load(side.table, side.in, query, ReadOrder), ";\n"), SortLoaded(side.table, side.in))
		}
		fmt.Fprintf(&b, "%s;\n", strings.Join(Load(side.table, side.in, query, KeyOrder), ";\n"))
		switch count, drop := Unfiltered(side.table, side.in); {
		case count != "":
			fmt.Fprintf(&b, "-- the records the filter left out: those read (below) less those kept\n%s;\n%s;\n", count, drop)
		case len(side.in.Filters) > 0:
			fmt.Fprintf(&b, "-- the records the filter left out: those counted as the source was read (%s) less those kept\n", counter[side.in.Ref.Format])
		}
		if q := KeyOrderBreaks(side.table, side.in); q != "" {
			fmt.Fprintf(&b, "-- must be 0: keys are unique, not empty and numbered in order\n%s;\n", q)
			fmt.Fprintf(&b, "-- otherwise names the keys at fault\n%s;\n", KeyProblems(side.table, side.in))
		}
	}
	b.WriteString("\n" + strings.Join(Setup(p), ";\n") + ";\n")
	for k, r := range p.Rules {
		text := ruleScript(k, r)
		rules = append(rules, RuleScript{Rule: r.Name, SQL: text})
		fmt.Fprintf(&b, "\n-- rule %d: %s (%s)\n%s", k+1, r.Name, r.PatternName(), text)
	}
	left, right := Sides(p)
	b.WriteString("\n-- near misses of unmatched records\n")
	for k, r := range p.Rules {
		for _, side := range []Side{left, right} {
			steps := NearMisses(k, r, side)
			many := strings.Join(steps.For(math.Inf(1), false), ";\n") + ";\n"
			coarse := many
			if steps.Widens(true) {
				coarse = widening(steps.Widening)
			}
			fmt.Fprintf(&b, "-- where the rule's keys are coarse (see its candidates)\n%s"+
				"-- else, where a record of the side shares its keys with more than %g others on average (the pairs sharing keys / the side's records)\n%s"+
				"-- else, where with more than %g others\n%s;\n-- else\n%s;\n",
				coarse, float64(AggregatePairs), many, WindowPairs, strings.Join(steps.For(AggregatePairs, false), ";\n"), strings.Join(steps.For(0, false), ";\n"))
		}
	}
	if q := BestNearMisses(p); q != "" {
		fmt.Fprintf(&b, "%s;\n", q)
	}
	for _, side := range []Side{left, right} {
		for _, t := range side.Input.Totals {
			fmt.Fprintf(&b, "-- total of %s.%s\n%s;\n", side.Input.Alias, t.Column.Name, Total(side, t))
		}
	}
	fmt.Fprintf(&b, "\n-- evidence\n%s;\n", RuleCounts(p))
	if q := SortPairs(p); q != "" {
		fmt.Fprintf(&b, "%s;\n", q)
	}
	fmt.Fprintf(&b, "%s;\n%s;\n%s;\n", Matched(p), Unmatched(p, left), Unmatched(p, right))
	return rules, b.String()
}

// counter names who counts a source's records as it is read.
var counter = map[source.Format]string{
	source.FormatCSV:      "by Kalla's CSV reader",
	source.FormatParquet:  "by the Parquet footers",
	source.FormatPostgres: "by PostgreSQL, in the copy's snapshot",
}

// read is the query that reads a side, as Explain shows it.
func read(in plan.Input) string {
	path := in.Ref.Path
	switch {
	case in.Ref.Format == source.FormatPostgres:
		path = "<COPY of " + in.Ref.Table + ">.csv"
	case in.Ref.Object:
		path = in.Ref.String()
	}
	switch in.Ref.Format {
	case source.FormatCSV:
		parts := slices.Clone(in.Schema.CSVParts(path))
		for i, p := range parts {
			parts[i].Path = shownFile(in, p.Path)
			if p.Layout.NeedsRewrite() {
				// The engine reads the file as Kalla's reader rewrote it.
				from := "its header"
				if p.Layout.Headerless() {
					from = "its first record"
				}
				utf8 := ""
				if p.Layout.Encoding != "" {
					utf8 = ", in UTF-8"
				}
				what := " rewritten from " + from + " on, its lines ending in \\n alone" + utf8
				if p.Layout.Sheet != "" {
					what = fmt.Sprintf(" sheet %q written as CSV from %s on", p.Layout.Sheet, from)
				}
				parts[i].Path = "<" + parts[i].Path + what + ">"
				parts[i].Layout = p.Layout.Rewritten()
				parts[i].Layout.LongestRecord = p.Layout.LongestRecord
			}
		}
		return ReadCSVParts(parts, in.Schema)
	case source.FormatParquet:
		files := slices.Clone(in.Schema.Files) // the parts of a directory, or the files a pattern names
		if len(files) == 0 || in.Ref.Object && !source.Pattern(path) {
			files = []string{path} // one object's copy has a name of the planner's
		}
		for i, f := range files {
			files[i] = shownFile(in, f)
		}
		return ReadParquet(files, in.Schema)
	case source.FormatPostgres:
		return ReadCopy(path, in.Schema)
	}
	return ""
}

// shownFile is how Explain names a file a side reads: an object source's
// copy stands for the object, its name kept with the ending that says how
// it is read; the planner's copies are gone once it has read them.
func shownFile(in plan.Input, path string) string {
	if !in.Ref.Object {
		return path
	}
	uri := in.Ref.String()
	return "<download of " + uri[:strings.LastIndex(uri, "/")] + ">/" + filepath.Base(path)
}

// widening is w's statements, its rounds as a loop.
func widening(w *Widening) string {
	count, settle := w.Round(w.Width)
	text := fmt.Sprintf("%s;\n-- the records left to settle: %s;\n", strings.Join(w.Create, ";\n"), w.Unsettled)
	if w.Threshold > 0 {
		thresholdCount, _ := w.Round(w.Threshold)
		text += fmt.Sprintf("-- where the pairs in the bands of the threshold, %s, are at most about a million,\n-- %s,\n-- the rounds start there, without the step below; else:\n",
			w.Distance(w.Threshold), thresholdCount)
	}
	if w.PassingRounds != nil {
		below := ""
		if w.Threshold > 0 {
			below = " below " + w.Distance(w.Threshold) + ","
		}
		count, settle := w.PassingRounds(w.Width)
		text += fmt.Sprintf("-- first, the records with a pair passing every condition near their value: repeat with a radius of %s%s, then %d times the last, at most %d times,%s while records are left to settle, the round before (if it compared pairs) settled some, and the pairs the round makes,\n-- %s,\n"+
			"-- are at most 1/%d of those sharing keys with the records left and 1/%d of those in the bands below, and those are more than about 16 million:\n%s;\n-- end repeat\n",
			w.Distance(w.Width), thenOne(w), WidenBy, MaxRounds, below, count, RoundShare, AheadShare, settle)
	}
	for i, passing := range w.Passing {
		if i > 0 {
			text += "-- or, where the pairs in these bands are fewer:\n"
		}
		text += fmt.Sprintf("-- then, if the pairs in the bands,\n-- %s,\n-- are at most 1/%d of those sharing keys with the records (else no round runs):\n%s;\n",
			passing[0], BandsShare, passing[1])
	}
	if l := w.Lookups; l != nil {
		text += fmt.Sprintf("-- then, if it ran, the nearest values:\n%s;\n", l.Values)
		if l.Tied != "" {
			text += fmt.Sprintf("-- where the others at those values number more than %d times the values,\n-- %s,\n"+
				"-- the nearest of them on the other condition: if the pairs in the bands and those,\n-- %s,\n"+
				"-- are at most 1/%d of those sharing keys with the records left (else the rounds below):\n%s;\n-- else every other there:\n",
				TiedBy, l.Tied, l.Nearest[0], BandsShare, l.Nearest[1])
		}
		text += fmt.Sprintf("-- if the pairs in the bands and at those values,\n-- %s,\n"+
			"-- are at most 1/%d of those sharing keys with the records left (else the rounds below):\n%s;\n%s;\n",
			l.All[0], BandsShare, l.All[1], l.Drop)
	}
	text += fmt.Sprintf(
		"-- repeat with a radius of %s%s, then %d times the last, at most %d times, while records are left to settle and the pairs the round makes (of values, or bands of the radius, next to each other),\n-- %s,\n"+
			"-- are at most 1/%d of those sharing keys with the records left (estimated: their number x the pairs sharing keys / the side's records):\n%s;\n-- end repeat\n",
		w.Distance(w.Width), thenOne(w), WidenBy, MaxRounds, count, RoundShare, settle)
	if w.InBands[0] != "" {
		text += fmt.Sprintf("-- then, if records are left and the pairs in the bands,\n-- %s,\n-- are at most 1/%d of those sharing keys with them:\n%s;\n",
			w.InBands[0], BandsShare, w.InBands[1])
	}
	if a := w.Apart; a != nil {
		text += fmt.Sprintf("-- then, if that ran and records are left (their every pair fails every condition), their nearest values:\n%s;\n"+
			"-- if the pairs at those values,\n-- %s,\n-- are at most 1/%d of those sharing keys with the records left:\n%s;\n%s;\n",
			a.Values, a.All[0], BandsShare, a.All[1], a.Drop)
	}
	return text + strings.Join(w.Finish, ";\n") + ";\n"
}

// thenOne is what follows a first radius of w.Width in w's rounds: a unit
// where that is 0.
func thenOne(w *Widening) string {
	if w.Width == 0 {
		return " (the same value), then of " + w.Distance(1)
	}
	return ""
}

// stagesScript is st's statements, its stages as a loop.
func stagesScript(st *Stages) string {
	var rest, restCount []string
	for i, way := range st.Rest {
		restCount, rest = append(restCount, way[0]), append(rest, way[1])
		if i > 0 {
			restCount[i], rest[i] = "or, in the bands of a condition: "+way[0], "-- or, in the bands of a condition:\n"+way[1]
		}
	}
	equal := ""
	if st.Equal != "" {
		equal = fmt.Sprintf("-- where the keys are coarse and making the candidates of the free records at once compares more than about a million pairs,\n"+
			"-- first the pairs equal in every condition, the n-th left record of each block of equal values with its n-th right one:\n%s;\n-- and take them as the loop below does\n", st.Equal)
	}
	if st.Bound == 0 {
		return equal + fmt.Sprintf("-- then the rest at once, the way of the fewest,\n-- %s:\n%s;\n-- and take them as the loop below does\n-- else\n",
			strings.Join(restCount, ";\n-- "), strings.Join(rest, ";\n"))
	}
	count, stage := st.Stage(st.Start)
	bound := ""
	if st.Bound != math.MaxInt64 {
		bound = " below " + st.Distance(st.Bound) + ","
	}
	return equal + fmt.Sprintf("-- where the keys are coarse, stages: repeat with a radius of 0 (the same value), then %s, then %d times the last,%s while the pairs the stage compares,\n-- %s,\n"+
		"-- are at most 1/%d of those that making the candidates of the free records at once, the way of the fewest, compares, and those are more than about a million (1/%d where those are more than about 16 million),\n-- %s:\n"+
		"%s;\n-- and take them as the loop below does\n-- end repeat\n-- then the rest at once, the way of the fewest:\n%s;\n-- and take them as the loop below does\n-- else\n",
		st.Distance(st.Start), WidenBy, bound, count, RoundShare, AheadShare, strings.Join(restCount, ";\n-- "), stage, strings.Join(rest, ";\n"))
}

func ruleScript(k int, r plan.Rule) string {
	steps := Rule(k, r)
	var b strings.Builder
	fmt.Fprintf(&b, "-- the keys are coarse when the pairs sharing keys (sampled pairs x records / sampled records, each side) > 16 x (left + right records), counted by:\n-- %s;\n", steps.KeyStats)
	if st := steps.Stages; st != nil {
		b.WriteString(stagesScript(st))
	}
	if steps.Banded != "" {
		fmt.Fprintf(&b, "-- where they are coarse\n%s;\n-- else\n", steps.Banded)
	}
	if joinsOnly(r) {
		b.WriteString("-- every condition a join key: the records sharing keys all tie, so only the pairs that decide are made\n" +
			"-- (1:1, the n-th left record with the n-th right one in key order; 1:N and M:1, the first of the one side;\n" +
			"-- M:N, each record with the first of the other side, which links the records sharing keys into one group)\n")
	}
	fmt.Fprintf(&b, "%s;\n", steps.Candidates)
	for _, q := range steps.Prepare {
		fmt.Fprintf(&b, "%s;\n", q)
	}
	if len(steps.Loop) > 0 {
		fmt.Fprintf(&b, "-- repeat until this returns 0 or the same value twice: %s\n", steps.Probe)
		for i, q := range steps.Loop {
			fmt.Fprintf(&b, "%s;\n", q)
			if i == 0 && steps.AloneFirst != "" {
				fmt.Fprintf(&b, "-- (where the keys are not coarse and a record is in at most %d pairs sharing them on average, each side, instead:\n-- %s;)\n", AloneFirstPairs, steps.AloneFirst)
			}
			if i == 0 && steps.TakesAll {
				b.WriteString("-- stop here if that inserted as many rows as the count returned\n")
			}
		}
		if w := steps.Walk; w != nil {
			fmt.Fprintf(&b, "-- or, after a round that took less than half of the candidates, walk the rest in order and stop:\n"+
				"-- %s;\n-- keep each pair whose records no pair kept before holds, in:\n%s;\n%s;\n", w.Read, w.Create, w.Insert)
		}
		b.WriteString("-- end repeat\n")
	}
	for _, q := range steps.Finish {
		fmt.Fprintf(&b, "%s;\n", q)
	}
	return b.String()
}
