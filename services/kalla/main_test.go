package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/scratch"
	"github.com/kallahq/kalla/libs/source"
)

type result struct {
	code           int
	stdout, stderr string
}

func kalla(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// example copies the bundled example into a temp dir and returns the recipe.
func example(t *testing.T) string {
	t.Helper()
	return copyExample(t, "invoices", "invoices.csv", "payments.csv")
}

// copyExample copies examples/name's recipe.json and files (which may be
// in folders of their own) into a temp dir and returns the recipe.
func copyExample(t *testing.T, name string, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, file := range append([]string{"recipe.json"}, files...) {
		b, err := os.ReadFile(filepath.Join("../../examples", name, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, file)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "recipe.json")
}

func TestFlags(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"reconcile", "submit"} {
		t.Run(command+"_help", func(t *testing.T) {
			// On stdout, as 'kalla help': 'kalla reconcile -h | less' works.
			for _, flag := range []string{"-help", "-h", "--help"} {
				r := kalla(t, command, flag)
				if r.code != exitOK || !strings.Contains(r.stdout, "-recipe") || r.stderr != "" {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0 and the flags on stdout", flag, r.code, r.stdout, r.stderr)
				}
			}
		})
		t.Run(command+"_unknown_flag", func(t *testing.T) {
			r := kalla(t, command, "--nope")
			if r.code != exitBadInput || !strings.Contains(r.stderr, "nope") {
				t.Errorf("exit %d, stderr %q; want 2 naming the flag", r.code, r.stderr)
			}
		})
	}
}

func TestReconcileCommand(t *testing.T) {
	t.Parallel()
	t.Run("json_prints_only_the_summary", func(t *testing.T) {
		t.Parallel()
		out := filepath.Join(t.TempDir(), "out")
		r := kalla(t, "reconcile", "--recipe", example(t), "--out", out, "--json")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var s evidence.Summary
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("stdout is not the summary JSON: %v\n%s", err, r.stdout)
		}
		onDisk, err := evidence.ReadSummary(filepath.Join(out, "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		if s.MatchGroups != onDisk.MatchGroups || s.Left.Rows != 15 || s.Left.Rows != s.Left.Matched+s.Left.Unmatched {
			t.Errorf("summary = %+v, on disk %+v", s, onDisk)
		}
		// By currency, summed from the files by hand: only USD matched,
		// the 0.01 the rule's tolerance allows between the two sides.
		want := []string{"left amount/EUR 10000.00 0.00 10000.00", "left amount/GBP 8500.00 0.00 8500.00", "left amount/USD 343300.49 124450.49 218850.00",
			"right paid_amount/EUR 15000.00 0.00 15000.00", "right paid_amount/USD 148170.56 124450.50 23720.06"}
		if got := sums(&s); !slices.Equal(got, want) {
			t.Errorf("totals = %q, want %q", got, want)
		}
		for _, f := range []string{"matched.parquet", "unmatched_left.parquet", "unmatched_right.parquet"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("missing %s: %v", f, err)
			}
		}
	})
	t.Run("no_header_row", func(t *testing.T) {
		t.Parallel()
		var summaries [2]evidence.Summary
		for i, recipe := range []string{example(t), withoutHeader(t, example(t))} {
			r := kalla(t, "reconcile", "--recipe", recipe, "--out", filepath.Join(t.TempDir(), "out"), "--json")
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if err := json.Unmarshal([]byte(r.stdout), &summaries[i]); err != nil {
				t.Fatal(err)
			}
		}
		with, without := summaries[0], summaries[1]
		if without.Left.Rows != 15 || without.Left.Matched != with.Left.Matched || without.Right.Matched != with.Right.Matched || without.MatchGroups != with.MatchGroups || !slices.Equal(sums(&without), sums(&with)) {
			t.Errorf("without a header: %+v\nwith one: %+v", without, with)
		}
	})
	t.Run("without_out_uses_the_recipe_output_paths", func(t *testing.T) {
		t.Parallel()
		recipe := example(t)
		r := kalla(t, "reconcile", "--recipe", recipe)
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		dir := filepath.Dir(recipe)
		for _, f := range []string{"out/matched.parquet", "out/unmatched_invoices.parquet", "out/unmatched_payments.parquet", "out/summary.json"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("missing %s: %v", f, err)
			}
		}
		if !strings.Contains(r.stdout, "split_payments") || !strings.Contains(r.stdout, "match rate") {
			t.Errorf("summary table missing from stdout:\n%s", r.stdout)
		}
	})
	t.Run("output_path_of_another_format_is_bad_input", func(t *testing.T) {
		t.Parallel()
		recipe := example(t)
		r := kalla(t, "reconcile", "--recipe", recipe, "--format", "csv")
		if want := `/out/matched.parquet" ends in .parquet, but the evidence format is csv: give --format parquet, or name the file .csv`; r.code != exitBadInput || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(recipe), "out")); !os.IsNotExist(err) {
			t.Errorf("the refused run made its output directory: %v", err)
		}
	})
	t.Run("outputs_never_overwrite_sources_or_each_other", func(t *testing.T) {
		t.Parallel()
		recipe := example(t)
		dir := filepath.Dir(recipe)
		text, err := os.ReadFile(recipe)
		if err != nil {
			t.Fatal(err)
		}
		write := func(t *testing.T, name, old, new string) string {
			t.Helper()
			path := filepath.Join(dir, name+".json")
			if err := os.WriteFile(path, []byte(strings.Replace(string(text), old, new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			return path
		}
		// The payments are read from out/matched.parquet: a CSV run into
		// out would remove it as the other format's evidence.
		out := filepath.Join(dir, "out")
		os.MkdirAll(out, 0o755)
		data, _ := os.ReadFile(filepath.Join(dir, "payments.csv"))
		os.WriteFile(filepath.Join(out, "matched.csv"), data, 0o644)
		for name, tc := range map[string]struct{ recipe, format, want string }{
			"source_as_stale_output":  {write(t, "stale", "file://payments.csv", "file://out/matched.csv"), "parquet", "an earlier output this run would remove, is source payments"},
			"source_as_output":        {write(t, "output", "file://payments.csv", "file://out/matched.csv"), "csv", "is where source payments is read from"},
			"two_outputs_at_one_path": {write(t, "twice", "out/unmatched_invoices.parquet", "out/matched.parquet"), "parquet", "is named for two outputs"},
			// A pattern names the files in its folder that match it.
			"pattern_names_output":       {write(t, "pattern", "file://payments.csv", "file://out/m*.csv"), "csv", "out/matched.csv would be read by source payments, whose pattern m*.csv names it"},
			"pattern_names_stale_output": {write(t, "stalepattern", "file://payments.csv", "file://out/m*.csv"), "parquet", "out/matched.csv, an earlier output this run would remove, is a file of source payments (its pattern m*.csv names it)"},
		} {
			args := []string{"reconcile", "--recipe", tc.recipe, "--format", tc.format}
			if name != "two_outputs_at_one_path" {
				args = append(args, "--out", out)
			}
			r := kalla(t, args...)
			if r.code != exitBadInput || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s: exit %d, stderr %q; want 2 and %q", name, r.code, r.stderr, tc.want)
			}
		}
		// The same folder reached through a link is the same folder.
		link := filepath.Join(dir, "link")
		if err := os.Symlink(out, link); err != nil {
			t.Fatal(err)
		}
		r := kalla(t, "reconcile", "--recipe", write(t, "linked", "file://payments.csv", "file://out/matched.csv"), "--format", "csv", "--out", link)
		if want := "is where source payments is read from"; r.code != exitBadInput || !strings.Contains(r.stderr, want) {
			t.Errorf("output through a link: exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
		}
		if b, err := os.ReadFile(filepath.Join(out, "matched.csv")); err != nil || string(b) != string(data) {
			t.Errorf("the source out/matched.csv was changed or removed: %v", err)
		}
	})
	t.Run("pattern_files_listed", func(t *testing.T) {
		t.Parallel()
		recipe := splitInvoices(t, example(t))
		r := kalla(t, "reconcile", "--recipe", recipe, "--out", t.TempDir())
		if want := "\n  invoices read from 2 files: invoices-01.csv (7 rows), invoices-02.csv (8 rows)\n\n"; r.code != exitOK || !strings.Contains(r.stdout, want) {
			t.Errorf("exit %d, stdout:\n%s\nwant it to say %q", r.code, r.stdout, want)
		}
		r = kalla(t, "reconcile", "--recipe", recipe, "--out", t.TempDir(), "--json")
		if want := `"files": [`; r.code != exitOK || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, `"name": "invoices-02.csv"`) {
			t.Errorf("exit %d, stdout:\n%s\nwant the files listed", r.code, r.stdout)
		}
	})
	t.Run("rerun_replaces_and_leaves_no_temp_files", func(t *testing.T) {
		t.Parallel()
		recipe, out := example(t), t.TempDir()
		// The first run's Parquet evidence is replaced by the CSV of the
		// next: none of it may stay beside the new summary.
		for i, format := range []string{"parquet", "csv", "csv"} {
			if r := kalla(t, "reconcile", "--recipe", recipe, "--out", out, "--format", format); r.code != exitOK {
				t.Fatalf("run %d: exit %d: %s", i, r.code, r.stderr)
			}
		}
		entries, _ := os.ReadDir(out)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if got := strings.Join(names, " "); got != "matched.csv summary.json unmatched_left.csv unmatched_right.csv" {
			t.Errorf("out dir holds %q", got)
		}
	})
	t.Run("failure_leaves_no_output", func(t *testing.T) {
		t.Parallel()
		// A duplicated invoice id fails the run after the sources were read.
		recipe := duplicateInvoice(t, example(t))
		parent := filepath.Join(t.TempDir(), "a")
		out := filepath.Join(parent, "b", "out")
		r := kalla(t, "reconcile", "--recipe", recipe, "--out", out, "--json")
		if r.code != exitBadInput || r.stdout != "" || !strings.Contains(r.stderr, `"INV-2024-001" (2 rows: lines 2 and 17)`) {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if _, err := os.Stat(parent); !os.IsNotExist(err) {
			t.Errorf("the failed run left the directories it made for %s behind (%v)", out, err)
		}
	})
}

// replaceInFile rewrites the file at path, each old text of pairs (old,
// new, old, new, ...) replaced everywhere by its new one. An old text the
// file lacks fails the test, so that an edit never silently does nothing.
func replaceInFile(t *testing.T, path string, pairs ...string) {
	t.Helper()
	text := string(readFile(t, path))
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(text, pairs[i]) {
			t.Fatalf("%s lacks %q:\n%s", path, pairs[i], text)
		}
		text = strings.ReplaceAll(text, pairs[i], pairs[i+1])
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// splitInvoices splits the example's invoices beside recipe into
// invoices-01.csv and invoices-02.csv, the second separated by semicolons,
// and points the recipe at them by the pattern invoices-*.csv.
func splitInvoices(t *testing.T, recipe string) string {
	t.Helper()
	dir := filepath.Dir(recipe)
	lines := strings.SplitAfter(string(readFile(t, filepath.Join(dir, "invoices.csv"))), "\n")
	for name, text := range map[string]string{"invoices-01.csv": strings.Join(lines[:8], ""),
		"invoices-02.csv": strings.ReplaceAll(lines[0]+strings.Join(lines[8:], ""), ",", ";")} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	replaceInFile(t, recipe, "file://invoices.csv", "file://invoices-*.csv")
	return recipe
}

// duplicateInvoice appends a second INV-2024-001 to the example's invoices
// beside recipe, and returns recipe.
func duplicateInvoice(t *testing.T, recipe string) string {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(filepath.Dir(recipe), "invoices.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("INV-2024-001,CUST-001,Acme,2024-01-15,2024-02-15,1.00,USD,pending,dup\n"); err != nil {
		t.Fatal(err)
	}
	return recipe
}

// sums lists a summary's totals as "side column[/value] total matched
// unmatched".
func sums(s *evidence.Summary) []string {
	var out []string
	for side, totals := range map[string][]evidence.TotalSummary{"left": s.Left.Totals, "right": s.Right.Totals} {
		for _, t := range totals {
			name := t.Column
			if t.Value != nil {
				name += "/" + *t.Value
			}
			out = append(out, fmt.Sprintf("%s %s %s %s %s", side, name, t.Total, t.Matched, t.Unmatched))
		}
	}
	slices.Sort(out)
	return out
}

// TestBankExample runs examples/bank, whose counts are worked out by hand:
// withoutHeader removes the header row of the invoices beside the
// example's recipe at path, and has the recipe name their columns instead.
func withoutHeader(t *testing.T, recipe string) string {
	t.Helper()
	invoices := filepath.Join(filepath.Dir(recipe), "invoices.csv")
	header, records, _ := strings.Cut(string(readFile(t, invoices)), "\n")
	if err := os.WriteFile(invoices, []byte(records), 0o644); err != nil {
		t.Fatal(err)
	}
	columns, err := json.Marshal(strings.Split(header, ","))
	if err != nil {
		t.Fatal(err)
	}
	replaceInFile(t, recipe, `"primary_key": ["invoice_id"],`, `"primary_key": ["invoice_id"], "columns": `+string(columns)+`,`)
	return recipe
}

// PAY-01, 02, 05 and 07 match by the invoice quoted in the memo (02's in
// lower case, two days later), PAY-03 by its amount alone (the memo quotes
// none); PAY-04 was paid 0.10 more than invoiced; PAY-06 is unpaid;
// interest and a fee are the bank's own.
func TestBankExample(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	r := kalla(t, "reconcile", "--recipe", copyExample(t, "bank", "payments.csv", "statement.csv"), "--out", out, "--format", "csv", "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var s evidence.Summary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.Left.Rows != 7 || s.Right.Rows != 8 || s.Rules[0].Groups != 4 || s.Rules[1].Groups != 1 || s.Left.Unmatched != 2 || s.Right.Unmatched != 3 {
		t.Errorf("summary = %+v", s)
	}
	// The amounts as each side writes them: what both matched ties out,
	// 3049.49 paid against -3049.49 on the statement; the statement's
	// unmatched -5002.76 is PAY-04's -5000.10, the interest and the fee.
	if got, want := sums(&s), []string{"left amount 8121.59 3049.49 5072.10", "right amount -8052.25 -3049.49 -5002.76"}; !slices.Equal(got, want) {
		t.Errorf("totals = %q, want %q", got, want)
	}
	// By rule: PAY-01, 02, 05 and 07 by reference, PAY-03 by amount.
	var byRule []string
	for _, r := range s.Rules {
		for _, x := range r.Totals {
			byRule = append(byRule, fmt.Sprintf("%s %s %d %s", r.Name, x.Side, x.Records, x.Total))
		}
	}
	if want := []string{"by_reference left 4 2959.50", "by_reference right 4 -2959.50", "by_amount left 1 89.99", "by_amount right 1 -89.99"}; !slices.Equal(byRule, want) {
		t.Errorf("totals by rule = %q, want %q", byRule, want)
	}
	unmatched := csvEvidence(t, out)["unmatched_right"]
	containsAll(t, "unmatched bank lines", unmatched, "B-104,2024-03-05,INV-1004 UMBRELLA CORP,,5000.10,by_reference,PAY-04,\"-payments.amount differs from bank.amount by 0.10, tolerance 0.01\",1", "B-106,", "B-108,")
}

// TestBankStatementsExample: the bank example's statement as the bank
// exports it a week at a time (Windows-1252, two title lines, no header
// row, no transaction ids, semicolons, DD.MM.YYYY, decimal commas)
// reconciles as the one statement file does, and its unmatched lines name
// their files, their text read as UTF-8.
func TestBankStatementsExample(t *testing.T) {
	t.Parallel()
	weeks := []string{"statement-2024-03-01.csv", "statement-2024-03-05.csv", "statement-2024-03-11.csv"}
	files := []string{"recipe-statements.json", "payments.csv"}
	for _, w := range weeks {
		files = append(files, filepath.Join("statements", w))
	}
	recipe := filepath.Join(filepath.Dir(copyExample(t, "bank", files...)), "recipe-statements.json")
	out := filepath.Join(t.TempDir(), "out")
	r := kalla(t, "reconcile", "--recipe", recipe, "--out", out, "--format", "csv", "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var s evidence.Summary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err)
	}
	// TestBankExample's counts and totals, from the one file.
	if s.Left.Rows != 7 || s.Right.Rows != 8 || s.Rules[0].Groups != 4 || s.Rules[1].Groups != 1 || s.Left.Unmatched != 2 || s.Right.Unmatched != 3 || len(s.Right.Files) != 3 {
		t.Errorf("summary = %+v", s)
	}
	if got, want := sums(&s), []string{"left amount 8121.59 3049.49 5072.10", "right amount -8052.25 -3049.49 -5002.76"}; !slices.Equal(got, want) {
		t.Errorf("totals = %q, want %q", got, want)
	}
	unmatched := csvEvidence(t, out)["unmatched_right"]
	containsAll(t, "unmatched bank lines", unmatched, "4,statement-2024-03-05.csv,2,2024-03-05,INV-1004 UMBRELLA CORP,,5000.10,by_reference,PAY-04,", "6,statement-2024-03-05.csv,4,2024-03-10,INTEREST,12.34,,", "8,statement-2024-03-11.csv,2,2024-03-13,GEBÜHR KONTOFÜHRUNG,,15.00,")
}

// TestBankWorkbookExample: the bank example's statement as the bank's
// Excel workbook (its transactions on the second sheet, under title rows,
// dates and amounts as formatted cells) gives the evidence the statement's
// CSV file does, byte for byte.
func TestBankWorkbookExample(t *testing.T) {
	t.Parallel()
	dir := filepath.Dir(copyExample(t, "bank", "recipe-workbook.json", "payments.csv", "statement.csv", "statement.xlsx"))
	var written map[string]string
	for _, recipe := range []string{"recipe.json", "recipe-workbook.json"} {
		out := filepath.Join(t.TempDir(), "out")
		r := kalla(t, "reconcile", "--recipe", filepath.Join(dir, recipe), "--out", out, "--format", "csv")
		if r.code != exitOK {
			t.Fatalf("%s: exit %d: %s", recipe, r.code, r.stderr)
		}
		// The summary names the sheet read, in the table and in summary.json.
		s := summaryIn(t, out)
		if workbook := recipe == "recipe-workbook.json"; workbook != (s.Right.Sheet == "Transactions") || workbook != strings.Contains(r.stdout, `bank read from sheet "Transactions"`) || s.Left.Sheet != "" {
			t.Errorf("%s: sheets %q and %q in summary.json, table:\n%s", recipe, s.Left.Sheet, s.Right.Sheet, r.stdout)
		}
		got := csvEvidence(t, out)
		for name, text := range written {
			if got[name] != text {
				t.Errorf("%s from the workbook:\n%s\nfrom the CSV file:\n%s", name, got[name], text)
			}
		}
		written = got
	}
	if !strings.Contains(written["unmatched_right"], "B-104,2024-03-05,INV-1004 UMBRELLA CORP,,5000.10,by_reference,PAY-04,") {
		t.Errorf("unmatched bank records:\n%s", written["unmatched_right"])
	}
}

// TestEvidenceAsWorkbooks: --format xlsx writes the evidence as Excel
// workbooks, a sheet each, whose values read back (with Kalla's own
// workbook reader) as the CSV evidence's, and replaces the CSV evidence of
// an earlier run in the directory.
func TestEvidenceAsWorkbooks(t *testing.T) {
	t.Parallel()
	recipe := copyExample(t, "bank", "payments.csv", "statement.csv")
	out := filepath.Join(t.TempDir(), "out")
	if r := kalla(t, "reconcile", "--recipe", recipe, "--out", out, "--format", "csv"); r.code != exitOK {
		t.Fatalf("csv: exit %d: %s", r.code, r.stderr)
	}
	csvText := csvEvidence(t, out)
	if r := kalla(t, "reconcile", "--recipe", recipe, "--out", out, "--format", "xlsx"); r.code != exitOK {
		t.Fatalf("xlsx: exit %d: %s", r.code, r.stderr)
	}
	for name, text := range csvText {
		if _, err := os.Stat(filepath.Join(out, name+".csv")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s.csv of the earlier run is still there (%v)", name, err)
		}
		path := filepath.Join(out, name+".xlsx")
		s, err := source.CSVSchema(path, source.CSVOptions{Sheet: name})
		if err != nil {
			t.Fatal(err)
		}
		var sheet bytes.Buffer
		if _, _, err := source.RewriteCSV(path, s.CSV, &sheet); err != nil {
			t.Fatal(err)
		}
		got, want := csvRecords(t, sheet.String()), csvRecords(t, text)
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows in the workbook, %d in the CSV evidence", name, len(got), len(want))
		}
		for r := range want {
			for c := range want[r] {
				x, okX := new(big.Rat).SetString(got[r][c])
				y, okY := new(big.Rat).SetString(want[r][c])
				if got[r][c] != want[r][c] && !(okX && okY && x.Cmp(y) == 0) {
					t.Errorf("%s row %d column %d: %q in the workbook, %q in the CSV evidence", name, r+1, c+1, got[r][c], want[r][c])
				}
			}
		}
	}
	if r := kalla(t, "reconcile", "--recipe", recipe, "--out", out, "--format", "xls"); r.code != exitBadInput || !strings.Contains(r.stderr, "allowed are parquet, csv and xlsx") {
		t.Errorf("--format xls: exit %d, stderr %s", r.code, r.stderr)
	}
}

// csvEvidence reads the CSV evidence files of the run that wrote out, by
// name (matched, unmatched_left, unmatched_right).
func csvEvidence(t *testing.T, out string) map[string]string {
	t.Helper()
	text := map[string]string{}
	for _, name := range []string{"matched", "unmatched_left", "unmatched_right"} {
		b, err := os.ReadFile(filepath.Join(out, name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		text[name] = string(b)
	}
	return text
}

// summaryIn reads out's summary.json.
func summaryIn(t *testing.T, out string) evidence.Summary {
	t.Helper()
	var s evidence.Summary
	if b, err := os.ReadFile(filepath.Join(out, "summary.json")); err != nil || json.Unmarshal(b, &s) != nil {
		t.Fatalf("summary.json in %s: %v", out, err)
	}
	return s
}

// containsAll fails t for each of wants that text, named what, lacks.
func containsAll(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, text)
		}
	}
}

func csvRecords(t *testing.T, text string) [][]string {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records
}

// TestWorkbookSheetPattern: a ledger kept a sheet a week, read by a sheet
// pattern, gives the bank example's evidence as its payments.csv does; the
// summary lists the sheets, and a key repeated across sheets is named by
// each sheet's row.
func TestWorkbookSheetPattern(t *testing.T) {
	t.Parallel()
	csvRecipe := copyExample(t, "bank", "payments.csv", "statement.csv")
	dir := filepath.Dir(csvRecipe)
	b, err := os.ReadFile("testdata/payments-by-month.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "payments-by-month.xlsx"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	recipe := filepath.Join(dir, "recipe-weeks.json")
	withSheet := func(sheet string) {
		text, err := os.ReadFile(csvRecipe)
		if err != nil {
			t.Fatal(err)
		}
		text = bytes.Replace(text, []byte(`"uri": "file://payments.csv",`), []byte(`"uri": "file://payments-by-month.xlsx", "sheet": "`+sheet+`",`), 1)
		if err := os.WriteFile(recipe, text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	withSheet("2024-03 WEEK *")
	outs := map[string]string{}
	for _, r := range []string{csvRecipe, recipe} {
		outs[r] = filepath.Join(t.TempDir(), "out")
		if res := kalla(t, "reconcile", "--recipe", r, "--out", outs[r], "--format", "csv"); res.code != exitOK {
			t.Fatalf("%s: exit %d: %s", r, res.code, res.stderr)
		}
	}
	fromCSV, fromSheets := csvEvidence(t, outs[csvRecipe]), csvEvidence(t, outs[recipe])
	for name, text := range fromCSV {
		if fromSheets[name] != text {
			t.Errorf("%s from the sheets:\n%s\nfrom payments.csv:\n%s", name, fromSheets[name], text)
		}
	}
	s := summaryIn(t, outs[recipe])
	want := []evidence.FileSummary{{Name: "[payments-by-month.xlsx]2024-03 week 1", Rows: 3}, {Name: "[payments-by-month.xlsx]2024-03 week 2", Rows: 4}}
	if !slices.Equal(s.Left.Files, want) || s.Left.Sheet != "" {
		t.Errorf("files %v, sheet %q; want %v and no one sheet", s.Left.Files, s.Left.Sheet, want)
	}
	withSheet("dup*")
	r := kalla(t, "reconcile", "--recipe", recipe, "--out", filepath.Join(t.TempDir(), "out"))
	if want := `"PAY-01" (2 rows: row 2 of [payments-by-month.xlsx]dup a and row 2 of [payments-by-month.xlsx]dup b)`; r.code != exitBadInput || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %s; want 2 saying %s", r.code, r.stderr, want)
	}
}

// TestWorkbookFaults: a fault in a workbook's data is named by its sheet's
// rows, as Excel numbers them.
func TestWorkbookFaults(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ sheet, want string }{
		{"Duplicates", `"B-103" (2 rows: rows 4 and 6)`},
		{"Text amounts", `values such as "n/a", on row 3,`},
	} {
		t.Run(strings.ReplaceAll(strings.ToLower(tt.sheet), " ", "_"), func(t *testing.T) {
			t.Parallel()
			recipe := copyExample(t, "bank", "payments.csv")
			b, err := os.ReadFile(recipe)
			if err != nil {
				t.Fatal(err)
			}
			faults, err := filepath.Abs("testdata/statement-faults.xlsx")
			if err != nil {
				t.Fatal(err)
			}
			sheet, _ := json.Marshal(tt.sheet)
			b = bytes.Replace(b, []byte(`"uri": "file://statement.csv",`), []byte(`"uri": "file://`+faults+`", "sheet": `+string(sheet)+`,`), 1)
			if err := os.WriteFile(recipe, b, 0o644); err != nil {
				t.Fatal(err)
			}
			r := kalla(t, "reconcile", "--recipe", recipe, "--out", filepath.Join(t.TempDir(), "out"))
			if r.code != exitBadInput || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %s; want %d saying %s", r.code, r.stderr, exitBadInput, tt.want)
			}
		})
	}
}

func TestBadInputExitsTwo(t *testing.T) {
	t.Parallel()
	seed := filepath.Join(t.TempDir(), "recipe.json")
	b, err := os.ReadFile("../../libs/engine/duckdb/testdata/recipe.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(seed, b, 0o644)
	os.MkdirAll(filepath.Join(filepath.Dir(seed), "testdata"), 0o755)
	for _, n := range []string{"invoices.csv", "payments.csv"} {
		b, _ := os.ReadFile("../../libs/engine/duckdb/testdata/" + n)
		os.WriteFile(filepath.Join(filepath.Dir(seed), "testdata", n), b, 0o644)
	}
	aFile, dangling := filepath.Join(t.TempDir(), "afile"), filepath.Join(t.TempDir(), "dangling")
	os.WriteFile(aFile, []byte("x"), 0o644)
	os.Symlink(filepath.Join(t.TempDir(), "gone"), dangling)
	withDirAt := example(t)
	os.MkdirAll(filepath.Join(filepath.Dir(withDirAt), "out", "unmatched_payments.parquet", "x"), 0o755)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no_recipe_flag", []string{"reconcile"}, "--recipe is required"},
		{"unknown_format", []string{"reconcile", "--recipe", seed, "--format", "ods"}, `--format "ods": allowed are parquet, csv and xlsx`},
		{"missing_recipe_file", []string{"reconcile", "--recipe", "/nonexistent/recipe.json"}, "no such file"},
		{"missing_column", []string{"reconcile", "--recipe", seed, "--json"}, `column "payment_ref" is not in payments`},
		{"unknown_command", []string{"reconcil"}, `unknown command "reconcil"`},
		{"negative_threads", []string{"reconcile", "--recipe", example(t), "--threads", "-3"}, "--threads -3: allowed are 0"},
		{"too_many_threads", []string{"reconcile", "--recipe", example(t), "--threads", "99999999999"}, "--threads 99999999999: allowed are 0 (one per core) to 4096"},
		{"out_is_a_file", []string{"reconcile", "--recipe", example(t), "--out", aFile}, "is a file, where a folder of the outputs should be"},
		{"out_is_a_broken_link", []string{"reconcile", "--recipe", example(t), "--out", dangling}, "is a link to nothing"},
		{"output_place_is_a_directory", []string{"reconcile", "--recipe", withDirAt}, "unmatched_payments.parquet is a directory; give a file's path"},
		{"argument_before_flags", []string{"reconcile", "extra", "--recipe", example(t)}, `unexpected argument "extra"; flags come first`},
		{"unreadable_memory_limit", []string{"reconcile", "--recipe", example(t), "--memory-limit", "lots"}, `memory limit "lots"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := kalla(t, tt.args...)
			if r.code != exitBadInput || r.stdout != "" || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", r.code, r.stdout, r.stderr, tt.stderr)
			}
		})
	}
}

// TestMachineFailureExitsOne: the engine running out of memory is no fault
// of the input, however it shows while reading it.
func TestMachineFailureExitsOne(t *testing.T) {
	t.Parallel()
	r := kalla(t, "reconcile", "--recipe", example(t), "--out", t.TempDir(), "--memory-limit", "100KB")
	if r.code != exitFailure || r.stdout != "" || !strings.Contains(r.stderr, "Out of Memory") || strings.Contains(r.stderr, "bad input") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and the engine's out of memory error", r.code, r.stdout, r.stderr)
	}
}

// TestSilentDatabaseExitsOne: a server that takes the connection and never
// answers ends the run (exit 1, as a database that does not answer) within
// source.ConnectTimeout, instead of holding it forever. Not parallel: it
// shortens that timeout for its run.
func TestSilentDatabaseExitsOne(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	defer func(d time.Duration) { source.ConnectTimeout = d }(source.ConnectTimeout)
	source.ConnectTimeout = time.Second
	recipe := example(t)
	text, _ := os.ReadFile(recipe)
	uri := "postgres://kalla:SECRETPW@" + l.Addr().String() + "/erp?table=public.invoices"
	os.WriteFile(recipe, []byte(strings.Replace(string(text), "file://invoices.csv", uri, 1)), 0o644)
	start := time.Now()
	r := kalla(t, "reconcile", "--recipe", recipe, "--out", t.TempDir())
	if r.code != exitFailure || time.Since(start) > 20*time.Second || strings.Contains(r.stderr, "SECRETPW") {
		t.Errorf("exit %d after %v, stderr %q; want exit 1 within the timeout, no password", r.code, time.Since(start), r.stderr)
	}
}

// TestInterruptedRunSaysSo: a run stopped by a signal (its context ended)
// says so, rather than blaming a source it was reading, and publishes
// nothing.
func TestInterruptedRunSaysSo(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"reconcile", "--recipe", example(t), "--out", dir}, &stdout, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "stopped before the end") || strings.Contains(stderr.String(), "cannot read") {
		t.Errorf("exit %d, stderr %q; want exit 1 saying the run was stopped", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, evidence.SummaryFile)); !os.IsNotExist(err) {
		t.Errorf("a stopped run published a summary: %v", err)
	}
}

// fullWriter fails every write, as stdout on a full disk does.
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestUnwrittenAnswerExitsOne: a run whose summary cannot reach stdout
// exits 1 saying that the evidence stands, with or without --json, so a
// script does not read a missing answer as success.
func TestUnwrittenAnswerExitsOne(t *testing.T) {
	t.Parallel()
	for _, flags := range [][]string{nil, {"--json"}} {
		t.Run(strings.Join(append([]string{"flags"}, flags...), ""), func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			var stderr bytes.Buffer
			args := append([]string{"reconcile", "--recipe", example(t), "--out", out}, flags...)
			code := run(context.Background(), args, fullWriter{}, &stderr)
			if code != exitFailure || !strings.Contains(stderr.String(), "the evidence is published, but the answer could not be written to stdout: no space left on device") {
				t.Errorf("exit %d, stderr %q; want 1 saying the answer could not be written", code, stderr.String())
			}
			if _, err := os.Stat(filepath.Join(out, "summary.json")); err != nil {
				t.Errorf("the evidence was published, so its summary should stand: %v", err)
			}
		})
	}
}

// TestKilledRunsLeftoversAreSwept: what a killed run leaves beside the
// outputs (its staging folder, a half-published file) is removed by the
// next run there once unchanged for scratch.Grace; a user's folder named
// alike stays. It waits out the grace, in parallel with the other tests.
func TestKilledRunsLeftoversAreSwept(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	staging, published, notes := filepath.Join(out, ".kalla-run-123"), filepath.Join(out, ".kalla-publish-456"), filepath.Join(out, ".kalla-run-notes")
	for _, dir := range []string{staging, notes} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{filepath.Join(staging, "matched.parquet"), published} {
		if err := os.WriteFile(file, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(scratch.Grace + time.Second)
	if r := kalla(t, "reconcile", "--recipe", example(t), "--out", out); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, path := range []string{staging, published} {
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", path, err)
		}
	}
	if _, err := os.Stat(notes); err != nil {
		t.Errorf("the user's %s: %v", notes, err)
	}
}
