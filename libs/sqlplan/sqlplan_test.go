package sqlplan_test

import (
	"math/big"
	"strings"
	"testing"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/sqlplan"
)

func TestIdentQuotesEverything(t *testing.T) {
	t.Parallel()
	if got := sqlplan.Ident(`a"; DROP TABLE x; --`); got != `"a""; DROP TABLE x; --"` {
		t.Errorf("Ident = %s", got)
	}
	if got := sqlplan.String("it's"); got != "'it''s'" {
		t.Errorf("String = %s", got)
	}
}

func TestDecimalLiteralIsExact(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"0.02":   "CAST('0.02' AS DECIMAL(3,2))",
		"2e-2":   "CAST('0.02' AS DECIMAL(3,2))",
		"100":    "CAST('100' AS DECIMAL(3,0))",
		"0":      "CAST('0' AS DECIMAL(1,0))",
		"-1.250": "CAST('-1.25' AS DECIMAL(3,2))",
	}
	for text, want := range tests {
		r, _ := new(big.Rat).SetString(text)
		if got := sqlplan.Decimal(r); got != want {
			t.Errorf("Decimal(%s) = %s, want %s", text, got, want)
		}
	}
}

func TestExplainHidesCredentials(t *testing.T) {
	t.Parallel()
	ref, err := source.Parse("postgres://kalla:s3cret@db:5432/erp?table=public.payments")
	if err != nil {
		t.Fatal(err)
	}
	cols := []source.Column{{Name: "id", Type: source.Integer}, {Name: "amount", Type: source.Decimal, Precision: 10, Scale: 2}}
	left := plan.Input{Alias: "ledger", Ref: ref, Schema: source.Schema{Columns: cols}, Key: cols[:1]}
	right := left
	right.Alias = "bank"
	p := &plan.Plan{RecipeID: "x", Left: left, Right: right, Rules: []plan.Rule{{
		Name: "exact", Pattern: kallav1.Pattern_PATTERN_ONE_TO_ONE,
		Conditions: []plan.Condition{
			{Op: kallav1.Operator_OPERATOR_EQ, Left: cols[0], Right: cols[0]},
			{Op: kallav1.Operator_OPERATOR_TOLERANCE, Left: cols[1], Right: cols[1], Threshold: big.NewRat(1, 50), ThresholdText: "0.02"},
		},
	}}}
	rules, script := sqlplan.Explain(p)
	if strings.Contains(script, "s3cret") {
		t.Errorf("the script shows the password")
	}
	if len(rules) != 1 || !strings.Contains(rules[0].SQL, `abs(l."amount" - r."amount") <= CAST('0.02' AS DECIMAL(3,2))`) {
		t.Errorf("rule SQL = %+v", rules)
	}
	if !strings.Contains(rules[0].SQL, "-- repeat until") {
		t.Errorf("1:1 rule SQL does not show its loop:\n%s", rules[0].SQL)
	}
	if !strings.Contains(rules[0].SQL, "GROUP BY lid HAVING count(*) > 1") {
		t.Errorf("1:1 rule SQL does not show its round taking the pairs alone first:\n%s", rules[0].SQL)
	}
}

