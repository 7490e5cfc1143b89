package plan

import (
	"fmt"
	"math/big"
	"regexp"
	"time"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
)

// Filter is one condition a record of a source must meet to take part in
// the reconciliation.
type Filter struct {
	Column source.Column
	Op     kallav1.FilterOperator
	// Values are as written, checked against the column's type: a date
	// YYYY-MM-DD, a timestamp YYYY-MM-DD[ hh:mm[:ss[.ffffff]]], true or
	// false; Numbers holds them exactly for a number column.
	Values  []string
	Numbers []*big.Rat
	// Field is the condition's place in the recipe, such as
	// "sources.left.filter[0]".
	Field string
}

// dateValue and timestampValue are how a filter writes a date and a
// timestamp (UTC, at most microseconds: what the engine keeps); the
// calendar and the clock are checked apart.
var (
	dateValue      = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	timestampValue = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?))?$`)
)

// filters checks a source's filter: each column is the source's (own or
// derived), each value one of the column's type.
func (b *builder) filters(s *kallav1.Source, in Input, side string) []Filter {
	var out []Filter
	for i, f := range s.GetFilter() {
		field := fmt.Sprintf("sources.%s.filter[%d]", side, i)
		c, ok := b.column(in, f.GetColumn(), field+".column")
		if !ok {
			continue
		}
		if msg := textOrdering(c, side, f); msg != "" {
			b.fail(field, "%s", msg)
			continue
		}
		filter := Filter{Column: c, Op: f.GetOp(), Values: f.GetValues(), Field: field}
		for j, v := range f.GetValues() {
			where := field + ".value"
			if recipe.TakesList(f.GetOp()) {
				where = fmt.Sprintf("%s.values[%d]", field, j)
			}
			if v == "" && in.Ref.Format == source.FormatCSV {
				b.fail(where, "is empty, and an empty CSV field is no value: to keep or leave out the records without one, use the operator empty or not_empty")
				ok = false
				continue
			}
			n, msg := filterValue(c, v)
			if msg != "" {
				b.fail(where, "%q is not %s, the type of %s's column %s", v, msg, in.Alias, c.Name)
				ok = false
			}
			filter.Numbers = append(filter.Numbers, n)
		}
		if ok {
			out = append(out, filter)
		}
	}
	return out
}

// filterValue reads v as a value of column c: its exact number for a
// number column, else nil; msg, when v is not one, says what it should be.
func filterValue(c source.Column, v string) (n *big.Rat, msg string) {
	if c.Empty {
		return nil, "" // no value to compare: every condition is on NULLs
	}
	switch Classify(c.Type) {
	case Number:
		r, ok := recipe.Rat(&kallav1.Decimal{Value: v})
		if !ok || recipe.Scale(r)+recipe.IntDigits(r) > recipe.MaxDigits {
			return nil, fmt.Sprintf("a number such as -1234.56 of at most %d digits", recipe.MaxDigits)
		}
		return r, ""
	case Temporal:
		if c.Type == source.Date {
			if !dateValue.MatchString(v) || !validDay(v) {
				return nil, "a date written YYYY-MM-DD"
			}
			return nil, ""
		}
		m := timestampValue.FindStringSubmatch(v)
		if m == nil || !validDay(m[1]) || !validClock(m[2]) {
			return nil, "a timestamp written YYYY-MM-DD or YYYY-MM-DD hh:mm:ss, with at most 6 digits after the second's point"
		}
		return nil, ""
	}
	if c.Type == source.Boolean && v != "true" && v != "false" {
		return nil, "true or false"
	}
	return nil, ""
}

// textOrdering refuses lt, lte, gt and gte between a text column and a
// number or a date: by bytes, "9.00" is above "100", which no one means.
// Rules refuse such a comparison too.
func textOrdering(c source.Column, side string, f *kallav1.Filter) string {
	switch f.GetOp() {
	case kallav1.FilterOperator_FILTER_OPERATOR_LT, kallav1.FilterOperator_FILTER_OPERATOR_LTE,
		kallav1.FilterOperator_FILTER_OPERATOR_GT, kallav1.FilterOperator_FILTER_OPERATOR_GTE:
	default:
		return ""
	}
	if Classify(c.Type) != String || c.Empty || len(f.GetValues()) != 1 {
		return ""
	}
	v := f.GetValues()[0]
	want := Number
	if _, ok := recipe.Rat(&kallav1.Decimal{Value: v}); !ok {
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return ""
		}
		want = Temporal
	}
	return fmt.Sprintf("%s compares by bytes on text, and column %q is text%s; %s %q would order it as text, not as %s",
		recipe.FilterName(f.GetOp()), c.Name, whyNot(c, side, want), recipe.FilterName(f.GetOp()), v, classNames[want])
}

// validDay says a YYYY-MM-DD is a day of the calendar from year 1.
func validDay(v string) bool {
	t, err := time.Parse("2006-01-02", v)
	return err == nil && t.Year() >= 1
}

// validClock says an hh:mm[:ss[.ffffff]] (timestampValue's shape) is a
// time of day; "" (midnight) is one.
func validClock(v string) bool {
	if v == "" {
		return true
	}
	_, err := time.Parse("15:04:05.000000"[:len(v)], v)
	return err == nil
}
