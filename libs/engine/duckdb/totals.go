package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/sqlplan"
)

// checkTotalGroups refuses, before any matching, a total split by a column
// of more values than a summary lists.
func checkTotalGroups(ctx context.Context, s *session, p *plan.Plan) error {
	left, right := sqlplan.Sides(p)
	for _, side := range []sqlplan.Side{left, right} {
		for _, t := range side.Input.Totals {
			if !t.HasBy {
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
		for _, t := range side.s.Input.Totals {
			sums, err := total(ctx, s, side.s, t)
			if overflow(err) {
				return engine.BadInput("%s: the total of %s over %s needs more than %d digits, and Kalla computes with at most %d",
					t.Field, t.Column.Name, side.s.Input.Alias, source.MaxDigits, source.MaxDigits)
			}
			if err != nil {
				return fmt.Errorf("total of %s.%s: %w", side.s.Input.Alias, t.Column.Name, err)
			}
			*side.out = append(*side.out, sums)
		}
	}
	return nil
}

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
		if err := rows.Scan(&value, &x.Records, &x.MatchedRecords, &x.EmptyRecords, &x.All, &x.Matched, &x.Unmatched); err != nil {
			return nil, err
		}
		if value.Valid {
			x.Value = &value.String
		}
		x.All, x.Matched, x.Unmatched = leadingZero(x.All), leadingZero(x.Matched), leadingZero(x.Unmatched)
		out = append(out, x)
	}
	return out, rows.Err()
}

// leadingZero writes the zero DuckDB leaves out before the point of a
// decimal with no digit before it (a DECIMAL(38,38) writes 0.5 as .5).
func leadingZero(s string) string {
	if rest, ok := strings.CutPrefix(s, "-."); ok {
		return "-0." + rest
	}
	if strings.HasPrefix(s, ".") {
		return "0" + s
	}
	return s
}
