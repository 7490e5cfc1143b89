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
	Total, Matched, Unmatched      string
}

// tally is a side's totals read before reverse_sign turns any column: the
// values as written, kept by record until matching is done.
type tally []tallied

// tallied is one total's column and by column, cell by record.
type tallied struct {
	total       *kallav1.Total
	amount, by  map[*record]*value
	typ, byType colType
}

// tally keeps the columns a source's totals name, as written; each must be
// a number column, or one without any value (which sums to the integer 0).
func (s *side) tally(totals []*kallav1.Total) (tally, error) {
	var t tally
	for _, total := range totals {
		c, err := s.column(total.GetColumn())
		if err != nil {
			return nil, fmt.Errorf("totals: %w", err)
		}
		x := tallied{total: total, typ: s.types[c], amount: map[*record]*value{}, by: map[*record]*value{}}
		switch {
		case x.typ.empty:
			x.typ = colType{kind: kindInteger}
		case x.typ.kind.family() != familyNumber:
			return nil, fmt.Errorf("totals: %s.%s is %s, not a number", s.alias, total.GetColumn(), s.types[c])
		}
		for _, r := range s.records {
			x.amount[r] = r.cells[c]
		}
		if total.GetBy() != "" {
			b, err := s.column(total.GetBy())
			if err != nil {
				return nil, fmt.Errorf("totals: %w", err)
			}
			x.byType = s.types[b]
			for _, r := range s.records {
				x.by[r] = r.cells[b]
			}
		}
		t = append(t, x)
	}
	return t, nil
}

// lines sums each total once matching has marked the records, a line per
// value of its by column in that column's order, the empty value last.
func (t tally) lines(records []*record) []Total {
	var out []Total
	for _, x := range t {
		groups := map[string][]*record{}
		values := map[string]*value{}
		for _, r := range records {
			name := "<empty>"
			if v := x.by[r]; v != nil {
				name = "=" + render(v, x.byType)
				values[name] = v
			}
			groups[name] = append(groups[name], r)
		}
		if x.total.GetBy() == "" && len(groups) == 0 {
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
			return compare(va, vb, x.byType.kind.family()) < 0
		})
		for _, name := range names {
			line := x.sum(groups[name])
			line.Column, line.By = x.total.GetColumn(), x.total.GetBy()
			if v := values[name]; v != nil {
				line.Value = ptr(render(v, x.byType))
			}
			out = append(out, line)
		}
	}
	return out
}

func (x tallied) sum(records []*record) Total {
	all, matched, unmatched := new(big.Rat), new(big.Rat), new(big.Rat)
	var line Total
	for _, r := range records {
		line.Records++
		if r.matched {
			line.MatchedRecords++
		}
		v := x.amount[r]
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
	text := func(n *big.Rat) string { return render(&value{num: n}, x.typ) }
	line.Total, line.Matched, line.Unmatched = text(all), text(matched), text(unmatched)
	return line
}

// distinct is records without repeats (a 1:N rule's left record is in
// each of its pairs), in key order.
func distinct(records []*record) []*record {
	seen := map[*record]bool{}
	var out []*record
	for _, r := range records {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rank < out[j].rank })
	return out
}
