package sqlplan

import (
	"fmt"
	"strings"

	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
)

// PostgresWhere is the part of a database side's filter PostgreSQL checks
// before it sends the rows (to source.CopyCSV, or a stager's chunk), so
// that the rows the filter leaves out are not sent: "" when no condition
// can be checked there. Each condition compares the value as Kalla selects
// it (source.SelectColumn), as the engine compares it: numbers exactly, dates and timestamps in UTC (the session's
// zone), text by bytes (COLLATE "C", whatever the column's collation),
// which is the engine's order only when the server's text is UTF-8 (utf8);
// otherwise conditions on text are left to the engine. So are those on the
// columns the side derives. The engine still checks the whole filter.
func PostgresWhere(in plan.Input, utf8 bool) string {
	_, conds := postgresChecks(in, utf8)
	return strings.Join(conds, " AND ")
}

// PostgresChecks are the conditions of the side's filter PostgresWhere
// has the database check.
func PostgresChecks(in plan.Input, utf8 bool) []plan.Filter {
	filters, _ := postgresChecks(in, utf8)
	return filters
}

func postgresChecks(in plan.Input, utf8 bool) (filters []plan.Filter, conds []string) {
	for _, f := range in.Filters {
		c, ok := in.Schema.Column(f.Column.Name)
		if !ok {
			continue // derived in the engine
		}
		if cond, ok := postgresCondition(f, c, utf8); ok {
			filters, conds = append(filters, f), append(conds, "("+cond+")")
		}
	}
	return filters, conds
}

// postgresCondition is filter f on the table's column c in PostgreSQL's
// SQL; ok is false when it must be left to the engine.
func postgresCondition(f plan.Filter, c source.Column, utf8 bool) (cond string, ok bool) {
	col := "(" + source.SelectColumn(c) + ")"
	text := plan.Classify(c.Type) == plan.String
	if text {
		col += `::text COLLATE "C"`
	}
	values := make([]string, len(f.Values))
	for i, v := range f.Values {
		// Text in another encoding orders by other bytes; and no
		// PostgreSQL text holds a NUL.
		if text && !utf8 || strings.ContainsRune(v, 0) {
			return "", false
		}
		if n := f.Numbers[i]; n != nil {
			digits, _ := decimalText(n)
			values[i] = source.PostgresString(digits) + "::numeric"
			continue
		}
		values[i] = source.PostgresString(v)
	}
	return condition(f.Op, col, values, func(below, strict bool) string {
		return fmt.Sprintf("%s %s %s", col, comparison(below, strict), values[0])
	}), true
}
