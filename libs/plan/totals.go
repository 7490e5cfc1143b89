package plan

import (
	"fmt"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/source"
)

// MaxTotalGroups is how many values a total's by column may have: a
// summary lists a line per value, and a column of more (a customer, an
// invoice) is no split a person reads.
const MaxTotalGroups = 100

// Total is a number column the summary sums, over all records or per value
// of By.
type Total struct {
	// Column is summed; a column without any value (a header-only file)
	// sums to 0 as an integer.
	Column source.Column
	// By, when set, is the column whose values split the sums.
	By *source.Column
	// Field is the total's place in the recipe, such as
	// "sources.left.totals[0]".
	Field string
}

// totals checks the columns a source's totals name: a number column each,
// split by any column of the source.
func (b *builder) totals(s *kallav1.Source, in Input, side string) []Total {
	var out []Total
	for i, t := range s.GetTotals() {
		field := fmt.Sprintf("sources.%s.totals[%d]", side, i)
		c, ok := b.number(in, side, t.GetColumn(), field, "totals")
		total := Total{Column: c, Field: field}
		if c.Empty {
			total.Column.Type, total.Column.Empty = source.Integer, false
		}
		if t.GetBy() != "" {
			by, found := b.column(in, t.GetBy(), field+".by")
			total.By, ok = &by, ok && found
		}
		if ok {
			out = append(out, total)
		}
	}
	return out
}
