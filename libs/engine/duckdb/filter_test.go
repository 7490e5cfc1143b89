package duckdb_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/engine/duckdb"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	// 3 has no status, 4 no amount, day or currency.
	book := "id,ref,status,amount,day,cur\n1,A,posted,10.00,2024-01-01,EUR\n2,B,void,5.50,2024-01-31,USD\n3,C,,100,2024-02-01,EUR\n4,D,posted,,,\n5,E,Posted,-3.25,2024-02-29,GBP\n"
	nothing := "id,ref,amount\n10,Z,1.00\n"
	exact := recipeYAML(rule(oneToOneTolerance, "0"))
	t.Run("each_operator", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			filter string
			kept   []string
		}{
			{"[{column: status, op: eq, value: posted}]", []string{"1", "4"}},
			// Text is compared as written: no case folding.
			{"[{column: status, op: eq, value: POSTED}]", nil},
			// An empty value is not the value named: ne and not_in keep it.
			{"[{column: status, op: ne, value: void}]", []string{"1", "3", "4", "5"}},
			{"[{column: status, op: in, values: [posted, Posted]}]", []string{"1", "4", "5"}},
			{"[{column: status, op: not_in, values: [posted]}]", []string{"2", "3", "5"}},
			{"[{column: status, op: empty}]", []string{"3"}},
			{"[{column: status, op: not_empty}]", []string{"1", "2", "4", "5"}},
			// Numbers compare exactly, whatever the column's scale.
			{"[{column: amount, op: gte, value: 10}]", []string{"1", "3"}},
			{"[{column: amount, op: lt, value: 10.001}]", []string{"1", "2", "5"}},
			{"[{column: amount, op: lte, value: 9.999}]", []string{"2", "5"}},
			{"[{column: amount, op: gt, value: -3.25}]", []string{"1", "2", "3"}},
			{"[{column: amount, op: in, values: [\"5.5\", 100]}]", []string{"2", "3"}},
			{"[{column: day, op: gte, value: 2024-02-01}]", []string{"3", "5"}},
			{"[{column: day, op: lt, value: 2024-02-01}]", []string{"1", "2"}},
			// Every condition must hold.
			{"[{column: status, op: eq, value: posted}, {column: cur, op: eq, value: EUR}]", []string{"1"}},
		} {
			o := mustReconcile(t, book, nothing, withSourceField(exact, "left", "filter", tt.filter))
			if got := keys(o.unmatchedLeft, "id"); !slices.Equal(got, tt.kept) && len(got)+len(tt.kept) > 0 {
				t.Errorf("%s: kept %v, want %v", tt.filter, got, tt.kept)
			}
			if s := o.summary.Left; s.Rows != int64(len(tt.kept)) || s.FilteredOut != 5-int64(len(tt.kept)) || s.Rows != s.Matched+s.Unmatched {
				t.Errorf("%s: summary %+v, want %d rows and %d filtered out", tt.filter, s, len(tt.kept), 5-len(tt.kept))
			}
		}
	})
	t.Run("records_left_out_take_no_part", func(t *testing.T) {
		t.Parallel()
		// Void invoice 2 would match payment 11: left out, 11 stays
		// unmatched and no reason names 2. 3's payment is matched.
		o := mustReconcile(t, book, "id,ref,amount\n11,B,5.50\n13,C,100.00\n",
			withSourceFields(exact, "left", "filter: [{column: status, op: ne, value: void}], totals: [amount]"))
		if got, want := o.pairs(), []string{"exact: l3 r13"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		wantReasons(t, o.unmatchedRight, map[string]string{"11": "no l record has ref equal to its ref (rule exact)"})
		wantTotals(t, "left", o.summary.Left.Totals, "amount: 4 1 3 1 | 106.75 100.00 6.75")
		if o.summary.Left.FilteredOut != 1 || o.summary.Right.FilteredOut != 0 {
			t.Errorf("filtered out: left %d, right %d; want 1 and 0", o.summary.Left.FilteredOut, o.summary.Right.FilteredOut)
		}
	})
	t.Run("a_derived_column", func(t *testing.T) {
		t.Parallel()
		// Money paid out only: the statement's 12 is money paid in.
		o := mustReconcile(t, "id,ref,amount\n1,A,-10.00\n", "id,ref,paid_in,paid_out\n10,A,,10.00\n12,A,5.00,\n",
			withSourceFields(strings.ReplaceAll(exact, "right: amount", "right: amt"), "right", "net: {amt: {plus: paid_in, minus: paid_out}}, filter: [{column: amt, op: lt, value: 0}]"))
		if got, want := o.pairs(), []string{"exact: l1 r10"}; !slices.Equal(got, want) || len(o.unmatchedRight) != 0 || o.summary.Right.FilteredOut != 1 {
			t.Errorf("matches = %v, unmatched right %v, summary %+v", got, o.unmatchedRight, o.summary.Right)
		}
	})
	t.Run("keys_of_the_records_kept", func(t *testing.T) {
		t.Parallel()
		// Invoice 1 appears twice, once void: the records kept have
		// unique keys. Kept twice, it is refused.
		dup := book + "1,A2,void,1.00,2024-01-01,EUR\n"
		if _, err := reconcileFiles(t, dup, nothing, withSourceField(exact, "left", "filter", "[{column: status, op: ne, value: void}]")); err != nil {
			t.Errorf("duplicate key among the records left out: %v", err)
		}
		_, err := reconcileFiles(t, dup, nothing, withSourceField(exact, "left", "filter", "[{column: status, op: in, values: [posted, void]}]"))
		wantBadInput(t, err, "left.csv; for example: 1 (2 rows: lines 2 and 7)")
	})
	t.Run("row_numbers_of_the_file", func(t *testing.T) {
		t.Parallel()
		// Without a primary key, a record kept keeps its row number.
		recipe := strings.Replace(withSourceField(exact, "left", "filter", "[{column: status, op: eq, value: posted}]"), "primary_key: [id], filter", "filter", 1)
		o := mustReconcile(t, book, nothing, recipe)
		if got := idValues(o.unmatchedLeft, "kalla_row"); !slices.Equal(got, []string{"1: 1", "4: 4"}) {
			t.Errorf("unmatched left = %v, want rows 1 and 4", got)
		}
	})
	t.Run("numbers_past_the_columns_digits", func(t *testing.T) {
		t.Parallel()
		// amount is a DECIMAL(3,2), n a BIGINT, w a DECIMAL(21,1): values with
		// more digits, before or after the point, than the column holds
		// compare exactly all the same.
		nines := strings.Repeat("9", 38)
		wide := "id,ref,amount,n,w\n1,A,1.50,9223372036854775807,12345678901234567890.5\n2,B,-2,-5,0.1\n3,C,,0,\n"
		for _, tt := range []struct {
			filter string
			kept   []string
		}{
			{"[{column: amount, op: lt, value: " + nines + "}]", []string{"1", "2"}},
			{"[{column: amount, op: gt, value: " + nines + "}]", nil},
			{"[{column: amount, op: gte, value: -" + nines + "}]", []string{"1", "2"}},
			{"[{column: amount, op: eq, value: 1.505}]", nil},
			{"[{column: amount, op: ne, value: 1.505}]", []string{"1", "2", "3"}},
			{"[{column: amount, op: lt, value: 1.505}]", []string{"1", "2"}},
			{"[{column: amount, op: gt, value: 1.495}]", []string{"1"}},
			{"[{column: amount, op: gte, value: 1.5000000000000000000000000000000000001}]", nil},
			{"[{column: amount, op: lte, value: -1.995}]", []string{"2"}},
			{"[{column: amount, op: lt, value: -1.995}]", []string{"2"}},
			{"[{column: amount, op: gt, value: -2.005}]", []string{"1", "2"}},
			{"[{column: amount, op: in, values: [\"1.5\", \"1.505\", " + nines + "]}]", []string{"1"}},
			{"[{column: amount, op: not_in, values: [\"1.505\", \"-2\"]}]", []string{"1", "3"}},
			{"[{column: n, op: gt, value: 0.00000000000000000001}]", []string{"1"}},
			{"[{column: n, op: gte, value: 9223372036854775807.5}]", nil},
			{"[{column: n, op: lt, value: -4.99999999999999999999}]", []string{"2"}},
			{"[{column: n, op: lte, value: -5.5}]", nil},
			{"[{column: w, op: gt, value: 12345678901234567890.500000000000000001}]", nil},
			{"[{column: w, op: gt, value: 1.00000000000000000001}]", []string{"1"}},
		} {
			o := mustReconcile(t, wide, nothing, withSourceField(exact, "left", "filter", tt.filter))
			if got := keys(o.unmatchedLeft, "id"); !slices.Equal(got, tt.kept) && len(got)+len(tt.kept) > 0 {
				t.Errorf("%s: kept %v, want %v", tt.filter, got, tt.kept)
			}
		}
	})
	t.Run("refused_with_the_field", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct{ filter, want string }{
			{"[{column: state, op: eq, value: x}]", `sources.left.filter[0].column: column "state" is not in l; its columns are: id, ref, status, amount, day, cur`},
			{"[{column: amount, op: gt, value: ten}]", `sources.left.filter[0].value: "ten" is not a number such as -1234.56 of at most 38 digits, the type of l's column amount`},
			{"[{column: day, op: lt, value: 01/02/2024}]", `sources.left.filter[0].value: "01/02/2024" is not a date written YYYY-MM-DD, the type of l's column day`},
			{"[{column: amount, op: in, values: [1, 2.x]}]", `sources.left.filter[0].values[1]: "2.x" is not a number`},
			// A list of one is still a list.
			{"[{column: amount, op: in, values: [x]}]", `sources.left.filter[0].values[0]: "x" is not a number`},
			{"[{column: status, op: eq, value: \"\"}]", "sources.left.filter[0].value: is empty, and an empty CSV field is no value: to keep or leave out the records without one, use the operator empty or not_empty"},
			// By bytes, "9.00" is above "100": refused, as rules refuse it.
			{"[{column: ref, op: gt, value: 100}]", `sources.left.filter[0]: gt compares by bytes on text, and column "ref" is text (the left ref is text: its values, such as "A", are not numbers`},
			{"[{column: status, op: lt, value: 2024-01-01}]", `lt "2024-01-01" would order it as text, not as dates`},
		} {
			_, err := reconcileFiles(t, book, nothing, withSourceField(exact, "left", "filter", tt.filter))
			wantBadInput(t, err, tt.want)
		}
	})
}

