package duckdb_test

import (
	"slices"
	"testing"
)

func TestNet(t *testing.T) {
	t.Parallel()
	exact := recipeYAML(rule(oneToOneTolerance, "0"))
	paid := `{amount: {plus: paid_in, minus: paid_out}}`
	t.Run("paid_in_and_paid_out", func(t *testing.T) {
		t.Parallel()
		// As UK banks write statements; 13 has neither, so no amount.
		o := mustReconcile(t,
			"id,ref,amount\n1,A,500.00\n2,B,-75.25\n3,C,10.00\n4,D,99.99\n",
			"id,ref,paid_in,paid_out\n10,A,500.00,\n11,B,,75.25\n12,C,12,2.00\n13,D,,\n",
			withSourceField(exact, "right", "net", paid))
		if got, want := o.pairs(), []string{"exact: l1 r10", "exact: l2 r11", "exact: l3 r12"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		wantReasons(t, o.unmatchedRight, map[string]string{"13": "r.amount is empty (tolerance 0)"})
		// The evidence keeps the bank's own columns only.
		if got := idValues(o.unmatchedRight, "paid_in"); !slices.Equal(got, []string{"13: "}) || o.unmatchedRight[0]["amount"] != "" {
			t.Errorf("unmatched right = %v", o.unmatchedRight)
		}
	})
	t.Run("a_column_without_values", func(t *testing.T) {
		t.Parallel()
		// A month without withdrawals.
		o := mustReconcile(t, "id,ref,amount\n1,A,5.00\n", "id,ref,paid_in,paid_out\n10,A,5,\n",
			withSourceField(exact, "right", "net", paid))
		if got, want := o.pairs(), []string{"exact: l1 r10"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("a_digit_more", func(t *testing.T) {
		t.Parallel()
		// 2^63 - 1 - (-1) needs 19 digits where each column has 19 or 1.
		o := mustReconcile(t, "id,ref,amount\n1,A,9223372036854775808\n", "id,ref,paid_in,paid_out\n10,A,9223372036854775807,-1\n",
			withSourceField(exact, "right", "net", paid))
		if got, want := o.pairs(), []string{"exact: l1 r10"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("refused_with_the_field", func(t *testing.T) {
		t.Parallel()
		left, right := "id,ref,amount\n1,A,5\n", "id,ref,paid_in,paid_out,memo,wide\n10,A,5,0,x,1.0000000000000000000000000000000000001\n"
		for _, tt := range []struct{ field, value, want string }{
			{"net", `{amount: {plus: paid_in, minus: fee}}`, `sources.right.net.amount.minus: column "fee" is not in r`},
			{"net", `{amount: {plus: paid_in, minus: memo}}`, `sources.right.net.amount.minus: column "memo" of r is text`},
			{"net", `{amount: {plus: paid_in, minus: paid_in}}`, `sources.right.net.amount: subtracts "paid_in" from itself`},
			{"net", `{Paid_In: {plus: paid_in, minus: paid_out}}`, `sources.right.net.Paid_In: r already has a column "paid_in"`},
			{"net", `{amount: {plus: wide, minus: paid_out}}`, "wide - paid_out needs numbers of 39 digits (2 before the point, 37 after)"},
			{"reverse_sign", `[amount], net: ` + paid, `sources.right.reverse_sign[0]: amount is the net paid_in - paid_out: swap its plus and minus to reverse its sign`},
			{"reverse_sign", `[paid_out], net: ` + paid, `sources.right.reverse_sign[0]: paid_out is in the net amount (paid_in - paid_out), which reverse_sign does not change`},
		} {
			_, err := reconcileFiles(t, left, right, withSourceField(exact, "right", tt.field, tt.value))
			wantBadInput(t, err, tt.want)
		}
	})
}
