package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/sqlplan"
)

// checkTotalGroups refuses, before any matching, a total split by a column
// of more values than a summary lists.
func checkTotalGroups(ctx context.Context, s *session, p *plan.Plan) error {
	left, right := sqlplan.Sides(p)
	for _, side := range []sqlplan.Side{left, right} {
		for _, t := range side.Input.Totals {
			if t.By == nil {
				continue
			}
			n, err := s.int64(ctx, sqlplan.TotalGroups(side, t))
			if err != nil {
				return err
			}
			if n > plan.MaxTotalGroups {
				return engine.BadInput("%s.by: %s has %d values in %s; a total is split by a column of at most %d, such as a currency or an account",
					t.Field, t.By.Name, n, side.Input.Alias, plan.MaxTotalGroups)
			}
		}
	}
	return nil
}

// totals sums the sides' totals over their matched and unmatched records,
// and over the records of each rule.
func totals(ctx context.Context, s *session, p *plan.Plan, res *engine.Result) error {
	left, right := sqlplan.Sides(p)
	for _, side := range []struct {
		s   sqlplan.Side
		out *[][]engine.Sums
	}{{left, &res.LeftTotals}, {right, &res.RightTotals}} {
		for i, t := range side.s.Input.Totals {
			lines, byRule, err := total(ctx, s, side.s, i, t)
			if overflow(err) || errors.Is(err, errTooWide) {
				return engine.BadInput("%s: the total of %s over %s needs more than %d digits (its positive or its negative values add up to more), and Kalla computes with at most %d",
					t.Field, t.Column.Name, side.s.Input.Alias, source.MaxDigits, source.MaxDigits)
			}
			if err != nil {
				return fmt.Errorf("total of %s.%s: %w", side.s.Input.Alias, t.Column.Name, err)
			}
			*side.out = append(*side.out, lines)
			res.RuleTotals = append(res.RuleTotals, byRule...)
		}
	}
	return nil
}

// errTooWide is a total whose positive or negative values add up to more
// than the engine's digits.
var errTooWide = errors.New("a total past the digits the engine computes with")

// tally is one line of a total while its rows are read: the records and
// the sums of their positive and negative values, matched and not.
type tally struct {
	value                                            *string
	records, matchedRecords, empty                   int64
	matchedPlus, matchedMinus, otherPlus, otherMinus *big.Rat
}

func newTally(value *string) *tally {
	return &tally{value: value, matchedPlus: new(big.Rat), matchedMinus: new(big.Rat), otherPlus: new(big.Rat), otherMinus: new(big.Rat)}
}

// total sums side's i-th total t: a line per value of its by column (one
// without by, even over no records), and a line per rule and value over
// the records the rule matched. The engine gives a row per value and rule;
// the lines add them exactly, and refuse (errTooWide) positive or negative
// values adding up to more digits than the engine computes with, whichever
// order it added them in.
func total(ctx context.Context, s *session, side sqlplan.Side, i int, t plan.Total) ([]engine.Sums, []engine.RuleSums, error) {
	rows, err := s.conn.QueryContext(ctx, sqlplan.Total(side, t))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var tallies []*tally
	var byRule []engine.RuleSums
	for rows.Next() {
		var rule sql.NullInt64
		var value sql.NullString
		var records, empty int64
		var plus, minus string
		if err := rows.Scan(&rule, &value, &records, &empty, &plus, &minus); err != nil {
			return nil, nil, err
		}
		var v *string
		if value.Valid {
			v = &value.String
		}
		// Rows come ordered by value: a new value starts a new line.
		if n := len(tallies); n == 0 || !sameValue(tallies[n-1].value, v) {
			tallies = append(tallies, newTally(v))
		}
		x := tallies[len(tallies)-1]
		p, m, err := rats(plus, minus)
		if err != nil {
			return nil, nil, err
		}
		x.records += records
		x.empty += empty
		if !rule.Valid {
			x.otherPlus.Add(x.otherPlus, p)
			x.otherMinus.Add(x.otherMinus, m)
			continue
		}
		x.matchedRecords += records
		x.matchedPlus.Add(x.matchedPlus, p)
		x.matchedMinus.Add(x.matchedMinus, m)
		byRule = append(byRule, engine.RuleSums{Rule: int(rule.Int64), Side: side.Name, Total: i, Value: v, Records: records, Empty: empty,
			Sum: new(big.Rat).Add(p, m).FloatString(t.Column.Scale)})
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(tallies) == 0 && t.By == nil {
		tallies = append(tallies, newTally(nil))
	}
	lines := make([]engine.Sums, len(tallies))
	for k, x := range tallies {
		if lines[k], err = x.sums(t.Column.Scale); err != nil {
			return nil, nil, err
		}
	}
	return lines, byRule, nil
}

// sums writes a line at the column's scale, or refuses it (errTooWide).
func (x *tally) sums(scale int) (engine.Sums, error) {
	add := func(a, b *big.Rat) *big.Rat { return new(big.Rat).Add(a, b) }
	plus, minus := add(x.matchedPlus, x.otherPlus), add(x.matchedMinus, x.otherMinus)
	if room := source.MaxDigits - scale; recipe.IntDigits(plus) > room || recipe.IntDigits(minus) > room {
		return engine.Sums{}, errTooWide
	}
	return engine.Sums{
		Value: x.value, Records: x.records, MatchedRecords: x.matchedRecords, Empty: x.empty,
		Total:     add(plus, minus).FloatString(scale),
		Matched:   add(x.matchedPlus, x.matchedMinus).FloatString(scale),
		Unmatched: add(x.otherPlus, x.otherMinus).FloatString(scale),
	}, nil
}

// rats reads the engine's two sums as exact numbers.
func rats(plus, minus string) (*big.Rat, *big.Rat, error) {
	p, ok := new(big.Rat).SetString(plus)
	m, ok2 := new(big.Rat).SetString(minus)
	if !ok || !ok2 {
		return nil, nil, fmt.Errorf("the engine wrote sums as %q and %q", plus, minus)
	}
	return p, m, nil
}

// sameValue says two by values are the same, empty being one.
func sameValue(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