// TestPostgresFilter: a database source is filtered on the types the
// database declares (a boolean, a timestamp with a zone).
func TestPostgresFilter(t *testing.T) {
	t.Parallel()
	url, _ := postgresDB(t, `CREATE TABLE ledger (code text PRIMARY KEY, ref text, amount numeric(12,2), at timestamptz, ok bool);
		INSERT INTO ledger VALUES ('007', 'A', 10.50, '2024-01-02 10:00:00+00', true),
		                          ('008', 'B', 20.00, '2024-01-03 09:00:00+02', false),
		                          ('009', 'C', NULL, NULL, NULL)`)
	path := postgresRecipe(t, url, "id,ref,amount\n1,A,10.5\n2,B,20\n3,C,1\n",
		`  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0}]}
`)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	run := func(filter string) (outcome, error) {
		t.Helper()
		setSourceFields(t, path, string(text), "code", "filter: "+filter)
		return runRecipe(t, path)
	}
	mustFilter := func(filter string) outcome {
		t.Helper()
		o, err := run(filter)
		if err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		return o
	}
	// 009 has no value: it is not false.
	o := mustFilter(`[{column: ok, op: ne, value: "false"}]`)
	if got := keys(o.unmatchedLeft, "code"); !slices.Equal(o.pairs(), []string{"exact: l007 r1"}) || !slices.Equal(got, []string{"009"}) || o.summary.Left.FilteredOut != 1 {
		t.Errorf("ok ne false: matches %v, unmatched left %v, summary %+v", o.pairs(), got, o.summary.Left)
	}
	// 008 was booked at 07:00 UTC (09:00 at +02:00).
	o = mustFilter(`[{column: at, op: gte, value: "2024-01-03 07:00:00"}, {column: at, op: lt, value: "2024-01-03 07:00:01"}]`)
	if !slices.Equal(o.pairs(), []string{"exact: l008 r2"}) || len(o.unmatchedLeft) != 0 || o.summary.Left.FilteredOut != 2 {
		t.Errorf("at 07:00 UTC: matches %v, unmatched left %v, summary %+v", o.pairs(), o.unmatchedLeft, o.summary.Left)
	}
	// The engine keeps microseconds: a finer bound would be cut.
	_, err = run(`[{column: at, op: lt, value: "2024-01-03 07:00:00.0000001"}]`)
	wantBadInput(t, err, `sources.left.filter[0].value: "2024-01-03 07:00:00.0000001" is not a timestamp written YYYY-MM-DD or YYYY-MM-DD hh:mm:ss, with at most 6 digits`)
	// Go's parser reads a comma before the fraction, and a year 0; the
	// engine does neither.
	for _, v := range []string{"2024-01-03 07:00:00,5", "0000-01-03", "2024-01-03 24:00", "2024-02-30"} {
		_, err = run(`[{column: at, op: lt, value: "` + v + `"}]`)
		wantBadInput(t, err, `sources.left.filter[0].value: "`+v+`" is not a timestamp`)
	}
	// Microseconds are read, and a date alone is its midnight.
	o = mustFilter(`[{column: at, op: gt, value: "2024-01-03T06:59:59.999999"}]`)
	if !slices.Equal(o.pairs(), []string{"exact: l008 r2"}) || len(o.unmatchedLeft) != 0 {
		t.Errorf("after 06:59:59.999999: matches %v, unmatched %v", o.pairs(), o.unmatchedLeft)
	}
	o = mustFilter(`[{column: at, op: lte, value: "2024-01-03"}]`)
	if !slices.Equal(o.pairs(), []string{"exact: l007 r1"}) || len(o.unmatchedLeft) != 0 {
		t.Errorf("until 2024-01-03 00:00: matches %v, unmatched %v", o.pairs(), o.unmatchedLeft)
	}
}

