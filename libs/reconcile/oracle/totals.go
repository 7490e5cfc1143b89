package oracle

import (
	"fmt"
	"math/big"
	"sort"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// Total is one line of a side's totals: a column's sums over the records
// with one value of By (Value nil for an empty one), or over all records.
type Total struct {
	Column, By                     string
	Value                          *string
	Records, MatchedRecords, Empty int64
	Sum, MatchedSum, UnmatchedSum  string
}

// tally is a side's totals read before reverse_sign turns any column: the
// values as written, kept by record until matching is done.
type tally struct {
	totals []*kallav1.Total
	amount []map[*record]*value
	by     []map[*record]*value
	types  []colType
	byType []colType
}

// tally keeps the columns a source's totals name, as written; each must be
// a number column.
func (s *side) tally(totals []*kallav1.Total) (*tally, error) {
	t := &tally{totals: totals}
	for _, total := range totals {
		c, err := s.column(total.GetColumn())
		if err != nil {
			return nil, fmt.Errorf("totals: %w", err)
		}
		if s.types[c].kind.family() != familyNumber {
			return nil, fmt.Errorf("totals: %s.%s is %s, not a number", s.alias, total.GetColumn(), s.types[c])
		}
		amount, by := map[*record]*value{}, map[*record]*value{}
		for _, r := range s.records {
			amount[r] = r.cells[c]
		}
		var byType colType
		if total.GetBy() != "" {
			b, err := s.column(total.GetBy())
			if err != nil {
				return nil, fmt.Errorf("totals: %w", err)
			}
			byType = s.types[b]
			for _, r := range s.records {
				by[r] = r.cells[b]
			}
		}
		t.amount, t.by = append(t.amount, amount), append(t.by, by)
		t.types, t.byType = append(t.types, s.types[c]), append(t.byType, byType)
	}
	return t, nil
}

// lines sums each total once matching has marked the records, a line per
// value of its by column in that column's order, the empty value last.
func (t *tally) lines(records []*record) []Total {
	var out []Total
	for i, total := range t.totals {
		groups := map[string][]*record{}
		values := map[string]*value{}
		for _, r := range records {
			name := "<empty>"
			if v := t.by[i][r]; v != nil {
				name = "=" + render(v, t.byType[i])
				values[name] = v
			}
			groups[name] = append(groups[name], r)
		}
		if total.GetBy() == "" && len(groups) == 0 {
			groups["<empty>"] = nil // no records: one line of zeros
		}
		names := make([]string, 0, len(groups))
		for name := range groups {
			names = append(names, name)
		}
		sort.Slice(names, func(a, b int) bool {
			va, vb := values[names[a]], values[names[b]]
			if va == nil || vb == nil {
				return vb == nil && va != nil
			}
			return compare(va, vb, t.byType[i].kind.family()) < 0
		})
		for _, name := range names {
			line := t.sum(i, groups[name])
			line.Column, line.By = total.GetColumn(), total.GetBy()
			if v := values[name]; v != nil {
				line.Value = ptr(render(v, t.byType[i]))
			}
			out = append(out, line)
		}
	}
	return out
}

func (t *tally) sum(i int, records []*record) Total {
	all, matched, unmatched := new(big.Rat), new(big.Rat), new(big.Rat)
	var line Total
	for _, r := range records {
		line.Records++
		if r.matched {
			line.MatchedRecords++
		}
		v := t.amount[i][r]
		if v == nil {
			line.Empty++
			continue
		}
		all.Add(all, v.num)
		if r.matched {
			matched.Add(matched, v.num)
		} else {
			unmatched.Add(unmatched, v.num)
		}
	}
	text := func(x *big.Rat) string { return render(&value{num: x}, t.types[i]) }
	line.Sum, line.MatchedSum, line.UnmatchedSum = text(all), text(matched), text(unmatched)
	return line
}