func TestPostgresWhere(t *testing.T) {
	t.Parallel()
	ref, err := source.Parse("postgres://kalla:s3cret@db:5432/erp?table=public.ledger")
	if err != nil {
		t.Fatal(err)
	}
	cols := []source.Column{
		{Name: "id", Type: source.Integer},
		{Name: "status", Type: source.Text},
		{Name: "amount", Type: source.Decimal, Precision: 10, Scale: 2},
		{Name: "rate", Type: source.Decimal, Float: true, Precision: 3, Scale: 2},
		{Name: "day", Type: source.Date},
	}
	memo := source.Column{Name: "ref", Type: source.Text} // an extract's, not the table's
	filter := func(c source.Column, op kallav1.FilterOperator, values ...string) plan.Filter {
		f := plan.Filter{Column: c, Op: op, Values: values}
		for _, v := range values {
			var n *big.Rat
			if plan.Classify(c.Type) == plan.Number {
				n, _ = new(big.Rat).SetString(v)
			}
			f.Numbers = append(f.Numbers, n)
		}
		return f
	}
	in := plan.Input{Alias: "ledger", Ref: ref, Schema: source.Schema{Columns: cols}, Key: cols[:1], Filters: []plan.Filter{
		filter(cols[1], kallav1.FilterOperator_FILTER_OPERATOR_NE, "it's void"),
		filter(cols[2], kallav1.FilterOperator_FILTER_OPERATOR_LT, "10.005"),
		filter(cols[3], kallav1.FilterOperator_FILTER_OPERATOR_IN, "0.5", "1e-1"),
		filter(cols[4], kallav1.FilterOperator_FILTER_OPERATOR_GTE, "2025-10-01"),
		filter(memo, kallav1.FilterOperator_FILTER_OPERATOR_EQ, "INV-1"),
		filter(cols[1], kallav1.FilterOperator_FILTER_OPERATOR_EMPTY),
	}}
	t.Run("utf8", func(t *testing.T) {
		t.Parallel()
		want := `(("status"::text)::text COLLATE "C" IS NULL OR NOT (("status"::text)::text COLLATE "C" IN (E'it\'s void'))) AND ` +
			`(("amount") < E'10.005'::numeric) AND ` +
			`(("rate"::text::numeric) IN (E'0.5'::numeric, E'0.1'::numeric)) AND ` +
			`(("day") >= E'2025-10-01') AND ` +
			`(("status"::text)::text COLLATE "C" IS NULL)`
		if got := sqlplan.PostgresWhere(in, true); got != want {
			t.Errorf("PostgresWhere =\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("other_encoding", func(t *testing.T) {
		t.Parallel()
		// Text compared by bytes orders otherwise: left to the engine, but
		// for empty, which compares nothing.
		want := `(("amount") < E'10.005'::numeric) AND (("rate"::text::numeric) IN (E'0.5'::numeric, E'0.1'::numeric)) AND ` +
			`(("day") >= E'2025-10-01') AND (("status"::text)::text COLLATE "C" IS NULL)`
		if got := sqlplan.PostgresWhere(in, false); got != want {
			t.Errorf("PostgresWhere =\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("nul", func(t *testing.T) {
		t.Parallel()
		nul := in
		nul.Filters = []plan.Filter{filter(cols[1], kallav1.FilterOperator_FILTER_OPERATOR_NE, "a\x00b")}
		if got := sqlplan.PostgresWhere(nul, true); got != "" {
			t.Errorf("PostgresWhere = %s, want none: PostgreSQL text holds no NUL", got)
		}
	})
	t.Run("no_copy_to_count_what_the_source_counted", func(t *testing.T) {
		t.Parallel()
		counted := in
		counted.Read = 10
		byReader := in
		byReader.Schema.Rows = 10
		keyless := byReader
		keyless.Key = nil
		for _, tt := range []struct {
			in   plan.Input
			copy bool
		}{{in, true}, {counted, false}, {sqlplan.Counted(byReader), false}, {sqlplan.Counted(keyless), true}} {
			count, _ := sqlplan.Unfiltered("kalla_left", tt.in)
			script := strings.Join(sqlplan.Load("kalla_left", tt.in, "SELECT 1", sqlplan.KeyOrder), ";\n")
			if copied := strings.Contains(script, "kalla_left_unfiltered"); copied != tt.copy || (count != "") != tt.copy {
				t.Errorf("Read %d: the load copies the side whole: %v, counts it: %q; want %v\n%s", tt.in.Read, copied, count, tt.copy, script)
			}
		}
	})
	t.Run("explained", func(t *testing.T) {
		t.Parallel()
		p := &plan.Plan{RecipeID: "x", Left: in, Right: plan.Input{Alias: "bank", Ref: ref, Schema: source.Schema{Columns: cols}, Key: cols[:1]}}
		_, script := sqlplan.Explain(p)
		if !strings.Contains(script, "-- PostgreSQL copies only the rows where (") || strings.Count(script, "PostgreSQL copies only") != 1 {
			t.Errorf("the script does not say once what PostgreSQL leaves out:\n%s", script)
		}
		if strings.Contains(script, "_unfiltered") {
			t.Errorf("the script copies a side whole, which the engine does not: the copy counts the rows read\n%s", script)
		}
	})
}

// TestExplainParquetParts: a directory of parts is shown read as the engine
// reads it, part by part.
func TestExplainParquetParts(t *testing.T) {
	t.Parallel()
	ref, err := source.Parse("file:///data/ledger")
	if err != nil {
		t.Fatal(err)
	}
	ref.Format = source.FormatParquet
	cols := []source.Column{{Name: "id", Type: source.Integer}}
	in := plan.Input{Alias: "ledger", Ref: ref, Key: cols,
		Schema: source.Schema{Columns: cols, Files: []string{"/data/ledger/part-0.parquet", "/data/ledger/part-[1].parquet"}}}
	_, script := sqlplan.Explain(&plan.Plan{RecipeID: "x", Left: in, Right: in})
	if want := "read_parquet(['/data/ledger/part-0.parquet', '/data/ledger/part-[[]1].parquet'], union_by_name = true)"; !strings.Contains(script, want) {
		t.Errorf("the script does not read the parts as %s:\n%s", want, script)
	}
	if sorted := `CREATE OR REPLACE TEMP TABLE kalla_left_raw AS SELECT * FROM kalla_left_raw ORDER BY "id"`; !strings.Contains(script, "LIMIT 10000)") || !strings.Contains(script, sorted) {
		t.Errorf("the script does not show a side whose first records are in key order stored as read, then sorted where not:\n%s", script)
	}
}

// TestStagesTakeEqualPairsFirst: a 1:1 rule takes its pairs equal in every
// condition first only where each condition ranks a pair 0 exactly where
// its values are equal and passes every such pair; a date_within of
// timestamps is equal on the day.
func TestStagesTakeEqualPairsFirst(t *testing.T) {
	t.Parallel()
	k := source.Column{Name: "k", Type: source.Text}
	amount := source.Column{Name: "amount", Type: source.Decimal, Precision: 10, Scale: 2}
	day := source.Column{Name: "day", Type: source.Date}
	ts := source.Column{Name: "ts", Type: source.Timestamp}
	name := source.Column{Name: "name", Type: source.Text}
	cond := func(op kallav1.Operator, c source.Column, threshold int64) plan.Condition {
		pc := plan.Condition{Op: op, Left: c, Right: c, LeftLabel: c.Name, RightLabel: c.Name}
		if threshold >= 0 {
			pc.Threshold, pc.ThresholdText = big.NewRat(threshold, 1), big.NewRat(threshold, 1).RatString()
		}
		return pc
	}
	keys := cond(kallav1.Operator_OPERATOR_EQ, k, -1)
	tolerance := cond(kallav1.Operator_OPERATOR_TOLERANCE, amount, 1)
	tests := []struct {
		name  string
		conds []plan.Condition
		equal string // in the statement; "" where there is none
	}{
		{"tolerance", []plan.Condition{keys, tolerance}, `l."amount" AS e1`},
		{"gte_then_tolerance", []plan.Condition{keys, cond(kallav1.Operator_OPERATOR_GTE, amount, -1), tolerance}, `l."amount" AS e1`},
		{"tolerance_pct", []plan.Condition{keys, cond(kallav1.Operator_OPERATOR_TOLERANCE_PCT, amount, 2)}, `l."amount" AS e1`},
		{"dates_compared", []plan.Condition{keys, cond(kallav1.Operator_OPERATOR_LTE, day, -1), tolerance}, `CAST(l."day" AS DATE) AS e1`},
		{"timestamps_within_days", []plan.Condition{keys, cond(kallav1.Operator_OPERATOR_DATE_WITHIN, ts, 3), tolerance}, `CAST(l."ts" AS DATE) AS e1`},
		{"timestamps_compared", []plan.Condition{keys, cond(kallav1.Operator_OPERATOR_GTE, ts, -1)}, `CAST(l."ts" AS TIMESTAMP) AS e1`},
		{"fuzzy_after", []plan.Condition{keys, tolerance, cond(kallav1.Operator_OPERATOR_FUZZY, name, 1)}, `l."name" AS e2`},
		{"fuzzy_first", []plan.Condition{keys, cond(kallav1.Operator_OPERATOR_FUZZY, name, 1), tolerance}, `l."name" AS e1`},
		{"gt_fails_equal_values", []plan.Condition{keys, tolerance, cond(kallav1.Operator_OPERATOR_GT, day, -1)}, ""},
		{"contains_ranks_unequal_values_0", []plan.Condition{keys, cond(kallav1.Operator_OPERATOR_CONTAINS, name, -1), tolerance}, ""},
		{"text_compared", []plan.Condition{keys, tolerance, cond(kallav1.Operator_OPERATOR_GTE, name, -1)}, ""},
	}
	t.Run("fuzzy_first_contains", func(t *testing.T) {
		t.Parallel()
		conds := []plan.Condition{keys, cond(kallav1.Operator_OPERATOR_FUZZY, name, 1), cond(kallav1.Operator_OPERATOR_CONTAINS, name, -1)}
		if st := sqlplan.Rule(1, plan.Rule{Name: "r", Pattern: kallav1.Pattern_PATTERN_ONE_TO_ONE, Conditions: conds}).Stages; st != nil {
			t.Errorf("Stages = %+v, want none: no distance in units, no equal pairs", st)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			steps := sqlplan.Rule(1, plan.Rule{Name: "r", Pattern: kallav1.Pattern_PATTERN_ONE_TO_ONE, Conditions: tt.conds})
			if steps.Stages == nil {
				t.Fatal("no stages")
			}
			if fuzzyFirst := tt.conds[1].Op == kallav1.Operator_OPERATOR_FUZZY; fuzzyFirst != (steps.Stages.Bound == 0) {
				t.Errorf("Bound = %d with a fuzzy first: %t; want 0 exactly then (no stage but the equal pairs')", steps.Stages.Bound, fuzzyFirst)
			}
			got := steps.Stages.Equal
			if tt.equal == "" && got != "" || tt.equal != "" && !strings.Contains(got, tt.equal) {
				t.Errorf("Equal = %q, want one holding %q", got, tt.equal)
			}
			if got != "" && !strings.Contains(got, "WHERE __id NOT IN (SELECT lid FROM kalla_pairs)") {
				t.Errorf("Equal = %q, want it among the free records", got)
			}
		})
	}
}

// TestNearMissWays: under keys not coarse, a side's near misses are found
// by the window, the aggregate or the coarse ways as its records share
// their keys with few others or more; where every condition besides the
// joins bands, the records left after the bands are settled at their
// nearest values on the first, where its units hold its values exactly;
// a tolerance of a cent bands in cents.
func TestNearMissWays(t *testing.T) {
	t.Parallel()
	k := source.Column{Name: "k", Type: source.Text}
	amount := source.Column{Name: "amount", Type: source.Decimal, Precision: 10, Scale: 2}
	wide := source.Column{Name: "amount", Type: source.Decimal, Precision: 38, Scale: 17}
	day := source.Column{Name: "day", Type: source.Date}
	cond := func(op kallav1.Operator, l, r source.Column, threshold *big.Rat) plan.Condition {
		pc := plan.Condition{Op: op, Left: l, Right: r, LeftLabel: l.Name, RightLabel: r.Name}
		if threshold != nil {
			pc.Threshold, pc.ThresholdText = threshold, threshold.RatString()
		}
		return pc
	}
	keys := cond(kallav1.Operator_OPERATOR_EQ, k, k, nil)
	aCent := cond(kallav1.Operator_OPERATOR_TOLERANCE, amount, amount, big.NewRat(1, 100))
	days := cond(kallav1.Operator_OPERATOR_DATE_WITHIN, day, day, big.NewRat(30, 1))
	cols := []source.Column{k, amount, day}
	in := plan.Input{Alias: "a", Schema: source.Schema{Columns: cols}, Key: cols[:1]}
	p := &plan.Plan{Left: in, Right: in}
	left, _ := sqlplan.Sides(p)
	near := func(conds ...plan.Condition) sqlplan.NearMissSteps {
		return sqlplan.NearMisses(0, plan.Rule{Name: "r", Pattern: kallav1.Pattern_PATTERN_ONE_TO_ONE, Conditions: conds}, left)
	}
	t.Run("by_pairs_a_record", func(t *testing.T) {
		t.Parallel()
		steps := near(keys, aCent)
		for _, tt := range []struct {
			perRecord float64
			coarse    bool
			want      string
		}{{1, false, steps.Each}, {2.5, false, steps.Each}, {3, false, steps.Coarse}, {16, false, steps.Coarse}, {17, false, steps.Nearest}, {0, true, steps.Nearest}} {
			if got := steps.For(tt.perRecord, tt.coarse); len(got) != 1 || got[0] != tt.want {
				t.Errorf("For(%g, %t) = %q, want %q", tt.perRecord, tt.coarse, got, tt.want)
			}
		}
	})
	t.Run("apart", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			name  string
			conds []plan.Condition
			apart bool
		}{
			{"every_condition_bands", []plan.Condition{keys, aCent, days}, true},
			{"a_comparison_too", []plan.Condition{keys, aCent, days, cond(kallav1.Operator_OPERATOR_GT, day, day, nil)}, false},
			{"in_whole_units", []plan.Condition{keys, cond(kallav1.Operator_OPERATOR_TOLERANCE, amount, wide, big.NewRat(1, 100)), days}, false},
		} {
			w := near(tt.conds...).Widening
			if w == nil || (w.Apart != nil) != tt.apart {
				t.Errorf("%s: Widening %+v, want Apart: %t", tt.name, w, tt.apart)
			}
		}
	})
	t.Run("bands_in_cents", func(t *testing.T) {
		t.Parallel()
		w := near(keys, aCent, days).Widening
		if len(w.Passing) == 0 || !strings.Contains(w.Passing[0][1], `CAST(o."amount" * 100 AS BIGINT) // 1`) {
			t.Errorf("Passing = %q, want the amount's bands a cent wide", w.Passing)
		}
	})
	t.Run("units_as_wide_as_the_values", func(t *testing.T) {
		t.Parallel()
		// 8 integer digits fit a BIGINT; 21 do not.
		w := near(keys, cond(kallav1.Operator_OPERATOR_TOLERANCE, amount, wide, big.NewRat(1, 100)), days).Widening
		for _, want := range []string{`CAST(floor(u."amount") AS BIGINT)`, `CAST(floor(o."amount") AS HUGEINT)`} {
			if len(w.Passing) == 0 || !strings.Contains(w.Passing[0][1], want) {
				t.Errorf("Passing = %q, want %s", w.Passing, want)
			}
		}
	})
}

// TestReadCSVParts: files laid out alike in a row are read by one
// read_csv of their list, which costs a file far less than a read_csv of
// its own (a pattern may name thousands); the others by their own, in
// order.
func TestReadCSVParts(t *testing.T) {
	t.Parallel()
	s := source.Schema{Columns: []source.Column{{Name: "id", Type: source.Integer}}}
	comma, semicolon := source.CSVLayout{FirstLine: 1, LongestRecord: 10}, source.CSVLayout{FirstLine: 1, Delimiter: ";"}
	q := sqlplan.ReadCSVParts([]source.CSVPart{
		{Path: "/d/a.csv", Layout: comma},
		{Path: "/d/b.csv", Layout: source.CSVLayout{FirstLine: 1, LongestRecord: 99}},
		{Path: "/d/c.csv", Layout: semicolon},
		{Path: "/d/d.csv", Layout: comma},
		{Path: "/d/e.csv.gz", Layout: comma},
	}, s)
	for _, want := range []string{"read_csv(['/d/a.csv', '/d/b.csv'], ", "read_csv('/d/c.csv', ", "read_csv('/d/d.csv', ", "read_csv('/d/e.csv.gz', "} {
		if !strings.Contains(q, want) {
			t.Errorf("the query lacks %s:\n%s", want, q)
		}
	}
	if n := strings.Count(q, "UNION ALL"); n != 3 || strings.Index(q, "c.csv") > strings.Index(q, "d.csv") {
		t.Errorf("%d UNION ALLs, want 3, the files in order:\n%s", n, q)
	}
}
