package oracle

import (
	"fmt"
	"math/big"
	"slices"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// filter keeps the records that meet every condition of a source's filter,
// each value read as its column's type. A NULL cell is no value: ne and
// not_in keep it, empty keeps only it, every other condition drops it.
func (s *side) filter(filters []*kallav1.Filter) error {
	for _, f := range filters {
		c, err := s.column(f.GetColumn())
		if err != nil {
			return fmt.Errorf("filter: %w", err)
		}
		values := make([]*value, len(f.GetValues()))
		for i, text := range f.GetValues() {
			if values[i] = filterValue(text, s.types[c]); values[i] == nil {
				return fmt.Errorf("filter: %q is no %s", text, s.types[c])
			}
		}
		family := s.types[c].kind.family()
		s.records = slices.DeleteFunc(s.records, func(r *record) bool {
			return !keeps(f.GetOp(), r.cells[c], values, family)
		})
	}
	return nil
}

// filterValue reads a filter's value as a cell of type t; a number is read
// exactly, whatever the column's scale.
func filterValue(text string, t colType) *value {
	if t.kind.family() == familyNumber {
		n, ok := new(big.Rat).SetString(text)
		if !ok {
			return nil
		}
		return &value{num: n}
	}
	return parse(&text, t)
}

func keeps(op kallav1.FilterOperator, cell *value, values []*value, f family) bool {
	named := func() bool {
		return slices.ContainsFunc(values, func(v *value) bool { return compare(cell, v, f) == 0 })
	}
	switch op {
	case kallav1.FilterOperator_FILTER_OPERATOR_EMPTY:
		return cell == nil
	case kallav1.FilterOperator_FILTER_OPERATOR_NOT_EMPTY:
		return cell != nil
	case kallav1.FilterOperator_FILTER_OPERATOR_NE, kallav1.FilterOperator_FILTER_OPERATOR_NOT_IN:
		return cell == nil || !named()
	}
	if cell == nil {
		return false
	}
	switch op {
	case kallav1.FilterOperator_FILTER_OPERATOR_EQ, kallav1.FilterOperator_FILTER_OPERATOR_IN:
		return named()
	case kallav1.FilterOperator_FILTER_OPERATOR_LT:
		return compare(cell, values[0], f) < 0
	case kallav1.FilterOperator_FILTER_OPERATOR_LTE:
		return compare(cell, values[0], f) <= 0
	case kallav1.FilterOperator_FILTER_OPERATOR_GT:
		return compare(cell, values[0], f) > 0
	case kallav1.FilterOperator_FILTER_OPERATOR_GTE:
		return compare(cell, values[0], f) >= 0
	}
	panic(fmt.Sprintf("unknown filter operator %v", op))
}
