package duckdb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
)

// TestCSVLayouts reads files laid out in ways DuckDB's CSV reader reads
// otherwise than Kalla's by default; each must give the records Kalla's
// reader (and Python's csv module) finds, or a clear refusal.
func TestCSVLayouts(t *testing.T) {
	t.Parallel()
	eq := recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}]}\n")
	noKeys := strings.ReplaceAll(eq, ", primary_key: [id]", "")
	tests := []struct {
		name, recipe, left, right string
		pairs                     []string
		leftRows                  int64
	}{
		// The header is the first line that is not blank, never a record.
		{"blank_lines_before_the_header", eq, "\n\nid,ref\n1,A\n2,B\n", "id,ref\n10,A\n11,ref\n", []string{"t: l1 r10"}, 2},
		{"blank_lines_before_the_header_crlf", eq, "\r\n\r\nid,ref\r\n1,A\r\n", "id,ref\n10,A\n11,ref\n", []string{"t: l1 r10"}, 1},
		{"blank_lines_before_a_header_alone", eq, "\nid,ref\n", "id,ref\n10,ref\n", nil, 0},
		// In a file of one column a blank line is no record either; an
		// empty value is written "".
		{"one_column_blank_lines", noKeys, "ref\nA\n\nB\n\n", "ref\nA\nB\n", []string{"t: l1 r1", "t: l2 r2"}, 2},
		{"one_column_quoted_empty", noKeys, "ref\nA\n\n\"\"\nB\n", "ref\nA\nB\n", []string{"t: l1 r1", "t: l3 r2"}, 3},
		{"one_column_key_and_a_final_blank_line", strings.ReplaceAll(eq, "[id]", "[ref]"), "ref\nA\nB\n\n", "ref\nA\n", []string{"t: lA rA"}, 2},
		{"byte_order_mark_before_a_quoted_header", eq, "\ufeff\"id\",\"ref\"\r\n1,A\r\n", "id,ref\n10,A\n", []string{"t: l1 r10"}, 1},
		// A stray \r would stay in the last field and fail the match.
		// DuckDB's reader may take "\n\r\n" for one line's end (its skip
		// then reads the header as a record, and a file of one column gets
		// empty records): it reads a file of mixed ends as Kalla's reader
		// rewrote it.
		{"blank_lines_of_mixed_ends_before_the_header", eq, "\n\r\nid,ref,status\n1,A,ok\n2,B,void\n3,C,ok\n", "id,ref\n10,A\n", []string{"t: l1 r10"}, 3},
		{"one_column_mixed_ends_and_blank_lines", noKeys, "ref\r\nA\n\r\n\"\"\n\r\nB\r\n\n\"C,\r\nD\"\n", "ref\nA\nB\n\"C,\r\nD\"\n", []string{"t: l1 r1", "t: l3 r2", "t: l4 r3"}, 4},
		// A quoted "\r\n" stays, as in a file read as it is.
		{"mixed_ends_blank_lines_and_a_quoted_crlf", eq, "id,ref\r\n1,\"a\r\nb\"\n\n2,c\n", "id,ref\n7,\"a\r\nb\"\n", []string{"t: l1 r7"}, 2},
		{"mixed_line_ends", eq, "id,amount,ref\r\n1,1.50,A\n2,2.0,B\r\n3,3,C\n\n", "id,amount,ref\n10,1.5,A\n11,2,B\n12,3,C\n", []string{"t: l1 r10", "t: l2 r11", "t: l3 r12"}, 3},
		// A header without a comma but with a semicolon, tab or bar sets the
		// separator; commas are then characters of values.
		{"semicolons", eq, "id;ref;note\n1;A;\"x;y\"\n2;B,C;1,5\n", "id,ref\n10,A\n11,\"B,C\"\n", []string{"t: l1 r10", "t: l2 r11"}, 2},
		// The separator is found in the whole header, outside quotes.
		{"a_header_name_over_two_lines", noKeys, "ref\nA\n", "\"no\nte\";ref\nx;A\n", []string{"t: l1 r1"}, 1},
		{"one_column_named_with_a_semicolon", strings.ReplaceAll(noKeys, "right: ref}", "right: \"r;ef\"}"), "ref\nA\n", "\"r;ef\"\nA\nB;C\n", []string{"t: l1 r1"}, 1},
		// Excel's first line naming the separator; blank lines may follow.
		{"excel_separator_line", eq, "\ufeffsep=;\r\n\r\nid;ref\r\n1;A\r\n2;B\r\n", "id,ref\n10,A\n", []string{"t: l1 r10"}, 2},
		{"tabs", eq, "id\tref\n1\tA\n2\tB,C\n", "id|ref\n10|A\n11|B,C\n", []string{"t: l1 r10", "t: l2 r11"}, 2},
		{"record_longer_than_two_megabytes", eq, "id,ref,note\n1,A,\"" + strings.Repeat("x\n", 1_500_000) + "\"\n2,B,y\n", "id,ref,note\n10,B,z\n", []string{"t: l2 r10"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFiles(t, tt.left, tt.right, tt.recipe)
			o := mustRun(t, filepath.Join(dir, "recipe.yaml"))
			if got := o.pairs(); !slices.Equal(got, tt.pairs) {
				t.Errorf("matches = %v, want %v", got, tt.pairs)
			}
			if o.summary.Left.Rows != tt.leftRows {
				t.Errorf("left rows = %d, want %d", o.summary.Left.Rows, tt.leftRows)
			}
			// The files gzipped are read as they are.
			gz := mustRun(t, gzipSources(t, dir))
			if !reflect.DeepEqual(gz.matched, o.matched) || !reflect.DeepEqual(gz.unmatchedLeft, o.unmatchedLeft) || !reflect.DeepEqual(gz.unmatchedRight, o.unmatchedRight) || gz.summary.Left.Rows != tt.leftRows {
				t.Errorf("gzipped: matches %v, %d left rows; want the files' own", gz.pairs(), gz.summary.Left.Rows)
			}
			// A filter keeping every record: the records read are those
			// Kalla's reader counted, and none is left out.
			kept := mustReconcile(t, tt.left, tt.right, keepAll(tt.recipe))
			if s := kept.summary.Left; s.Rows != tt.leftRows || s.FilteredOut != 0 {
				t.Errorf("filtered: left rows = %d, %d left out; want %d, 0", s.Rows, s.FilteredOut, tt.leftRows)
			}
		})
	}
	t.Run("one_column_quoted_empty_is_empty", func(t *testing.T) {
		t.Parallel()
		o := mustReconcile(t, "ref\nA\n\n\"\"\nB\n", "ref\nA\nB\n", noKeys)
		if len(o.unmatchedLeft) != 1 || o.unmatchedLeft[0]["kalla_row"] != "2" || o.unmatchedLeft[0]["ref"] != "" ||
			!strings.Contains(o.unmatchedLeft[0]["kalla_near_reason"], "is empty") {
			t.Errorf("unmatched left = %v, want record 2, empty", o.unmatchedLeft)
		}
	})
	t.Run("lone_carriage_returns_are_bad_input", func(t *testing.T) {
		t.Parallel()
		_, err := reconcileFiles(t, "id,ref\r1,A\r2,B\r", "id,ref\n10,A\n", eq)
		wantBadInput(t, err, `line 1 holds a carriage return (\r) outside quotes`)
	})
}

