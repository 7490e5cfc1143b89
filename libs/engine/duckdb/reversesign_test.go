package duckdb_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// memberDeltas lists the matched evidence as "match_id side key: deltas".
func memberDeltas(o outcome) []string {
	var out []string
	for _, m := range o.matched {
		out = append(out, fmt.Sprintf("%s %s %s: %s", m["match_id"], m["side"], m["key"], m["deltas"]))
	}
	return out
}

func TestReverseSign(t *testing.T) {
	t.Parallel()
	t.Run("bank_against_ledger", func(t *testing.T) {
		t.Parallel()
		// The bank writes money out as negative, the ledger as positive.
		o := mustReconcile(t,
			"id,ref,amount\n1,A,500.00\n2,B,120.00\n3,C,75.50\n4,D,10.00\n5,E,\n",
			"id,ref,amount\n10,A,-500.00\n11,B,-120.02\n12,C,75.50\n13,D,-10.03\n14,E,-5\n",
			withSourceField(recipeYAML(rule(oneToOneTolerance, "0.02")), "right", "reverse_sign", "[amount]"))
		if got, want := o.pairs(), []string{"exact: l1 r10", "exact: l2 r11"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		// 0.02 off is exactly the tolerance; the same sign on both sides is
		// 151.00 apart.
		wantReasons(t, o.unmatchedLeft, map[string]string{
			"3": "l.amount differs from -r.amount by 151.00, tolerance 0.02",
			"4": "l.amount differs from -r.amount by 0.03, tolerance 0.02",
			"5": "l.amount is empty (tolerance 0.02)",
		})
		want := []string{"1 left 1: l.amount-(-r.amount): 0.00", "1 right 10: l.amount-(-r.amount): 0.00",
			"2 left 2: l.amount-(-r.amount): -0.02", "2 right 11: l.amount-(-r.amount): -0.02"}
		if got := memberDeltas(o); !slices.Equal(got, want) {
			t.Errorf("matched:\n got %q\nwant %q", got, want)
		}
		// The evidence shows the records as the bank wrote them.
		amounts := idValues(o.unmatchedRight, "amount")
		if want := []string{"12: 75.50", "13: -10.03", "14: -5.00"}; !slices.Equal(amounts, want) {
			t.Errorf("unmatched right amounts = %v, want %v", amounts, want)
		}
	})
	t.Run("tolerance_pct_of_the_left_value", func(t *testing.T) {
		t.Parallel()
		// 2% of |l| whichever side is reversed: -200.00 against 196.00 is
		// 4.00 apart, exactly 2%.
		o := mustReconcile(t,
			"id,ref,amount\n1,A,-200.00\n2,B,-200.00\n",
			"id,ref,amount\n10,A,196.00\n11,B,195.99\n",
			withSourceField(recipeYAML(strings.Replace(rule(oneToOneTolerance, "2"), "op: tolerance,", "op: tolerance_pct,", 1)), "left", "reverse_sign", "[amount]"))
		if got, want := o.pairs(), []string{"exact: l1 r10"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("smallest_integer_negated", func(t *testing.T) {
		t.Parallel()
		// -(-2^63) does not fit 64 bits: it is still 1 from 2^63 - 1.
		left, right := "id,ref,amount\n1,A,9223372036854775807\n", "id,ref,amount\n10,A,-9223372036854775808\n"
		recipe := withSourceField(recipeYAML(rule(oneToOneTolerance, "1")), "right", "reverse_sign", "[amount]")
		o := mustReconcile(t, left, right, recipe)
		if got, want := memberDeltas(o), []string{"1 left 1: l.amount-(-r.amount): -1", "1 right 10: l.amount-(-r.amount): -1"}; !slices.Equal(got, want) {
			t.Errorf("matched = %q, want %q", got, want)
		}
		o = mustReconcile(t, left, right, strings.Replace(recipe, "threshold: 1}", "threshold: 0}", 1))
		wantReasons(t, o.unmatchedLeft, map[string]string{"1": "l.amount differs from -r.amount by 1, tolerance 0"})
	})
	t.Run("aggregate_sums_the_reversed_values", func(t *testing.T) {
		t.Parallel()
		o := mustReconcile(t,
			"id,ref,amount\n1,A,100.00\n2,B,100.00\n",
			"id,ref,amount\n10,A,-60.00\n11,A,-40.00\n12,B,-60.00\n13,B,-40.01\n",
			withSourceField(recipeYAML(`
  - name: split
    pattern: 1:N
    conditions: [{left: ref, op: eq, right: ref}]
    aggregate: {left: amount, right: amount, tolerance: 0}
`), "right", "reverse_sign", "[amount]"))
		if got, want := o.pairs(), []string{"split: l1 r10 r11"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		wantReasons(t, o.unmatchedLeft, map[string]string{
			"2": "l.amount 100.00 against the sum of -r.amount over 2 records, 100.01: differs by 0.01, tolerance 0",
		})
		if got, want := memberDeltas(o), []string{"1 left 1: l.amount-sum(-r.amount): 0.00", "1 right 10: l.amount-sum(-r.amount): 0.00", "1 right 11: l.amount-sum(-r.amount): 0.00"}; !slices.Equal(got, want) {
			t.Errorf("matched:\n got %q\nwant %q", got, want)
		}
	})
	t.Run("aggregate_delta_of_many_to_one", func(t *testing.T) {
		t.Parallel()
		// Two invoices paid at once, a cent short, the payment's sign
		// reversed: the sum of the many (left) less the one (right).
		o := mustReconcile(t,
			"id,ref,amount\n1,A,60.00\n2,A,40.00\n",
			"id,ref,amount\n10,A,-99.99\n",
			withSourceField(recipeYAML(`
  - name: batch
    pattern: M:1
    conditions: [{left: ref, op: eq, right: ref}]
    aggregate: {left: amount, right: amount, tolerance: 0.01}
`), "right", "reverse_sign", "[amount]"))
		want := []string{"1 left 1: sum(l.amount)-(-r.amount): 0.01", "1 left 2: sum(l.amount)-(-r.amount): 0.01", "1 right 10: sum(l.amount)-(-r.amount): 0.01"}
		if got := memberDeltas(o); !slices.Equal(got, want) {
			t.Errorf("matched:\n got %q\nwant %q", got, want)
		}
	})
	t.Run("join_on_a_reversed_amount", func(t *testing.T) {
		t.Parallel()
		// Without references, the amount itself is the join key.
		o := mustReconcile(t,
			"id,amount\n1,-250.00\n2,-99.00\n",
			"id,amount\n10,250\n11,-99.00\n",
			withSourceField(recipeYAML("  - {name: by_amount, pattern: \"1:1\", conditions: [{left: amount, op: eq, right: amount}]}\n"), "left", "reverse_sign", "[amount]"))
		if got, want := o.pairs(), []string{"by_amount: l1 r10"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		wantReasons(t, o.unmatchedLeft, map[string]string{"2": "no r record has amount equal to its -amount (rule by_amount)"})
	})
	t.Run("keys_keep_their_sign", func(t *testing.T) {
		t.Parallel()
		o := mustReconcile(t,
			"id,ref,amount\n-1,A,5.00\n",
			"id,ref,amount\n7,A,-5.00\n",
			withSourceField(withSourceField(recipeYAML(rule(oneToOneTolerance, "0")), "right", "reverse_sign", "[amount, id]"), "left", "reverse_sign", "[id]"))
		if got, want := o.pairs(), []string{"exact: l-1 r7"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("opposite_signs_are_pointed_out", func(t *testing.T) {
		t.Parallel()
		// Without reverse_sign, a near miss of opposite signs says so.
		o := mustReconcile(t,
			"id,ref,amount,n\n1,A,500.00,7\n2,B,500.00,7\n3,C,0,7\n",
			"id,ref,amount,n\n10,A,-500.00,-7\n11,B,-499.00,7\n12,C,0,-7\n",
			recipeYAML("  - {name: exact, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance_pct, right: amount, threshold: 1}, {left: n, op: tolerance, right: n, threshold: 0}]}\n"))
		note := " (one amount with opposite signs: a source's reverse_sign compares a column negated; a net's plus and minus, or a signed column's marks, swapped give the other sign)"
		wantReasons(t, o.unmatchedLeft, map[string]string{
			"1": "l.amount differs from r.amount by 1000.00 (200.0% of l.amount), more than 1%" + note + "; l.n differs from r.n by 14, tolerance 0" + note,
			"2": "l.amount differs from r.amount by 999.00 (199.8% of l.amount), more than 1%",
			"3": "l.n differs from r.n by 14, tolerance 0" + note,
		})
	})
	t.Run("refused_on_text_and_missing_columns", func(t *testing.T) {
		t.Parallel()
		base := recipeYAML(rule(oneToOneTolerance, "0"))
		_, err := reconcileFiles(t, "id,ref,amount\n1,A,5\n", "id,ref,amount\n10,A,\"$5.00\"\n", withSourceField(base, "right", "reverse_sign", "[ref]"))
		wantBadInput(t, err, `sources.right.reverse_sign[0]: column "ref" of r is text`)
		wantBadInput(t, err, "reverse_sign takes numbers")
		_, err = reconcileFiles(t, "id,ref,amount\n1,A,5\n", "id,ref,amount\n10,A,5\n", withSourceField(base, "left", "reverse_sign", "[amt]"))
		wantBadInput(t, err, `sources.left.reverse_sign[0]: column "amt" is not in l`)
		_, err = reconcileFiles(t, "id,ref,amount\n1,A,5\n", "id,ref,amount\n10,A,5\n", withSourceField(base, "left", "reverse_sign", "[amount, amount]"))
		wantBadInput(t, err, `sources.left.reverse_sign[1]: column "amount" is already named at reverse_sign[0]`)
	})
}
