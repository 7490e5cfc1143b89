package sqlplan

import (
	"fmt"

	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
)

// Total sums one of side s's totals after matching, a row per value of its
// by column (ordered by value, empty last; one row without by): the value
// as text, the records, the matched ones, those with the column empty,
// then the sums of the positive and of the negative values of the matched
// records, and of the unmatched ones, as exact text at the column's scale.
// Sums of one sign grow with every value, so whether one outgrows the
// engine's numbers does not depend on the order it adds them in.
func Total(s Side, t plan.Total) string {
	value := "CAST(NULL AS VARCHAR)"
	group := ""
	if t.By != nil {
		value = "CAST(g AS VARCHAR)"
		group = " GROUP BY g ORDER BY g NULLS LAST"
	}
	return fmt.Sprintf("SELECT %s, count(*), count(*) FILTER (WHERE m), count(*) FILTER (WHERE v IS NULL), %s, %s, %s, %s FROM (%s)%s",
		value, sumOf("m AND v > 0"), sumOf("m AND v < 0"), sumOf("NOT m AND v > 0"), sumOf("NOT m AND v < 0"), totalRows(s, t), group)
}

// RuleTotal sums one of side s's totals over the records each rule
// matched, a row per rule (by rule_idx) and value of its by column, in
// that order, empty last: rule_idx, the value as text, the records, those
// with the column empty, then the sums of their positive and of their
// negative values. A rule that matched none of the side's records has no
// row.
func RuleTotal(s Side, t plan.Total) string {
	value, group := "CAST(NULL AS VARCHAR)", "p.rule_idx"
	if t.By != nil {
		value, group = "CAST(g AS VARCHAR)", "p.rule_idx, g"
	}
	return fmt.Sprintf("SELECT p.rule_idx, %s, count(*), count(*) FILTER (WHERE v IS NULL), %s, %s FROM (%s) r JOIN (SELECT DISTINCT rule_idx, %s AS id FROM %s) p ON p.id = r.__id GROUP BY %s ORDER BY %s NULLS LAST",
		value, sumOf("v > 0"), sumOf("v < 0"), totalRows(s, t), s.ID, Pairs, group, group)
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

// totalRows is side s's records as the total reads them: __id, its by
// column g, the summed column v and whether the record is matched (m).
func totalRows(s Side, t plan.Total) string {
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
	return fmt.Sprintf("SELECT __id, %s AS g, %s AS v, __id IN (SELECT %s FROM %s) AS m FROM %s", g, v, s.ID, Pairs, s.Table)
}