// TestTSVSource reads a .tsv file by tabs, though a header name holds a
// comma; the engine reads it as Kalla's reader did.
func TestTSVSource(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, "id,ref\n1,A\n2,B\n", "", strings.Replace(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: \"ref, as sent\"}]}\n"), "file://right.csv", "file://right.tsv", 1))
	if err := os.WriteFile(filepath.Join(dir, "right.tsv"), []byte("id\tref, as sent\n10\tB\n11\tA, B\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := mustRun(t, filepath.Join(dir, "recipe.yaml"))
	if got, want := o.pairs(), []string{"t: l2 r10"}; !slices.Equal(got, want) {
		t.Errorf("matches = %v, want %v", got, want)
	}
	if got := idValues(o.unmatchedRight, "ref, as sent"); !slices.Equal(got, []string{"11: A, B"}) {
		t.Errorf("unmatched right = %v, want 11 with its reference as written", got)
	}
}

// TestFileNamesLikePatterns reads files whose names DuckDB would take for
// patterns matching others (l[1].csv matches l1.csv): each reads itself.
func TestFileNamesLikePatterns(t *testing.T) {
	t.Parallel()
	eq := recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}]}\n")
	for _, tt := range []struct{ name, sibling string }{{"l[1].csv", "l1.csv"}, {"l*.csv", "lx.csv"}, {"l?.csv", "lx.csv"},
		{`l\[1].csv`, `l\1.csv`}, {`l\*.csv`, `l\x.csv`}} {
		t.Run(tt.sibling+"_beside_"+tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, text := range map[string]string{tt.name: "id,ref\n1,A\n2,B\n", tt.sibling: "id,ref\n1,X\n", "right.csv": "id,ref\n10,A\n11,B\n",
				"recipe.yaml": strings.Replace(eq, "file://left.csv", "file://"+strings.ReplaceAll(tt.name, `\`, `\\`), 1)} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			o := mustRun(t, filepath.Join(dir, "recipe.yaml"))
			if got, want := o.pairs(), []string{"t: l1 r10", "t: l2 r11"}; !slices.Equal(got, want) {
				t.Errorf("matches = %v, want %v", got, want)
			}
		})
	}
}

// keepAll gives a recipe's left source a filter that keeps every record.
func keepAll(recipe string) string {
	return strings.Replace(recipe, `uri: "file://left.csv"`, `uri: "file://left.csv", filter: [{column: ref, op: ne, value: "no such ref"}]`, 1)
}

// TestFileChangedWhileRead: a file that changed between the reading of its
// columns and the engine's fails the run rather than giving counts of
// neither; so do records the two readers count otherwise.
func TestFileChangedWhileRead(t *testing.T) {
	t.Parallel()
	eq := recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}]}\n")
	filtered := withSourceField(eq, "left", "filter", "[{column: ref, op: ne, value: C}]")
	noKey := strings.ReplaceAll(filtered, ", primary_key: [id]", "")
	changed := "left.csv changed while Kalla read it (its size or time of change is not what it was when its columns were read)"
	miscounted := "left.csv was counted as 2 records when first read, and the engine read 3: the two readings disagree"
	plain, rewritten := "id,ref\n1,A\n2,B\n3,C\n", "id,ref\r\n1,A\n\r\n2,B\n3,C\n" // see NeedsRewrite
	for _, tt := range []struct {
		name, recipe, left string
		change             func(t *testing.T, left string, p *plan.Plan)
		want               string
	}{
		{"unfiltered", eq, plain, appendRecord, changed},
		{"filtered", filtered, plain, appendRecord, changed},
		{"filtered_without_a_key", noKey, plain, appendRecord, changed},
		{"touched", eq, plain, touch, changed},
		{"rewritten", filtered, rewritten, appendRecord, changed},
		{"miscounted", eq, plain, miscount, miscounted},
		{"miscounted_filtered_without_a_key", noKey, plain, miscount, miscounted},
		{"miscounted_when_rewritten", filtered, rewritten, miscount, miscounted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFiles(t, tt.left, "id,ref\n10,A\n", tt.recipe)
			left := filepath.Join(dir, "left.csv")
			err := planThenReconcile(t, filepath.Join(dir, "recipe.yaml"), func(p *plan.Plan) { tt.change(t, left, p) })
			if err == nil || !strings.Contains(err.Error(), tt.want) || reconcile.IsBadInput(err) {
				t.Errorf("err = %v\nwant a failure (not bad input) saying %s", err, tt.want)
			}
		})
	}
}

// planThenReconcile plans the recipe at path, calls between, and runs the
// plan on the engine.
func planThenReconcile(t *testing.T, path string, between func(*plan.Plan)) error {
	t.Helper()
	r, err := recipe.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := reconcile.Plan(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	between(p)
	_, err = (&duckdb.Engine{Threads: 2}).Reconcile(ctx, p, engine.Output{Dir: t.TempDir(), Format: engine.CSV}, nil)
	return err
}

func appendRecord(t *testing.T, left string, _ *plan.Plan) {
	f, err := os.OpenFile(left, os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString("4,D\n")
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		t.Fatal(err)
	}
}

// touch changes the file's time of change alone.
func touch(t *testing.T, left string, _ *plan.Plan) {
	if err := os.Chtimes(left, time.Time{}, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}

// miscount has Kalla's reader count a record fewer than the file holds.
func miscount(_ *testing.T, _ string, p *plan.Plan) { p.Left.Schema.Rows-- }

// TestCSVValues reads values whose type or message depends on all of a
// column's values.
func TestCSVValues(t *testing.T) {
	t.Parallel()
	rule := func(op string) string {
		return recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: v, op: " + op + ", right: v}]}\n")
	}
	wide := "1234567890123456789012345678901234567890"
	t.Run("numbers_wider_than_38_digits_are_refused_in_a_rule", func(t *testing.T) {
		t.Parallel()
		// As text, 9 > 10 would match.
		_, err := reconcileFiles(t, "id,ref,v\n1,A,9\n2,Z,"+wide+"\n", "id,ref,v\n10,A,10\n", rule("gt"))
		wantBadInput(t, err, `column "v" of l cannot be compared or be a key: it holds numbers of 40 digits, and Kalla computes with at most 38; set its type to text`)
	})
	t.Run("numbers_wider_than_38_digits_set_to_text", func(t *testing.T) {
		t.Parallel()
		text := strings.ReplaceAll(rule("eq"), "primary_key: [id]}", "primary_key: [id], types: {v: text}}")
		o := mustReconcile(t, "id,ref,v\n1,A,"+wide+"\n", "id,ref,v\n10,A,"+wide+"\n", text)
		if got := o.pairs(); !slices.Equal(got, []string{"t: l1 r10"}) {
			t.Errorf("matches = %v", got)
		}
	})
	t.Run("zone_offsets_compare_instants", func(t *testing.T) {
		t.Parallel()
		o := mustReconcile(t,
			"id,ref,v\n1,A,2024-01-05T10:00:00+02:00\n2,B,2024-01-05T10:00:00Z\n3,C,2024-01-05 23:30:00.5-0200\n4,D,2024-01-05T10:00:00\n",
			"id,ref,v\n10,A,2024-01-05T08:00:00Z\n11,B,2024-01-05T12:00:00+02:00\n12,C,2024-01-06 01:30:00.5\n13,D,2024-01-05T10:00:00+00\n", rule("eq"))
		if got, want := o.pairs(), []string{"t: l1 r10", "t: l2 r11", "t: l3 r12", "t: l4 r13"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("dates_of_a_layout_the_recipe_sets", func(t *testing.T) {
		t.Parallel()
		left := "id,ref,v\n1,A,2024-01-02\n2,B,2024-03-04\n3,C,2024-12-31\n4,D,2024-02-29\n"
		for layout, right := range map[string]string{
			// 4/3 is the 4th of March; as the 3rd of April it would not match.
			"DD/MM/YYYY": "id,ref,v\n10,A,02/01/2024\n11,B,4/3/2024\n12,C, 30/12/2024 \n13,D,29/02/2024\n14,E,\n",
			"YYYYMMDD":   "id,ref,v\n10,A,20240102\n11,B,20240304\n12,C,20241230\n13,D,20240229\n14,E,\n",
		} {
			t.Run(strings.ReplaceAll(layout, "/", "_"), func(t *testing.T) {
				t.Parallel()
				text := withSourceField(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: v, op: date_within, right: v, threshold: 0}]}\n"), "right", "types", "{v: date "+layout+"}")
				o := mustReconcile(t, left, right, text)
				if got, want := o.pairs(), []string{"t: l1 r10", "t: l2 r11", "t: l4 r13"}; !slices.Equal(got, want) {
					t.Errorf("matches = %v, want %v", got, want)
				}
				wantReasons(t, o.unmatchedRight, map[string]string{
					"12": "l.v 2024-12-31 and r.v 2024-12-30 are 1 day apart, allowed 0 days",
					"14": "no l record has ref equal to its ref (rule t)",
				})
				// The evidence writes the dates as dates: YYYY-MM-DD.
				if got := o.unmatchedRight[0]["v"]; got != "2024-12-30" {
					t.Errorf("unmatched r12's v = %q, want 2024-12-30", got)
				}
			})
		}
	})
	t.Run("numbers_below_one_keep_their_zero", func(t *testing.T) {
		t.Parallel()
		// Every value below 1: a decimal(2,2) column, which the engine
		// would write .50.
		o := mustReconcile(t, "id,ref,v\n1,A,0.50\n2,B,-0.05\n", "id,ref,v\n10,C,0.5\n", rule("eq"))
		if len(o.unmatchedLeft) != 2 || o.unmatchedLeft[0]["v"] != "0.50" || o.unmatchedLeft[1]["v"] != "-0.05" || o.unmatchedRight[0]["v"] != "0.5" {
			t.Errorf("unmatched left %v, right %v; want 0.50, -0.05 and 0.5", o.unmatchedLeft, o.unmatchedRight)
		}
	})
	// Files as banks and spreadsheets write them, read by the layouts the
	// recipe sets, matched with the edges of their conditions.
	for _, tc := range []struct {
		name, conditions, types, left, right string
		pairs                                []string
		reasons                              map[string]string
		firstUnmatchedD                      string // as the evidence writes it, when checked
	}{
		// Semicolons between fields, decimal commas, day-first dates.
		{"a_european_bank_statement", "{left: v, op: tolerance, right: v, threshold: 0.01}, {left: d, op: date_within, right: d, threshold: 0}", `{d: date DD.MM.YYYY, v: "decimal 1.234,56"}`,
			"id,ref,v,d\n1,A,1234.56,2024-01-02\n2,B,-12.5,2024-01-15\n3,C,100000.02,2024-01-31\n",
			"id;ref;v;d\n10;A;1.234,56;02.01.2024\n11;B;-12,50;15.01.2024\n12;C;\"100.000,00\";31.01.2024\n",
			[]string{"t: l1 r10", "t: l2 r11"}, map[string]string{"12": "l.v differs from r.v by 0.02, tolerance 0.01"}, ""},
		// As Oracle and many bank exports write dates: 02-JAN-24.
		{"month_names_and_two_digit_years", "{left: d, op: date_within, right: d, threshold: 0}", `{d: date DD-MMM-YY}`,
			"id,ref,d\n1,A,2024-01-02\n2,B,2024-02-29\n3,C,2099-12-31\n4,D,2000-03-01\n",
			"id,ref,d\n10,A,02-Jan-24\n11,B,29-FEB-24\n12,C,31-dec-99\n13,D,2-Mar-00\n",
			[]string{"t: l1 r10", "t: l2 r11", "t: l3 r12"}, map[string]string{"13": "l.d 2000-03-01 and r.d 2000-03-02 are 1 day apart, allowed 0 days"}, "2000-03-02"},
		// As a spreadsheet saves date and time cells: 02.01.2024 23:59.
		// date_within counts the days between the dates.
		{"timestamps_of_a_layout", "{left: d, op: date_within, right: d, threshold: 0}", `{d: "timestamp DD.MM.YYYY hh:mm"}`,
			"id,ref,d\n1,A,2024-01-02\n2,B,2024-01-02\n3,C,2024-02-29\n",
			"id,ref,d\n10,A,02.01.2024 23:59\n11,B,03.01.2024 0:00\n12,C,29.02.2024 12:30\n",
			[]string{"t: l1 r10", "t: l3 r12"}, map[string]string{"11": "l.d 2024-01-02 and r.d 2024-01-03 00:00:00 are 1 day apart, allowed 0 days"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text := withSourceField(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, "+tc.conditions+"]}\n"), "right", "types", tc.types)
			o := mustReconcile(t, tc.left, tc.right, text)
			if got := o.pairs(); !slices.Equal(got, tc.pairs) {
				t.Errorf("matches = %v, want %v", got, tc.pairs)
			}
			wantReasons(t, o.unmatchedRight, tc.reasons)
			if got := o.unmatchedRight[0]["d"]; tc.firstUnmatchedD != "" && got != tc.firstUnmatchedD {
				t.Errorf("the first unmatched right record's d = %q, want %s", got, tc.firstUnmatchedD)
			}
		})
	}
	t.Run("numbers_of_a_layout_the_recipe_sets", func(t *testing.T) {
		t.Parallel()
		left := "id,ref,v\n1,A,1.10\n2,B,1234.50\n3,C,10.00\n4,D,-1234567.5\n"
		for layout, right := range map[string]string{
			"1.234,56": "id,ref,v\n10,A,\"1,08\"\n11,B,\"1.234,50\"\n12,C,\"10,03\"\n13,D,\"-1.234.567,5\"\n",
			// The no-break spaces spreadsheets write between thousands.
			"1 234,56": "id,ref,v\n10,A,\"1,08\"\n11,B,\"1\u00a0234,50\"\n12,C,\"10,03\"\n13,D,\"-1\u202f234 567,5\"\n",
			"1'234.56": "id,ref,v\n10,A,1.08\n11,B,1'234.50\n12,C,10.03\n13,D,-1'234'567.5\n",
			// Currencies, accounting's parentheses and SAP's trailing minus.
			"($1,234.56)":  "id,ref,v\n10,A,$1.08\n11,B,\"$1,234.50\"\n12,C,$ 10.03\n13,D,\"($1,234,567.5)\"\n",
			"1.234,56 €-":  "id;ref;v\n10;A;1,08 €\n11;B;1.234,50\u00a0€\n12;C;10,03\n13;D;1.234.567,5- €\n",
			"EUR 1'234.56": "id,ref,v\n10,A,EUR 1.08\n11,B,1'234.50 EUR\n12,C,EUR10.03\n13,D,EUR -1'234'567.5\n",
		} {
			t.Run(strings.NewReplacer(" ", "_", "'", "_", ",", "_", ".", "_", "(", "", ")", "", "$", "dollar", "€", "euro", "-", "minus").Replace(layout), func(t *testing.T) {
				t.Parallel()
				text := withSourceField(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: v, op: tolerance, right: v, threshold: 0.02}]}\n"), "right", "types", `{v: "decimal `+layout+`"}`)
				o := mustReconcile(t, left, right, text)
				// 1.10 against 1,08 is exactly at the tolerance.
				if got, want := o.pairs(), []string{"t: l1 r10", "t: l2 r11", "t: l4 r13"}; !slices.Equal(got, want) {
					t.Errorf("matches = %v, want %v", got, want)
				}
				wantReasons(t, o.unmatchedRight, map[string]string{"12": "l.v differs from r.v by 0.03, tolerance 0.02"})
				// The evidence writes the numbers as numbers: 10.03.
				if got := o.unmatchedRight[0]["v"]; got != "10.03" {
					t.Errorf("unmatched r12's v = %q, want 10.03", got)
				}
			})
		}
	})
	for name, tt := range map[string]struct{ left, want string }{
		"a_value_of_no_type_first":    {"id,ref,v\n1,A,2024-02-30\n2,B,2024-01-06\n", `the left v is text because of values such as "2024-02-30"`},
		"year_0_is_no_date":           {"id,ref,v\n1,A,2024-01-06\n2,B,0000-01-01\n", `the left v is text because of values such as "0000-01-01"`},
		"a_blank_value_among_numbers": {"id,ref,v\n1,A,5\n2,B, \n3,C,6\n4,D,N/A\n", `the left v is text because of values such as " "`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := reconcileFiles(t, tt.left, "id,ref,v\n10,A,2024-01-06\n", rule("eq"))
			wantBadInput(t, err, tt.want)
		})
	}
}
