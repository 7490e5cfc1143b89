package sqlplan

import (
	"fmt"
	"math/big"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
)

// filterWhere is the condition a record kept by a source's filter meets: every
// filter's.
func filterWhere(filters []plan.Filter) string {
	conds := make([]string, len(filters))
	for i, f := range filters {
		conds[i] = "(" + filterCondition(f) + ")"
	}
	return strings.Join(conds, " AND ")
}

func filterCondition(f plan.Filter) string {
	col := Ident(f.Column.Name)
	var values []string
	for i := range f.Values {
		if v, ok := filterLiteral(f, i); ok {
			values = append(values, v)
		}
	}
	return condition(f.Op, col, values, func(below, strict bool) string {
		if n := f.Numbers[0]; n != nil {
			return numberBound(col, f.Column, below, strict, n)
		}
		return fmt.Sprintf("%s %s %s", col, comparison(below, strict), values[0])
	})
}

// condition is a filter's condition on the value col, values being the
// literals it names that the column can hold; order renders lt, lte, gt
// and gte. An empty value meets ne and not_in (it is not the value named)
// and none of the comparisons.
func condition(op kallav1.FilterOperator, col string, values []string, order func(below, strict bool) string) string {
	switch op {
	case kallav1.FilterOperator_FILTER_OPERATOR_EMPTY:
		return col + " IS NULL"
	case kallav1.FilterOperator_FILTER_OPERATOR_NOT_EMPTY:
		return col + " IS NOT NULL"
	}
	in := func() string {
		if len(values) == 0 {
			return "false" // no value the column can hold
		}
		return fmt.Sprintf("%s IN (%s)", col, strings.Join(values, ", "))
	}
	switch op {
	case kallav1.FilterOperator_FILTER_OPERATOR_EQ, kallav1.FilterOperator_FILTER_OPERATOR_IN:
		return in()
	case kallav1.FilterOperator_FILTER_OPERATOR_NE, kallav1.FilterOperator_FILTER_OPERATOR_NOT_IN:
		return fmt.Sprintf("%s IS NULL OR NOT (%s)", col, in())
	}
	below := op == kallav1.FilterOperator_FILTER_OPERATOR_LT || op == kallav1.FilterOperator_FILTER_OPERATOR_LTE
	strict := op == kallav1.FilterOperator_FILTER_OPERATOR_LT || op == kallav1.FilterOperator_FILTER_OPERATOR_GT
	return order(below, strict)
}

// comparison is the SQL operator of an ordering: below or above the
// bound, strictly or not.
func comparison(below, strict bool) string {
	op := ">"
	if below {
		op = "<"
	}
	if !strict {
		op += "="
	}
	return op
}

// filterLiteral is a filter's i-th value as a literal of its column's
// type; ok is false for a number the column cannot hold (more digits
// before the point, or more after, than its type), which no value of it
// equals.
func filterLiteral(f plan.Filter, i int) (string, bool) {
	if n := f.Numbers[i]; n != nil {
		intDigits, scale := typeWidth(f.Column)
		return Decimal(n), recipe.IntDigits(n) <= intDigits && recipe.Scale(n) <= scale
	}
	switch {
	case f.Column.Empty:
	case f.Column.Type == source.Date, f.Column.Type == source.Timestamp, f.Column.Type == source.Boolean:
		return fmt.Sprintf("CAST(%s AS %s)", String(f.Values[i]), Type(f.Column)), true
	}
	return String(f.Values[i]), true
}

// numberBound compares a number column with n, below or above, strictly
// or not, exactly, with a literal the column's type holds: the engine
// compares two decimals in a type of both their widths, which past 38
// digits it has not. A bound finer than the column's scale is rounded the
// way that keeps the answer (col < 1.005 is col <= 1.00 for two decimals);
// one beyond its digits holds for every value or none.
func numberBound(col string, c source.Column, below, strict bool, n *big.Rat) string {
	intDigits, scale := typeWidth(c)
	unit := pow10(scale)
	if scaled := new(big.Rat).Mul(n, unit); !scaled.IsInt() {
		// Between two values of the column: the one on the kept side,
		// inclusively. Div rounds down, as the denominator is positive.
		nearest := new(big.Int).Div(scaled.Num(), scaled.Denom())
		if !below {
			nearest.Add(nearest, big.NewInt(1))
		}
		n, strict = new(big.Rat).Quo(new(big.Rat).SetInt(nearest), unit), false
	}
	if recipe.IntDigits(n) > intDigits {
		// Beyond every value the column holds.
		if (n.Sign() > 0) == below {
			return col + " IS NOT NULL"
		}
		return "false"
	}
	return fmt.Sprintf("%s %s %s", col, comparison(below, strict), Decimal(n))
}

// typeWidth is the digits before and after the point of the engine's type
// for a number column (Type's).
func typeWidth(c source.Column) (intDigits, scale int) {
	if c.Type == source.Integer {
		return plan.BigintDigits, 0
	}
	precision, scale := decimalWidth(c)
	return precision - scale, scale
}
