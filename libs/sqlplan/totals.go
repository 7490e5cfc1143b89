package sqlplan

import (
	"fmt"

	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
)

// Total sums one of side s's totals after matching, a row per value of its
// by column (ordered by value, empty last; all one value without by) and
// rule that matched the records (rule_idx; NULL, last, for the records no
// rule matched): rule_idx, the value as text, the records, those with the
// column empty, then the sums of their positive and of their negative
// values as exact text at the column's scale. Sums of one sign grow with
// every value, so whether one outgrows the engine's numbers does not
// depend on the order it adds them in. A side without records has no row.
func Total(s Side, t plan.Total) string {
	v := Ident(t.Column.Name)
	if t.Column.Type == source.Integer {
		// A column without values was loaded as text; BIGINT also leaves
		// narrower integers a HUGEINT sum.
		v = "CAST(" + v + " AS BIGINT)"
	}
	g := "NULL"
	if t.By != nil {
		g = Ident(t.By.Name)
	}
	return fmt.Sprintf("SELECT p.rule_idx, CAST(g AS VARCHAR), count(*), count(*) FILTER (WHERE v IS NULL), %s, %s "+
		"FROM (SELECT __id, %s AS g, %s AS v FROM %s) r LEFT JOIN (SELECT DISTINCT rule_idx, %s AS id FROM %s) p ON p.id = r.__id "+
		"GROUP BY p.rule_idx, g ORDER BY g NULLS LAST, p.rule_idx NULLS LAST",
		sumOf("v > 0"), sumOf("v < 0"), g, v, s.Table, s.ID, Pairs)
}

// sumOf is the exact sum, as text, of the values v that meet filter.
func sumOf(filter string) string {
	return fmt.Sprintf("CAST(coalesce(sum(v) FILTER (WHERE %s), 0) AS VARCHAR)", filter)
}

// TotalGroups counts the values of a total's by column, an empty value
// being one, to refuse a split of more lines than a summary shows.
func TotalGroups(s Side, t plan.Total) string {
	return fmt.Sprintf("SELECT count(*) FROM (SELECT DISTINCT %s FROM %s)", Ident(t.By.Name), s.Table)
}
