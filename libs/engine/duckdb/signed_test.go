package duckdb_test

import (
	"slices"
	"testing"
)

func TestSigned(t *testing.T) {
	t.Parallel()
	exact := recipeYAML(rule(oneToOneTolerance, "0"))
	// SAP writes S (Soll, debit) and H (Haben, credit) beside the amount.
	sap := `{amount: {value: betrag, by: sh, positive: [S], negative: [H, "H "]}}`
	t.Run("debit_and_credit_marks", func(t *testing.T) {
		t.Parallel()
		o := mustReconcile(t,
			"id,ref,betrag,sh\n1,A,500.00,S\n2,B,75.25,H\n3,C,10.00,H \n4,D,99.99,X\n5,E,5.00,\n",
			"id,ref,amount\n10,A,500.00\n11,B,-75.25\n12,C,-10\n13,D,99.99\n14,E,5.00\n",
			withSourceField(exact, "left", "signed", sap))
		if got, want := o.pairs(), []string{"exact: l1 r10", "exact: l2 r11", "exact: l3 r12"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		// A mark in neither list, or none, leaves the amount empty.
		wantReasons(t, o.unmatchedLeft, map[string]string{"4": "l.amount is empty (tolerance 0)", "5": "l.amount is empty (tolerance 0)"})
		if got := idValues(o.unmatchedLeft, "betrag"); !slices.Equal(got, []string{"4: 99.99", "5: 5.00"}) || o.unmatchedLeft[0]["amount"] != "" {
			t.Errorf("unmatched left = %v", o.unmatchedLeft)
		}
	})
	t.Run("smallest_integer_negated", func(t *testing.T) {
		t.Parallel()
		o := mustReconcile(t, "id,ref,betrag,sh\n1,A,-9223372036854775808,H\n", "id,ref,amount\n10,A,9223372036854775808\n",
			withSourceField(exact, "left", "signed", sap))
		if got, want := o.pairs(), []string{"exact: l1 r10"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("an_empty_column_takes_its_type", func(t *testing.T) {
		t.Parallel()
		// A day without payments: its amount compared with a signed or a net
		// amount takes their type, as with any column.
		for _, fields := range []string{"signed: " + sap, "net: {amount: {plus: betrag, minus: fee}}"} {
			o := mustReconcile(t, "id,ref,betrag,sh,fee\n1,A,100.00,S,0\n", "id,ref,amount\n",
				withSourceFields(recipeYAML(`
  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0}]}
  - {name: split, pattern: "1:N", conditions: [{left: ref, op: eq, right: ref}], aggregate: {left: amount, right: amount, tolerance: 0}}
`), "left", fields))
			if o.summary.Left.Unmatched != 1 || o.summary.MatchGroups != 0 {
				t.Errorf("%s: summary %+v", fields, o.summary)
			}
		}
	})
	t.Run("refused_with_the_field", func(t *testing.T) {
		t.Parallel()
		left, right := "id,ref,betrag,sh,n\n1,A,5,S,1\n", "id,ref,amount\n10,A,5\n"
		for _, tt := range []struct{ fields, want string }{
			{`signed: {amount: {value: sh, by: sh, positive: [S], negative: [H]}}`, `sources.left.signed.amount.value: column "sh" of l is text`},
			{`signed: {amount: {value: betrag, by: n, positive: [S], negative: [H]}}`, `sources.left.signed.amount.by: column "n" of l is integer; signed reads text (set its type to text in the source's types: {"n": "text"})`},
			{`signed: {amount: {value: betrag, by: sh, positive: [S], negative: [S]}}`, `sources.left.signed.amount.negative[0]: "S" is already a mark at sources.left.signed.amount.positive[0]`},
			{`signed: {amount: {value: betrag, by: sh, positive: [S]}}`, `sources.left.signed.amount.negative: is required`},
			{`signed: {amount: {value: betrag, by: sh, positive: [S], negative: [""]}}`, `sources.left.signed.amount.negative[0]: is empty; an empty field is no mark`},
			{`signed: {amount: {value: betrag, by: sh, positive: [S], negative: ["H\0"]}}`, `sources.left.signed.amount.negative[0]: holds a NUL character, which a mark may not`},
			{`reverse_sign: [betrag], signed: ` + sap, `sources.left.reverse_sign[0]: amount is signed by sh's marks, which reverse_sign does not change`},
		} {
			_, err := reconcileFiles(t, left, right, withSourceFields(exact, "left", tt.fields))
			wantBadInput(t, err, tt.want)
		}
	})
}