// TestPostgresFilterPushdown: PostgreSQL leaves out, before it copies a
// table, the rows a filter does not keep, answering as the engine does:
// each filter keeps the records, and counts those left out, that it keeps
// and counts when the table is read whole and filtered in the engine,
// whatever the columns' collations (one case-insensitive) and the
// database's encoding (text conditions are the engine's alone in LATIN1).
func TestPostgresFilterPushdown(t *testing.T) {
	t.Parallel()
	const table = `CREATE TABLE ledger (code int PRIMARY KEY, name text COLLATE nocase, word text COLLATE "en-US-x-icu", pad char(4),
			amount numeric(12,2), rate float8, n bigint, day date, at timestamptz, local timestamp, ok bool);
		INSERT INTO ledger SELECT i,
			(ARRAY['abc', 'ABC', 'Abc', 'b', 'B', '', NULL, 'é', 'e', 'ä', 'ÿ'])[1 + i % 11],
			(ARRAY['a', 'B', 'b', 'A', NULL, 'ab'])[1 + i % 6],
			(ARRAY['a', 'a  ', 'ab', NULL, ''])[1 + i % 5],
			(ARRAY[10.50, 10.49, -3.25, 0, NULL, 100.00, 10.01])[1 + i % 7],
			(ARRAY[0.1, 0.30000000000000004, 1e-5, NULL, -2.5]::float8[])[1 + i % 5],
			(ARRAY[9223372036854775807, -5, 0, NULL])[1 + i % 4],
			(ARRAY['2024-01-01', '2024-02-29', NULL]::date[])[1 + i % 3],
			(ARRAY['2024-01-03 09:00:00+02', '2024-01-03 07:00:00.000001+00', NULL]::timestamptz[])[1 + i % 3],
			(ARRAY['2024-01-03 07:00:00', NULL]::timestamp[])[1 + i % 2],
			(ARRAY[true, false, NULL])[1 + i % 3]
		FROM generate_series(1, 132) i`
	filters := []string{
		`{column: name, op: eq, value: abc}`, `{column: name, op: ne, value: abc}`, `{column: name, op: in, values: [abc, B, "€"]}`,
		`{column: name, op: not_in, values: [abc, e]}`, `{column: name, op: lt, value: b}`, `{column: name, op: gte, value: B}`,
		`{column: name, op: eq, value: ""}`, `{column: name, op: empty}`, `{column: name, op: not_empty}`, `{column: name, op: gt, value: "é"}`,
		`{column: name, op: lt, value: "€"}`, `{column: word, op: lt, value: b}`, `{column: word, op: gt, value: B}`, `{column: word, op: lte, value: a}`,
		`{column: pad, op: eq, value: a}`, `{column: pad, op: eq, value: "a  "}`, `{column: pad, op: ne, value: ""}`, `{column: pad, op: gt, value: a}`,
		`{column: amount, op: gt, value: 10.49}`, `{column: amount, op: gte, value: 10.495}`, `{column: amount, op: lt, value: "10.5"}`,
		`{column: amount, op: eq, value: 10.500}`, `{column: amount, op: in, values: [10.5, 100, 10.015]}`, `{column: amount, op: ne, value: 0}`,
		`{column: amount, op: lte, value: -3.25}`, `{column: rate, op: eq, value: 0.1}`, `{column: rate, op: gt, value: 0.3}`,
		`{column: rate, op: lte, value: 0.30000000000000004}`, `{column: rate, op: lt, value: 0.00001}`, `{column: n, op: gt, value: 9223372036854775806}`,
		`{column: n, op: eq, value: 9223372036854775807}`, `{column: n, op: lt, value: -4.5}`, `{column: n, op: not_in, values: [0, 1.5]}`,
		`{column: day, op: gte, value: 2024-02-01}`, `{column: day, op: lt, value: 2024-02-29}`, `{column: day, op: ne, value: 2024-01-01}`,
		`{column: at, op: gte, value: "2024-01-03 07:00:00"}`, `{column: at, op: lt, value: "2024-01-03T07:00:00.000001"}`,
		`{column: at, op: eq, value: "2024-01-03 07:00:00.000001"}`, `{column: local, op: eq, value: "2024-01-03 07:00:00"}`,
		`{column: local, op: gt, value: 2024-01-03}`, `{column: ok, op: eq, value: "true"}`, `{column: ok, op: ne, value: "false"}`,
		`{column: ok, op: lt, value: "true"}`,
		`{column: name, op: ne, value: abc}, {column: amount, op: gt, value: 0}, {column: ok, op: not_empty}`,
	}
	rules := `  - {name: by_code, pattern: "1:1", conditions: [{left: code, op: eq, right: id}]}
`
	for _, encoding := range []string{"UTF8", "LATIN1"} {
		t.Run(encoding, func(t *testing.T) {
			t.Parallel()
			url := postgresDatabase(t, encoding, `CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false); `+table)
			path := postgresRecipe(t, url, "id\n1\n", rules)
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			whole := &duckdb.Engine{Threads: 2}
			duckdb.ReadWhole(whole)
			for _, filter := range filters {
				setSourceFields(t, path, string(text), "code", "filter: ["+filter+"]")
				pushed, err := runRecipe(t, path)
				if err != nil {
					t.Fatalf("%s: %v", filter, err)
				}
				read, err := runRecipeOn(t, path, whole)
				if err != nil {
					t.Fatalf("%s, read whole: %v", filter, err)
				}
				got, want := keys(pushed.unmatchedLeft, "code"), keys(read.unmatchedLeft, "code")
				p, r := pushed.summary.Left, read.summary.Left
				if !slices.Equal(got, want) || p.Rows != r.Rows || p.FilteredOut != r.FilteredOut || p.Rows+p.FilteredOut != 132 {
					t.Errorf("%s: kept %v (%d, %d left out), read whole kept %v (%d, %d left out)", filter, got, p.Rows, p.FilteredOut, want, r.Rows, r.FilteredOut)
				}
			}
		})
	}
	t.Run("rows_left_out_are_not_read", func(t *testing.T) {
		t.Parallel()
		// A void row's one divides by zero: only a copy that leaves the
		// void rows out succeeds.
		url, _ := postgresDB(t, `CREATE TABLE book (code int PRIMARY KEY, status text);
			INSERT INTO book VALUES (1, 'open'), (2, 'void'), (3, NULL);
			CREATE VIEW ledger AS SELECT code, status, 1 / (CASE WHEN status = 'void' THEN 0 ELSE 1 END) AS one FROM book`)
		path := postgresRecipe(t, url, "id\n1\n", rules)
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		setSourceFields(t, path, string(text), "code", "filter: [{column: status, op: ne, value: void}]")
		o := mustRun(t, path)
		if !slices.Equal(o.pairs(), []string{"by_code: l1 r1"}) || !slices.Equal(keys(o.unmatchedLeft, "code"), []string{"3"}) || o.summary.Left.FilteredOut != 1 {
			t.Errorf("matches %v, unmatched left %v, summary %+v", o.pairs(), keys(o.unmatchedLeft, "code"), o.summary.Left)
		}
		whole := &duckdb.Engine{Threads: 2}
		duckdb.ReadWhole(whole)
		if _, err := runRecipeOn(t, path, whole); err == nil || !strings.Contains(err.Error(), "division by zero") {
			t.Errorf("read whole: err = %v, want PostgreSQL's division by zero", err)
		}
	})
}
