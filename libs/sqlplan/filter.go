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
// filter's. An empty value meets ne and not_in (it is not the value named)
// and none of the comparisons.
func filterWhere(filters []plan.Filter) string {
	conds := make([]string, len(filters))
	for i, f := range filters {
		conds[i] = "(" + filterCondition(f) + ")"
	}
	return strings.Join(conds, " AND ")
}

func filterCondition(f plan.Filter) string {
	col := Ident(f.Column.Name)
	switch f.Op {
	case kallav1.FilterOperator_FILTER_OPERATOR_EMPTY:
		return col + " IS NULL"
	case kallav1.FilterOperator_FILTER_OPERATOR_NOT_EMPTY:
		return col + " IS NOT NULL"
	}
	var values []string
	for i := range f.Values {
		if v, ok := filterLiteral(f, i); ok {
			values = append(values, v)
		}
	}
	in := func() string {
		if len(values) == 0 {
			return "false" // no value the column can hold
		}
		return fmt.Sprintf("%s IN (%s)", col, strings.Join(values, ", "))
	}
	switch f.Op {
	case kallav1.FilterOperator_FILTER_OPERATOR_EQ, kallav1.FilterOperator_FILTER_OPERATOR_IN:
		return in()
	case kallav1.FilterOperator_FILTER_OPERATOR_NE, kallav1.FilterOperator_FILTER_OPERATOR_NOT_IN:
		return fmt.Sprintf("%s IS NULL OR NOT (%s)", col, in())
	}
	if n := f.Numbers[0]; n != nil {
		return numberBound(col, f.Column, f.Op, n)
	}
	op := map[kallav1.FilterOperator]string{
		kallav1.FilterOperator_FILTER_OPERATOR_LT: "<", kallav1.FilterOperator_FILTER_OPERATOR_LTE: "<=",
		kallav1.FilterOperator_FILTER_OPERATOR_GT: ">", kallav1.FilterOperator_FILTER_OPERATOR_GTE: ">=",
	}[f.Op]
	return fmt.Sprintf("%s %s %s", col, op, values[0])
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

// numberBound compares a number column with n by op (lt, lte, gt, gte)
// exactly, with a literal the column's type holds: the engine compares two
// decimals in a type of both their widths, which past 38 digits it has
// not. A bound finer than the column's scale is rounded the way that keeps
// the answer (col < 1.005 is col <= 1.00 for two decimals); one beyond its
// digits holds for every value or none.
func numberBound(col string, c source.Column, op kallav1.FilterOperator, n *big.Rat) string {
	intDigits, scale := typeWidth(c)
	below := op == kallav1.FilterOperator_FILTER_OPERATOR_LT || op == kallav1.FilterOperator_FILTER_OPERATOR_LTE
	strict := op == kallav1.FilterOperator_FILTER_OPERATOR_LT || op == kallav1.FilterOperator_FILTER_OPERATOR_GT
	unit := pow10(scale)
	scaled := new(big.Rat).Mul(n, unit)
	if !scaled.IsInt() {
		// Between two values of the column: compare with the nearer one
		// on the kept side, inclusively.
		whole := new(big.Int).Quo(scaled.Num(), scaled.Denom()) // toward zero
		if scaled.Sign() < 0 && !below || scaled.Sign() > 0 && below {
			// Toward zero is the right neighbour: floor below, ceil above.
		} else if below {
			whole.Sub(whole, big.NewInt(1))
		} else {
			whole.Add(whole, big.NewInt(1))
		}
		n = new(big.Rat).Quo(new(big.Rat).SetInt(whole), unit)
		strict = false
	}
	sign := map[bool]string{true: "<", false: ">"}[below]
	if !strict {
		sign += "="
	}
	if recipe.IntDigits(n) > intDigits {
		// Beyond every value the column holds.
		if (n.Sign() > 0) == below {
			return col + " IS NOT NULL"
		}
		return "false"
	}
	return fmt.Sprintf("%s %s %s", col, sign, Decimal(n))
}

// typeWidth is the digits before and after the point of the engine's type
// for a number column (see Type): a BIGINT's 19 and 0.
func typeWidth(c source.Column) (intDigits, scale int) {
	if c.Type == source.Integer {
		return 19, 0
	}
	if c.Precision == c.Scale && c.Precision < 38 {
		return 1, c.Scale
	}
	return c.Precision - c.Scale, c.Scale
}
