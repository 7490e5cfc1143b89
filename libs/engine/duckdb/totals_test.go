package duckdb_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/evidence"
)

// totalLines renders a side's totals as "column[/by=value]: records
// matched_records unmatched_records empty | total matched unmatched".
func totalLines(totals []evidence.TotalSummary) []string {
	var out []string
	for _, t := range totals {
		out = append(out, fmt.Sprintf("%s: %d %d %d %d | %s %s %s", totalName(t.Column, t.By, t.Value), t.Records, t.MatchedRecords, t.UnmatchedRecords, t.Empty, t.Total, t.Matched, t.Unmatched))
	}
	return out
}

// ruleTotalLine renders a rule's total as "side column[/by=value]:
// records empty | total".
func ruleTotalLine(x evidence.RuleTotal) string {
	return fmt.Sprintf("%s %s: %d %d | %s", x.Side, totalName(x.Column, x.By, x.Value), x.Records, x.Empty, x.Total)
}

// totalName is "column", or "column/by=value" with an empty value as
// <empty>.
func totalName(column, by string, value *string) string {
	if by == "" {
		return column
	}
	v := "<empty>"
	if value != nil {
		v = *value
	}
	return column + "/" + by + "=" + v
}

func wantTotals(t *testing.T, side string, got []evidence.TotalSummary, want ...string) {
	t.Helper()
	if lines := totalLines(got); !slices.Equal(lines, want) {
		t.Errorf("%s totals:\n got %q\nwant %q", side, lines, want)
	}
}

const oneToManySplit = `
  - name: split
    pattern: "1:N"
    conditions:
      - {left: ref, op: eq, right: ref}
    aggregate: {left: amount, right: amount, tolerance: 0}
`

