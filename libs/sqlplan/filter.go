package sqlplan

import (
	"fmt"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/plan"
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
	values := make([]string, len(f.Values))
	for i := range f.Values {
		values[i] = filterLiteral(f, i)
	}
	switch f.Op {
	case kallav1.FilterOperator_FILTER_OPERATOR_EMPTY:
		return col + " IS NULL"
	case kallav1.FilterOperator_FILTER_OPERATOR_NOT_EMPTY:
		return col + " IS NOT NULL"
	case kallav1.FilterOperator_FILTER_OPERATOR_NE:
		return col + " IS DISTINCT FROM " + values[0]
	case kallav1.FilterOperator_FILTER_OPERATOR_IN:
		return fmt.Sprintf("%s IN (%s)", col, strings.Join(values, ", "))
	case kallav1.FilterOperator_FILTER_OPERATOR_NOT_IN:
		return fmt.Sprintf("%s IS NULL OR %s NOT IN (%s)", col, col, strings.Join(values, ", "))
	}
	op := map[kallav1.FilterOperator]string{
		kallav1.FilterOperator_FILTER_OPERATOR_EQ: "=", kallav1.FilterOperator_FILTER_OPERATOR_LT: "<",
		kallav1.FilterOperator_FILTER_OPERATOR_LTE: "<=", kallav1.FilterOperator_FILTER_OPERATOR_GT: ">",
		kallav1.FilterOperator_FILTER_OPERATOR_GTE: ">=",
	}[f.Op]
	return fmt.Sprintf("%s %s %s", col, op, values[0])
}

// filterLiteral is a filter's i-th value as a literal of its column's
// type: numbers exact, never cast to the column's narrower decimal.
func filterLiteral(f plan.Filter, i int) string {
	if n := f.Numbers[i]; n != nil {
		return Decimal(n)
	}
	switch {
	case f.Column.Empty:
	case f.Column.Type == source.Date, f.Column.Type == source.Timestamp, f.Column.Type == source.Boolean:
		return fmt.Sprintf("CAST(%s AS %s)", String(f.Values[i]), Type(f.Column))
	}
	return String(f.Values[i])
}
