package recipe_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
)

func TestSeedFixtureRoundTrip(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile("testdata/seed-recipe.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Parse(text)
	if err != nil {
		t.Fatalf("parse seed recipe: %v", err)
	}
	if got := r.GetMatchRules()[0].GetConditions()[1].GetThreshold().GetValue(); got != "0.02" {
		t.Errorf("threshold text = %q, want %q", got, "0.02")
	}
	if r.GetMatchRules()[0].GetPattern() != kallav1.Pattern_PATTERN_ONE_TO_ONE {
		t.Errorf("pattern = %v", r.GetMatchRules()[0].GetPattern())
	}
	out, err := recipe.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := recipe.Parse(out)
	if err != nil {
		t.Fatalf("parse marshalled recipe: %v\n%s", err, out)
	}
	if !proto.Equal(r, again) {
		t.Errorf("round trip changed the recipe:\nfirst  %v\nsecond %v", r, again)
	}
	// The JSON written back means the same as the file users wrote.
	if a, b := decodeJSON(t, text), decodeJSON(t, out); !reflect.DeepEqual(a, b) {
		t.Errorf("marshalled JSON differs from the fixture:\n%s", out)
	}
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

const validYAML = `
version: "1.0"
recipe_id: ar
sources:
  left: {alias: invoices, uri: "file://data/invoices.csv", primary_key: [invoice_id]}
  right: {alias: payments, uri: "file:///abs/payments.csv", primary_key: [payment_id]}
match_rules:
  - name: exact
    pattern: "1:1"
    priority: 1
    conditions:
      - {left: invoice_id, op: eq, right: reference_number}
      - {left: amount, op: tolerance, right: paid_amount, threshold: 0}
  - name: split
    pattern: 1:N
    priority: 2
    conditions:
      - {left: invoice_id, op: eq_ci, right: reference_number}
    aggregate: {left: amount, right: paid_amount, tolerance: 0.020}
`

func TestTypesRoundTrip(t *testing.T) {
	t.Parallel()
	text := strings.Replace(validYAML, "primary_key: [invoice_id]}", "primary_key: [invoice_id], skip_lines: 3, columns: [invoice_id, amount, due], separator: \"\\t\", encoding: windows-1252, types: {invoice_id: text, amount: \" Decimal \", due: \"date\tdd.mm.yyyy \"}}", 1)
	r, err := recipe.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	dmy, _ := source.ParseDateLayout("DD.MM.YYYY")
	want := map[string]source.Setting{"invoice_id": {Type: source.Text}, "amount": {Type: source.Decimal}, "due": {Type: source.Date, Date: dmy}}
	if got := recipe.CSVOptions(r.GetSources().GetLeft()); !maps.Equal(got.Types, want) || got.SkipLines != 3 || !slices.Equal(got.Columns, []string{"invoice_id", "amount", "due"}) || got.Separator != "\t" || got.Encoding != "windows-1252" {
		t.Errorf("types = %v, skip_lines %d, columns %v, separator %q; want %v, 3, invoice_id, amount, due and a tab", got.Types, got.SkipLines, got.Columns, got.Separator, want)
	}
	if got := recipe.CSVOptions(r.GetSources().GetRight()); got.Types != nil || got.SkipLines != 0 || got.Columns != nil || got.Separator != "" {
		t.Errorf("a source without types, skip_lines or columns has %+v", got)
	}
	// kalla submit marshals the recipe it sends: types, skip_lines and
	// columns must survive that.
	roundTrip(t, r)
}

func TestSheetRoundTrip(t *testing.T) {
	t.Parallel()
	text := strings.Replace(validYAML, `uri: "file:///abs/payments.csv", primary_key: [payment_id]}`, `uri: "file:///abs/payments.xlsx", sheet: "March 2024", skip_lines: 2, primary_key: [payment_id]}`, 1)
	r, err := recipe.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := recipe.CSVOptions(r.GetSources().GetRight()); got.Sheet != "March 2024" || got.SkipLines != 2 {
		t.Errorf("options %+v, want sheet March 2024 after 2 rows", got)
	}
	if errs := recipe.Validate(r); errs != nil {
		t.Errorf("a workbook's sheet refused: %v", errs)
	}
	roundTrip(t, r) // kalla submit marshals the recipe it sends
}

func TestNetRoundTrip(t *testing.T) {
	t.Parallel()
	text := strings.Replace(validYAML, "primary_key: [payment_id]}", `primary_key: [payment_id], net: {paid_amount: {plus: paid_in, minus: paid_out}}}`, 1)
	r, err := recipe.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if n := r.GetSources().GetRight().GetNet()["paid_amount"]; n.GetPlus() != "paid_in" || n.GetMinus() != "paid_out" {
		t.Errorf("net = %v", r.GetSources().GetRight().GetNet())
	}
	roundTrip(t, r)
}

// roundTrip fails unless Marshal writes r as Parse reads it back.
func roundTrip(t *testing.T, r *kallav1.Recipe) {
	t.Helper()
	out, err := recipe.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := recipe.Parse(out)
	if err != nil || !proto.Equal(r, again) {
		t.Errorf("round trip: %v\n%s", err, out)
	}
}

func TestReverseSignRoundTrip(t *testing.T) {
	t.Parallel()
	text := strings.Replace(validYAML, "primary_key: [payment_id]}", "primary_key: [payment_id], reverse_sign: [paid_amount, fee]}", 1)
	r, err := recipe.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.GetSources().GetRight().GetReverseSign(), []string{"paid_amount", "fee"}; !reflect.DeepEqual(got, want) {
		t.Errorf("reverse_sign = %q, want %q", got, want)
	}
	roundTrip(t, r) // kalla submit marshals the recipe it sends
}

func TestTotalsRoundTrip(t *testing.T) {
	t.Parallel()
	text := strings.Replace(validYAML, "primary_key: [payment_id]}", `primary_key: [payment_id], totals: [paid_amount, {column: paid_amount, by: currency}, {column: fee}]}`, 1)
	r, err := recipe.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, total := range r.GetSources().GetRight().GetTotals() {
		got = append(got, total.GetColumn()+"/"+total.GetBy())
	}
	if want := []string{"paid_amount/", "paid_amount/currency", "fee/"}; !reflect.DeepEqual(got, want) {
		t.Errorf("totals = %q, want %q", got, want)
	}
	out, err := recipe.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	// A total without by is written as the column's name, as users do.
	if want := `"totals": [
        "paid_amount",
        {
          "column": "paid_amount",
          "by": "currency"
        },
        "fee"
      ]`; !strings.Contains(string(out), want) {
		t.Errorf("marshalled totals, want %s in:\n%s", want, out)
	}
	roundTrip(t, r)
}

func TestFilterRoundTrip(t *testing.T) {
	t.Parallel()
	text := strings.Replace(validYAML, "primary_key: [payment_id]}", `primary_key: [payment_id], filter: [{column: status, op: ne, value: void}, {column: paid_amount, op: gte, value: 100.50}, {column: account, op: in, values: ["1010", 1020]}, {column: memo, op: empty}]}`, 1)
	r, err := recipe.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.GetSources().GetRight().GetFilter() {
		got = append(got, fmt.Sprintf("%s %s %q", f.GetColumn(), recipe.FilterName(f.GetOp()), f.GetValues()))
	}
	// Numbers are kept as written, 100.50 with its zero.
	want := []string{`status ne ["void"]`, `paid_amount gte ["100.50"]`, `account in ["1010" "1020"]`, `memo empty []`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("filter = %q, want %q", got, want)
	}
	roundTrip(t, r)
}

func TestExtractRoundTrip(t *testing.T) {
	t.Parallel()
	text := strings.Replace(validYAML, "primary_key: [payment_id]}", `primary_key: [payment_id], extract: {ref: {from: memo, pattern: "(?i)INV-([0-9]+)"}, batch: {from: memo, pattern: 'B(\d+)', type: integer}}}`, 1)
	r, err := recipe.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	got := r.GetSources().GetRight().GetExtract()
	if len(got) != 2 || got["ref"].GetFrom() != "memo" || got["ref"].GetPattern() != "(?i)INV-([0-9]+)" || got["batch"].GetPattern() != `B(\d+)` || got["batch"].GetType() != "integer" {
		t.Errorf("extract = %v", got)
	}
	roundTrip(t, r)
}

// TestDecimalsRoundTrip: thresholds YAML reads as decimals but JSON cannot
// write as numbers (.5, +2, 5., 007) survive Marshal as strings, with their
// text; kalla submit and the planner's masked recipes write recipes so.
func TestDecimalsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, threshold := range []string{".5", "+0.02", "5.", "007", "-0", "1E+2", "0.020"} {
		t.Run(threshold, func(t *testing.T) {
			t.Parallel()
			text := strings.Replace(validYAML, "threshold: 0}", "threshold: "+threshold+"}", 1)
			text = strings.Replace(text, "tolerance: 0.020", "tolerance: "+threshold, 1)
			r, err := recipe.Parse([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			out, err := recipe.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			again, err := recipe.Parse(out)
			if err != nil || !proto.Equal(r, again) {
				t.Fatalf("round trip: %v\n%s", err, out)
			}
			if got := again.GetMatchRules()[0].GetConditions()[1].GetThreshold().GetValue(); got != threshold {
				t.Errorf("threshold %q, want %q", got, threshold)
			}
		})
	}
}

func TestParseYAML(t *testing.T) {
	t.Parallel()
	r, err := recipe.Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	exact, split := r.GetMatchRules()[0], r.GetMatchRules()[1]
	if th := exact.GetConditions()[1].Threshold; th == nil || th.GetValue() != "0" {
		t.Errorf("threshold 0 must be kept as present 0, got %v", th)
	}
	if exact.GetConditions()[0].Threshold != nil {
		t.Errorf("absent threshold must stay absent")
	}
	if split.GetPriority() != 2 {
		t.Errorf("priority = %d, want 2", split.GetPriority())
	}
	// No rule with a priority: file order, and absent stays absent.
	none := strings.NewReplacer("    priority: 1\n", "", "    priority: 2\n", "").Replace(validYAML)
	if r, err := recipe.Parse([]byte(none)); err != nil || r.GetMatchRules()[1].Priority != nil {
		t.Errorf("recipe without priorities: %v, %v", err, r)
	}
	if split.GetPattern() != kallav1.Pattern_PATTERN_ONE_TO_MANY {
		t.Errorf("unquoted 1:N = %v", split.GetPattern())
	}
	if got := split.GetAggregate().GetTolerance().GetValue(); got != "0.020" {
		t.Errorf("tolerance text = %q, want 0.020 as written", got)
	}
	// Exact decimals in quotes, as JSON writers keep them from floats.
	quoted := strings.NewReplacer("threshold: 0}", `threshold: "0.10"}`, "tolerance: 0.020", "tolerance: '1e-2'").Replace(validYAML)
	r, err = recipe.Parse([]byte(quoted))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.GetMatchRules()[0].GetConditions()[1].GetThreshold().GetValue(); got != "0.10" {
		t.Errorf("quoted threshold = %q, want 0.10", got)
	}
	if got := r.GetMatchRules()[1].GetAggregate().GetTolerance().GetValue(); got != "1e-2" {
		t.Errorf("quoted tolerance = %q, want 1e-2", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, new string
		field, message string
		line           int
	}{
		{"unknown_key", "priority: 1", "priority: 1\n    prio: 2", "match_rules[0].prio", "unknown field", 11},
		{"unknown_operator", "op: eq_ci", "op: like", "match_rules[1].conditions[0].op", `unknown operator "like"`, 18},
		{"unknown_pattern", `pattern: "1:1"`, `pattern: "2:2"`, "match_rules[0].pattern", `unknown pattern "2:2"`, 9},
		{"missing_threshold", ", threshold: 0}", "}", "match_rules[0].conditions[1].threshold", "operator tolerance needs a threshold", 0},
		{"threshold_not_allowed", "right: reference_number}\n      - {left: amount", "right: reference_number, threshold: 1}\n      - {left: amount", "match_rules[0].conditions[0].threshold", "takes no threshold", 12},
		{"threshold_not_a_number", "threshold: 0}", `threshold: "abc"}`, "match_rules[0].conditions[1].threshold", "must be a decimal number", 13},
		{"duplicate_rule_name", "name: split", "name: exact", "match_rules[1].name", `rule name "exact" is already used by match_rules[0]`, 14},
		{"no_join_key", "op: eq_ci", "op: contains", "match_rules[1].conditions", "has no eq or eq_ci condition", 18},
		{"aggregate_on_1_1", "pattern: 1:N", "pattern: M:N", "match_rules[1].aggregate", "needs pattern 1:N or M:1", 19},
		{"priority_missing_beside_one", "    priority: 2\n", "", "match_rules[1]", "has no priority, while match_rules[0] has one", 14},
		{"priority_not_a_number", "priority: 1", "priority: first", "match_rules[0].priority", "must be a whole number", 10},
		{"missing_alias", "alias: invoices, ", "", "sources.left.alias", "is required", 5},
		{"duplicate_key", "recipe_id: ar", "recipe_id: ar\nrecipe_id: br", "recipe_id", "appears twice", 4},
		{"unknown_version", `version: "1.0"`, `version: "2.0"`, "version", `"2.0" is not a recipe version this Kalla reads; allowed: "1.0" (also written "1"), or none`, 0},
		{"unknown_type", "primary_key: [payment_id]}", "primary_key: [payment_id], types: {ref: int}}", "sources.right.types.ref", `"int" is not a type; allowed: date, decimal, integer, text, timestamp, or date, timestamp or decimal and a layout such as "date DD/MM/YYYY", "timestamp DD/MM/YYYY hh:mm" or "decimal 1.234,56"`, 6},
		{"bad_date_layout", "primary_key: [payment_id]}", "primary_key: [payment_id], types: {ref: date DD/MM/YYY}}", "sources.right.types.ref", `"DD/MM/YYY": a date layout puts DD, MM (or MMM, the month's abbreviation: Jan; or MMMM, its name: January) and YYYY (or YY, the years 2000 to 2099) in some order`, 6},
		{"bad_timestamp_layout", "primary_key: [payment_id]}", "primary_key: [payment_id], types: {ref: timestamp DD/MM/YYYY}}", "sources.right.types.ref", `"DD/MM/YYYY": a timestamp layout is a date layout`, 6},
		{"bad_number_layout", "primary_key: [payment_id]}", "primary_key: [payment_id], types: {ref: \"decimal ($1,234.56\"}}", "sources.right.types.ref", `"($1,234.56": a parenthesis is not paired; a number layout writes 1234.56 as the column does`, 6},
		{"types_not_a_mapping", "primary_key: [payment_id]}", "primary_key: [payment_id], types: [ref]}", "sources.right.types", "must be an object", 6},
		{"threshold_a_list", "threshold: 0}", "threshold: [1]}", "match_rules[0].conditions[1].threshold", "must be a decimal number such as 0.02, got a list", 13},
		{"threshold_too_fine", "threshold: 0}", "threshold: 1e-39}", "match_rules[0].conditions[1].threshold", "1e-39 needs more than 38 digits after the point", 13},
		{"threshold_too_wide", "threshold: 0}", "threshold: 999999999999999999999999999999999999999}", "match_rules[0].conditions[1].threshold", "needs 39 digits as an exact decimal (39 before the point, 0 after it)", 13},
		{"tolerance_too_wide", "tolerance: 0.020", "tolerance: 1e40", "match_rules[1].aggregate.tolerance", "1e40 needs 41 digits", 0},
		{"fuzzy_too_fine", "op: tolerance, right: paid_amount, threshold: 0}", "op: fuzzy, right: paid_amount, threshold: 0.1234567890123456789}", "match_rules[0].conditions[1].threshold", "at most 18 digits after the point", 13},
		{"reverse_sign_not_a_list", "primary_key: [payment_id]}", "primary_key: [payment_id], reverse_sign: paid_amount}", "sources.right.reverse_sign", "must be a list", 6},
		{"skip_lines_negative", "primary_key: [payment_id]}", "primary_key: [payment_id], skip_lines: -1}", "sources.right.skip_lines", "is -1; give how many lines come before the header, 0 or more", 6},
		{"skip_lines_not_a_number", "primary_key: [payment_id]}", "primary_key: [payment_id], skip_lines: two}", "sources.right.skip_lines", "must be a whole number", 6},
		{"skip_lines_of_parquet", `uri: "file:///abs/payments.csv", primary_key: [payment_id]}`, `uri: "file:///abs/payments.parquet", primary_key: [payment_id], skip_lines: 2}`, "sources.right.skip_lines", "applies to CSV sources only; file:///abs/payments.parquet is parquet", 6},
		{"columns_of_parquet", `uri: "file:///abs/payments.csv", primary_key: [payment_id]}`, `uri: "file:///abs/payments.parquet", primary_key: [payment_id], columns: [payment_id]}`, "sources.right.columns", "applies to CSV sources only; file:///abs/payments.parquet is parquet", 6},
		{"encoding_not_allowed", "primary_key: [payment_id]}", "primary_key: [payment_id], encoding: cp1252}", "sources.right.encoding", `is "cp1252"; allowed: "latin1", "utf-16", "windows-1252"`, 6},
		{"encoding_of_parquet", `uri: "file:///abs/payments.csv", primary_key: [payment_id]}`, `uri: "file:///abs/payments.parquet", primary_key: [payment_id], encoding: latin1}`, "sources.right.encoding", "applies to CSV sources only; file:///abs/payments.parquet is parquet", 6},
		{"separator_not_allowed", "primary_key: [payment_id]}", "primary_key: [payment_id], separator: tab}", "sources.right.separator", `is "tab"; allowed: ',', ';', '\t' and '|'`, 6},
		{"separator_of_parquet", `uri: "file:///abs/payments.csv", primary_key: [payment_id]}`, `uri: "file:///abs/payments.parquet", primary_key: [payment_id], separator: ";"}`, "sources.right.separator", "applies to CSV sources only; file:///abs/payments.parquet is parquet", 6},
		{"sheet_of_csv", "primary_key: [payment_id]}", "primary_key: [payment_id], sheet: Data}", "sources.right.sheet", "applies to Excel workbooks (.xlsx, .xlsm) only; file:///abs/payments.csv is not one", 6},
		{"separator_of_workbook", `uri: "file:///abs/payments.csv", primary_key: [payment_id]}`, `uri: "file:///abs/payments.xlsx", primary_key: [payment_id], separator: ";"}`, "sources.right.separator", "applies to delimited text files only; file:///abs/payments.xlsx is an Excel workbook, whose cells are its fields", 6},
		{"encoding_of_workbook", `uri: "file:///abs/payments.csv", primary_key: [payment_id]}`, `uri: "s3://b/payments.xlsx", primary_key: [payment_id], encoding: latin1}`, "sources.right.encoding", "applies to delimited text files only; s3://b/payments.xlsx is an Excel workbook", 6},
		{"sheet_empty", "primary_key: [payment_id]}", "primary_key: [payment_id], sheet: \"\"}", "sources.right.sheet", "must not be empty", 6},
		{"columns_empty_name", "primary_key: [payment_id]}", "primary_key: [payment_id], columns: [payment_id, \"\"]}", "sources.right.columns[1]", "must not be empty", 6},
		{"columns_twice", "primary_key: [payment_id]}", "primary_key: [payment_id], columns: [payment_id, amount, payment_id]}", "sources.right.columns[2]", `column "payment_id" is already named at columns[0]`, 6},
		{"reverse_sign_empty_name", "primary_key: [payment_id]}", "primary_key: [payment_id], reverse_sign: [\"\"]}", "sources.right.reverse_sign[0]", "must not be empty", 6},
		{"reverse_sign_twice", "primary_key: [payment_id]}", "primary_key: [payment_id], reverse_sign: [paid_amount, paid_amount]}", "sources.right.reverse_sign[1]", `column "paid_amount" is already named at reverse_sign[0]`, 6},
		{"extract_not_a_mapping", "primary_key: [payment_id]}", "primary_key: [payment_id], extract: [ref]}", "sources.right.extract", "must be an object", 6},
		{"extract_without_from", "primary_key: [payment_id]}", "primary_key: [payment_id], extract: {ref: {pattern: \"INV-[0-9]+\"}}}", "sources.right.extract.ref.from", "is required", 6},
		{"extract_bad_pattern", "primary_key: [payment_id]}", "primary_key: [payment_id], extract: {ref: {from: memo, pattern: \"(INV\"}}}", "sources.right.extract.ref.pattern", `"(INV" is no regular expression: missing closing )`, 6},
		{"extract_unknown_field", "primary_key: [payment_id]}", "primary_key: [payment_id], extract: {ref: {from: memo, regex: x}}}", "sources.right.extract.ref.regex", "unknown field", 6},
		{"net_without_minus", "primary_key: [payment_id]}", "primary_key: [payment_id], net: {amount: {plus: paid_in}}}", "sources.right.net.amount.minus", "is required", 6},
		{"net_of_itself", "primary_key: [payment_id]}", "primary_key: [payment_id], net: {amount: {plus: paid_in, minus: paid_in}}}", "sources.right.net.amount", `subtracts "paid_in" from itself`, 6},
		{"totals_not_a_list", "primary_key: [payment_id]}", "primary_key: [payment_id], totals: paid_amount}", "sources.right.totals", "must be a list", 6},
		{"totals_entry_a_list", "primary_key: [payment_id]}", "primary_key: [payment_id], totals: [[paid_amount]]}", "sources.right.totals[0]", `must be a column's name, or an object such as {"column": "amount", "by": "currency"}`, 6},
		{"totals_empty_name", "primary_key: [payment_id]}", "primary_key: [payment_id], totals: [\"\"]}", "sources.right.totals[0]", "must not be empty", 6},
		{"totals_without_column", "primary_key: [payment_id]}", "primary_key: [payment_id], totals: [{by: currency}]}", "sources.right.totals[0].column", "is required", 6},
		{"totals_unknown_field", "primary_key: [payment_id]}", "primary_key: [payment_id], totals: [{column: paid_amount, per: currency}]}", "sources.right.totals[0].per", "unknown field; allowed here: column, by", 6},
		{"totals_by_itself", "primary_key: [payment_id]}", "primary_key: [payment_id], totals: [{column: paid_amount, by: paid_amount}]}", "sources.right.totals[0].by", `splits "paid_amount" by itself`, 0},
		{"totals_twice", "primary_key: [payment_id]}", "primary_key: [payment_id], totals: [paid_amount, {column: paid_amount, by: currency}, {column: paid_amount}]}", "sources.right.totals[2]", "is already asked for at sources.right.totals[0]", 0},
		{"filter_unknown_op", "primary_key: [payment_id]}", "primary_key: [payment_id], filter: [{column: status, op: like, value: x}]}", "sources.right.filter[0].op", `unknown operator "like"; allowed: empty, eq, gt, gte, in, lt, lte, ne, not_empty, not_in`, 6},
		{"filter_without_op", "primary_key: [payment_id]}", "primary_key: [payment_id], filter: [{column: status, value: x}]}", "sources.right.filter[0].op", "is required", 6},
		{"filter_without_value", "primary_key: [payment_id]}", "primary_key: [payment_id], filter: [{column: status, op: eq}]}", "sources.right.filter[0].value", "is required: eq takes one value", 0},
		{"filter_two_values", "primary_key: [payment_id]}", "primary_key: [payment_id], filter: [{column: status, op: lt, values: [a, b]}]}", "sources.right.filter[0].values", "has 2 values; lt takes one (in and not_in take a list)", 0},
		{"filter_in_without_values", "primary_key: [payment_id]}", "primary_key: [payment_id], filter: [{column: status, op: in, values: []}]}", "sources.right.filter[0].values", "in takes a list of values", 0},
		{"filter_empty_with_value", "primary_key: [payment_id]}", "primary_key: [payment_id], filter: [{column: status, op: empty, value: x}]}", "sources.right.filter[0]", "empty takes no value", 0},
		{"filter_value_and_values", "primary_key: [payment_id]}", "primary_key: [payment_id], filter: [{column: status, op: in, value: x, values: [y]}]}", "sources.right.filter[0].values", "and value are both set", 6},
		{"filter_null_value", "primary_key: [payment_id]}", "primary_key: [payment_id], filter: [{column: status, op: eq, value: null}]}", "sources.right.filter[0].value", "must be a string", 6},
		{"priority_out_of_range", "priority: 1", "priority: 2147483648", "match_rules[0].priority", "must be a whole number from -2147483648 to 2147483647", 10},
		{"output_a_uri", "recipe_id: ar", "recipe_id: ar\noutput: {matched: out/matched.csv, unmatched_left: \"s3://b/left.csv\", unmatched_right: out/right.csv}", "output.unmatched_left", `"s3://b/left.csv" is a URI: give a file's path, relative to the recipe or absolute`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := strings.Replace(validYAML, tt.old, tt.new, 1)
			if text == validYAML {
				t.Fatalf("test case did not change the recipe")
			}
			_, err := recipe.Parse([]byte(text))
			var errs recipe.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want recipe.Errors, got %v", err)
			}
			for _, e := range errs {
				if e.Field == tt.field && strings.Contains(e.Message, tt.message) {
					if tt.line != 0 && e.Line != tt.line {
						t.Errorf("line = %d, want %d (%v)", e.Line, tt.line, e)
					}
					return
				}
			}
			t.Errorf("no error on %s containing %q; got:\n%v", tt.field, tt.message, err)
		})
	}
}

func TestParseJSONPositions(t *testing.T) {
	t.Parallel()
	text := "{\n\t\"recipe_id\": \"x\",\n\t\"sources\": {\"left\": {\"alias\": \"a\", \"uri\": \"file://a.csv\"}, \"right\": {\"alias\": \"b\", \"uri\": \"file://b.csv\"}},\n\t\"match_rules\": [{\"name\": \"r\", \"pattern\": \"1:1\", \"conditions\": [{\"left\": \"k\", \"op\": \"equals\", \"right\": \"k\"}]}]\n}\n"
	_, err := recipe.Parse([]byte(text))
	var errs recipe.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("want one error, got %v", err)
	}
	if e := errs[0]; e.Field != "match_rules[0].conditions[0].op" || e.Line != 4 {
		t.Errorf("error = %+v, want field match_rules[0].conditions[0].op on line 4", e)
	}
}

// TestParseJSONEscapes reads the escapes JSON writers use and YAML's reader
// does not know.
func TestParseJSONEscapes(t *testing.T) {
	t.Parallel()
	text := "{\"recipe_id\": \"x\", \"name\": NAME,\n\"sources\": {\"left\": {\"alias\": \"a\", \"uri\": \"file:\\/\\/\\/data\\/a.csv\"}, \"right\": {\"alias\": \"b\", \"uri\": \"file:///b.csv\"}},\n\"match_rules\": [{\"name\": \"r\", \"pattern\": \"1:1\", \"conditions\": [{\"left\": \"k\", \"op\": \"eq\", \"right\": \"k\"}]}]}\n"
	for _, tt := range []struct{ name, written, want string }{
		{"slash", `"AR\/AP"`, "AR/AP"},
		{"surrogate_pair", `"paid \ud83d\udcb0 in \u00e9cus"`, "paid \U0001F4B0 in \u00e9cus"},
		{"escaped_backslash_before_slash", `"a\\/b"`, `a\/b`},
		{"other_escapes", `"tab\there \"quoted\" \u0041"`, "tab\there \"quoted\" A"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := recipe.Parse([]byte(strings.Replace(text, "NAME", tt.written, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if r.GetName() != tt.want || r.GetSources().GetLeft().GetUri() != "file:///data/a.csv" {
				t.Errorf("name %q, left uri %q; want %q and file:///data/a.csv", r.GetName(), r.GetSources().GetLeft().GetUri(), tt.want)
			}
		})
	}
	t.Run("yaml_backslash_is_no_escape", func(t *testing.T) {
		t.Parallel()
		r, err := recipe.Parse([]byte(strings.Replace(validYAML, "recipe_id: ar", "recipe_id: ar\nname: 'AR\\/AP \\ud83d'", 1)))
		if err != nil || r.GetName() != `AR\/AP \ud83d` {
			t.Errorf("name %q (%v), want the single-quoted text as written", r.GetName(), err)
		}
	})
}

func TestLoadResolvesRelativeFileURIs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "recipe.yaml")
	if err := os.WriteFile(path, []byte(validYAML+"output: {matched: out/m.parquet}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.GetSources().GetLeft().GetUri(), "file://"+filepath.Join(dir, "data/invoices.csv"); got != want {
		t.Errorf("left uri = %q, want %q", got, want)
	}
	if got := r.GetSources().GetRight().GetUri(); got != "file:///abs/payments.csv" {
		t.Errorf("absolute uri changed to %q", got)
	}
	if got, want := r.GetOutput().GetMatched(), filepath.Join(dir, "out/m.parquet"); got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

// TestValidateExtract: recipes sent through the API skip the file decoder,
// whose checks Validate repeats.
func TestValidateExtract(t *testing.T) {
	t.Parallel()
	r, err := recipe.Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	r.Sources.Right.Extract = map[string]*kallav1.Extract{"a": {Pattern: "x"}, "b": {From: "memo"}, "c": {From: "memo", Pattern: `\p{Nope}`}}
	err = recipe.Validate(r)
	for _, want := range []string{"sources.right.extract.a.from: is required", "sources.right.extract.b.pattern: is required", `sources.right.extract.c.pattern: "\\p{Nope}" is no regular expression: invalid character class range`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to say %s", err, want)
		}
	}
}

func TestSignedRoundTrip(t *testing.T) {
	t.Parallel()
	text := strings.Replace(validYAML, "primary_key: [invoice_id]}", `primary_key: [invoice_id], signed: {amount: {value: amt, by: dc, positive: [D, DR], negative: [C, "0"]}}}`, 1)
	r, err := recipe.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	g := r.GetSources().GetLeft().GetSigned()["amount"]
	if g.GetValue() != "amt" || g.GetBy() != "dc" || !reflect.DeepEqual(g.GetPositive(), []string{"D", "DR"}) || !reflect.DeepEqual(g.GetNegative(), []string{"C", "0"}) {
		t.Errorf("signed = %v", g)
	}
	roundTrip(t, r)
}

// TestValidateSigned: the checks of the file decoder, again for recipes sent
// through the API.
func TestValidateSigned(t *testing.T) {
	t.Parallel()
	r, err := recipe.Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	r.Sources.Left.Signed = map[string]*kallav1.Signed{"amount": {Value: "amt", Negative: []string{"C", "C"}}}
	err = recipe.Validate(r)
	for _, want := range []string{"sources.left.signed.amount.by: is required", "sources.left.signed.amount.positive: is required",
		`sources.left.signed.amount.negative[1]: "C" is already a mark at sources.left.signed.amount.negative[0]`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to say %s", err, want)
		}
	}
}

// TestValidateNames: the checks of the file decoder on lists of column
// names, again for recipes sent through the API.
func TestValidateNames(t *testing.T) {
	t.Parallel()
	r, err := recipe.Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	r.Sources.Left.Columns = []string{"invoice_id", "", "amount"}
	r.Sources.Right.ReverseSign = []string{"paid_amount", "paid_amount"}
	err = recipe.Validate(r)
	for _, want := range []string{"sources.left.columns[1]: is empty; name a column", `sources.right.reverse_sign[1]: column "paid_amount" is already named at reverse_sign[0]`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to say %s", err, want)
		}
	}
}