func TestTotals(t *testing.T) {
	t.Parallel()
	exact := recipeYAML(rule(oneToOneTolerance, "0"))
	t.Run("split_by_currency_with_empty_values", func(t *testing.T) {
		t.Parallel()
		// 1 and 4 match; 3 has no amount, 4 no currency. The amounts take
		// the column's scale of 2, 100 too.
		o := mustReconcile(t,
			"id,ref,amount,cur\n1,A,10.00,EUR\n2,B,5.50,EUR\n3,C,,USD\n4,D,2.25,\n5,E,100,USD\n",
			"id,ref,amount\n10,A,10.00\n11,B,7.00\n13,D,2.25\n",
			withSourceField(exact, "left", "totals", "[amount, {column: amount, by: cur}]"))
		wantTotals(t, "left", o.summary.Left.Totals,
			"amount: 5 2 3 1 | 117.75 12.25 105.50",
			"amount/cur=EUR: 2 1 1 0 | 15.50 10.00 5.50",
			"amount/cur=USD: 2 0 2 1 | 100.00 0.00 100.00",
			"amount/cur=<empty>: 1 1 0 0 | 2.25 2.25 0.00")
		if o.summary.Right.Totals != nil {
			t.Errorf("right totals = %v, want none: its source asks for none", o.summary.Right.Totals)
		}
	})
	t.Run("a_record_in_several_pairs_counts_once", func(t *testing.T) {
		t.Parallel()
		// Invoice 1 is paid by 10 and 11 (1:N): one matched record of 10.00.
		o := mustReconcile(t,
			"id,ref,amount\n1,A,10.00\n2,C,3.00\n",
			"id,ref,amount\n10,A,4.00\n11,A,6.00\n12,B,1.00\n",
			withSourceField(withSourceField(recipeYAML(oneToManySplit), "left", "totals", "[amount]"), "right", "totals", "[amount]"))
		wantTotals(t, "left", o.summary.Left.Totals, "amount: 2 1 1 0 | 13.00 10.00 3.00")
		wantTotals(t, "right", o.summary.Right.Totals, "amount: 3 2 1 0 | 11.00 10.00 1.00")
	})
	t.Run("per_rule", func(t *testing.T) {
		t.Parallel()
		// 1 matches exactly, 2 is paid in two parts, 3 by nothing: the
		// rules' sums add up to the sides' matched sums, and a rule that
		// matched nothing has lines of zeros.
		rules := rule(oneToOneTolerance, "0") + strings.Replace(oneToManySplit, "name: split", "name: split\n    priority: 2", 1) +
			strings.Replace(rule(oneToOneTolerance, "0"), "name: exact", "name: never\n    priority: 3", 1)
		rules = strings.Replace(rules, "name: exact", "name: exact\n    priority: 1", 1)
		o := mustReconcile(t, "id,ref,amount\n1,A,10.00\n2,B,6.00\n3,C,1.00\n", "id,ref,amount\n10,A,10.00\n11,B,4.00\n12,B,2.00\n",
			withSourceField(withSourceField(recipeYAML(rules), "left", "totals", "[amount]"), "right", "totals", "[amount]"))
		var got []string
		for _, r := range o.summary.Rules {
			for _, x := range r.Totals {
				got = append(got, r.Name+" "+ruleTotalLine(x))
			}
		}
		want := []string{
			"exact left amount: 1 0 | 10.00", "exact right amount: 1 0 | 10.00",
			"split left amount: 1 0 | 6.00", "split right amount: 2 0 | 6.00",
			"never left amount: 0 0 | 0.00", "never right amount: 0 0 | 0.00",
		}
		if !slices.Equal(got, want) {
			t.Errorf("rule totals:\n got %q\nwant %q", got, want)
		}
		wantTotals(t, "left", o.summary.Left.Totals, "amount: 3 2 1 0 | 17.00 16.00 1.00")
	})
	t.Run("as_written_with_reverse_sign", func(t *testing.T) {
		t.Parallel()
		o := mustReconcile(t, "id,ref,amount\n1,A,10.00\n", "id,ref,amount\n10,A,-10.00\n11,B,2.50\n",
			withSourceFields(exact, "right", "reverse_sign: [amount], totals: [amount]"))
		wantTotals(t, "right", o.summary.Right.Totals, "amount: 2 1 1 0 | -7.50 -10.00 2.50")
	})
	t.Run("a_net_column", func(t *testing.T) {
		t.Parallel()
		o := mustReconcile(t, "id,ref,amount\n1,A,10.00\n", "id,ref,paid_in,paid_out\n10,A,10.00,\n11,B,,3.00\n12,C,,\n",
			withSourceFields(strings.ReplaceAll(exact, "right: amount", "right: amt"), "right", "net: {amt: {plus: paid_in, minus: paid_out}}, totals: [amt]"))
		wantTotals(t, "right", o.summary.Right.Totals, "amt: 3 1 2 1 | 7.00 10.00 -3.00")
	})
	t.Run("a_day_without_records", func(t *testing.T) {
		t.Parallel()
		// amount takes the type it is compared with; fee, without values
		// and compared with nothing, sums as an integer.
		o := mustReconcile(t, "id,ref,amount,fee\n", "id,ref,amount\n10,A,1.50\n",
			withSourceField(exact, "left", "totals", "[amount, fee, {column: amount, by: ref}]"))
		wantTotals(t, "left", o.summary.Left.Totals, "amount: 0 0 0 0 | 0.00 0.00 0.00", "fee: 0 0 0 0 | 0 0 0")
	})
	t.Run("integers_past_bigint", func(t *testing.T) {
		t.Parallel()
		left := "id,ref,amount,n\n"
		for i := range 10 {
			left += fmt.Sprintf("%d,R%d,1,999999999999999999\n", i+1, i)
		}
		o := mustReconcile(t, left, "id,ref,amount\n10,R0,1\n", withSourceField(exact, "left", "totals", "[n]"))
		wantTotals(t, "left", o.summary.Left.Totals, "n: 10 1 9 0 | 9999999999999999990 999999999999999999 8999999999999999991")
	})
	t.Run("thirty_eight_digits", func(t *testing.T) {
		t.Parallel()
		nines := strings.Repeat("9", 38)
		o := mustReconcile(t, "id,ref,amount,n\n1,A,1,"+nines+"\n2,B,1,-1\n", "id,ref,amount\n10,A,1\n", withSourceField(exact, "left", "totals", "[n]"))
		wantTotals(t, "left", o.summary.Left.Totals, "n: 2 1 1 0 | "+strings.Repeat("9", 37)+"8 "+nines+" -1")
	})
	t.Run("refused_with_the_field", func(t *testing.T) {
		t.Parallel()
		left := "id,ref,amount,day,cur\n1,A,5,2024-01-01,EUR\n"
		var many strings.Builder
		many.WriteString("id,ref,amount,day,cur\n")
		for i := range 101 {
			fmt.Fprintf(&many, "%d,A%d,1,2024-01-01,C%d\n", i+1, i, i)
		}
		nines := strings.Repeat("9", 38)
		var wide strings.Builder
		wide.WriteString("id,ref,amount,day,cur\n")
		for i := range 20 {
			fmt.Fprintf(&wide, "%d,A%d,999999999999999999999999999999999999.99,2024-01-01,EUR\n", i+1, i)
		}
		for _, tt := range []struct{ left, totals, want string }{
			{left, "[fee]", `sources.left.totals[0]: column "fee" is not in l; its columns are: id, ref, amount, day, cur`},
			{left, "[amount, cur]", `sources.left.totals[1]: column "cur" of l is text`},
			{left, "[day]", `sources.left.totals[0]: column "day" of l is date`},
			{left, "[{column: amount, by: currency}]", `sources.left.totals[0].by: column "currency" is not in l`},
			{many.String(), "[{column: amount, by: cur}]", "sources.left.totals[0].by: cur has 101 values in l; a total is split by a column of at most 100"},
			{wide.String(), "[amount]", "sources.left.totals[0]: the total of amount over l needs more than 38 digits"},
			// 10^38 would be exact, but is one digit more than any value
			// Kalla computes with.
			{"id,ref,amount\n1,A," + nines + "\n2,B,1\n", "[amount]", "sources.left.totals[0]: the total of amount over l needs more than 38 digits (its positive or its negative values add up to more)"},
			// Refused in any order: the positive values add up to more.
			{"id,ref,amount\n1,A," + nines + "\n2,B," + nines + "\n3,C,-" + nines + "\n", "[amount]", "needs more than 38 digits"},
			{"id,ref,amount\n1,A," + nines + "\n2,B,-" + nines + "\n3,C," + nines + "\n", "[amount]", "needs more than 38 digits"},
		} {
			_, err := reconcileFiles(t, tt.left, "id,ref,amount\n10,A,5\n",
				withSourceField(recipeYAML(`  - {name: ref, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}]}`+"\n"), "left", "totals", tt.totals))
			wantBadInput(t, err, tt.want)
		}
	})
}

// TestParquetTotals: declared decimals sum at their scale, a DECIMAL(38,38)
// (every value below 1) with the zero before its point.
func TestParquetTotals(t *testing.T) {
	t.Parallel()
	path := parquetBook(t,
		`SELECT * FROM (VALUES (1, 'A', 10.50::DECIMAL(38,2), 0.25::DECIMAL(38,38)), (2, 'B', 7::DECIMAL(38,2), -0.5::DECIMAL(38,38))) t(id, ref, amount, frac)`,
		[]string{`SELECT * FROM (VALUES (10, 'A', 10.50::DECIMAL(38,2))) t(id, ref, amount)`},
		"  - {name: exact, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: eq, right: amount}]}\n")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	setSourceFields(t, path, string(text), "id", "totals: [amount, frac]")
	o := mustRun(t, path)
	zeros := strings.Repeat("0", 36)
	wantTotals(t, "left", o.summary.Left.Totals,
		"amount: 2 1 1 0 | 17.50 10.50 7.00",
		"frac: 2 1 1 0 | -0.25"+zeros+" 0.25"+zeros+" -0.50"+zeros)
}
