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

// totals sums the sides' totals over their matched and unmatched records.
func totals(ctx context.Context, s *session, p *plan.Plan, res *engine.Result) error {
	left, right := sqlplan.Sides(p)
	for _, side := range []struct {
		s   sqlplan.Side
		out *[][]engine.Sums
	}{{left, &res.LeftTotals}, {right, &res.RightTotals}} {
		for i, t := range side.s.Input.Totals {
			sums, err := total(ctx, s, side.s, t)
			if overflow(err) || errors.Is(err, errTooWide) {
				return engine.BadInput("%s: the total of %s over %s needs more than %d digits (its positive or its negative values add up to more), and Kalla computes with at most %d",
					t.Field, t.Column.Name, side.s.Input.Alias, source.MaxDigits, source.MaxDigits)
			}
			if err != nil {
				return fmt.Errorf("total of %s.%s: %w", side.s.Input.Alias, t.Column.Name, err)
			}
			*side.out = append(*side.out, sums)
			// Parts of the matched sums, which fit: no refusal here.
			byRule, err := ruleTotal(ctx, s, side.s, i, t)
			if err != nil {
				return fmt.Errorf("total of %s.%s by rule: %w", side.s.Input.Alias, t.Column.Name, err)
			}
			res.RuleTotals = append(res.RuleTotals, byRule...)
		}
	}
	return nil
}

// ruleTotal sums side's i-th total t over the records each rule matched.
func ruleTotal(ctx context.Context, s *session, side sqlplan.Side, i int, t plan.Total) ([]engine.RuleSums, error) {
	rows, err := s.conn.QueryContext(ctx, sqlplan.RuleTotal(side, t))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.RuleSums
	for rows.Next() {
		x := engine.RuleSums{Side: side.Name, Total: i}
		var value sql.NullString
		var positive, negative string
		if err := rows.Scan(&x.Rule, &value, &x.Records, &x.Empty, &positive, &negative); err != nil {
			return nil, err
		}
		if value.Valid {
			x.Value = &value.String
		}
		// The rule's records are some of the matched ones: sums' matched parts.
		if x.Sum, _, _, err = sums([4]string{positive, negative, "0", "0"}, t.Column.Scale); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// errTooWide is a total whose positive or negative values add up to more
// than the engine's digits.
var errTooWide = errors.New("a total past the digits the engine computes with")

func total(ctx context.Context, s *session, side sqlplan.Side, t plan.Total) ([]engine.Sums, error) {
	rows, err := s.conn.QueryContext(ctx, sqlplan.Total(side, t))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Sums
	for rows.Next() {
		var x engine.Sums
		var value sql.NullString
		var parts [4]string // matched positive, negative; unmatched positive, negative
		if err := rows.Scan(&value, &x.Records, &x.MatchedRecords, &x.Empty, &parts[0], &parts[1], &parts[2], &parts[3]); err != nil {
			return nil, err
		}
		if value.Valid {
			x.Value = &value.String
		}
		if x.Total, x.Matched, x.Unmatched, err = sums(parts, t.Column.Scale); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// sums adds a total's parts exactly and writes them at the column's scale;
// positive or negative values adding up to more digits than the engine
// computes with are errTooWide, whichever order the engine added them in.
func sums(parts [4]string, scale int) (total, matched, unmatched string, err error) {
	var n [4]*big.Rat
	for i, p := range parts {
		var ok bool
		if n[i], ok = new(big.Rat).SetString(p); !ok {
			return "", "", "", fmt.Errorf("the engine wrote a sum as %q", p)
		}
	}
	add := func(a, b *big.Rat) *big.Rat { return new(big.Rat).Add(a, b) }
	positive, negative := add(n[0], n[2]), add(n[1], n[3])
	if room := source.MaxDigits - scale; recipe.IntDigits(positive) > room || recipe.IntDigits(negative) > room {
		return "", "", "", errTooWide
	}
	return add(positive, negative).FloatString(scale), add(n[0], n[1]).FloatString(scale), add(n[2], n[3]).FloatString(scale), nil
}
