package duckdb_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/recipe"
)

// parquetBook writes dir/left.parquet from the query left, a directory
// dir/right of parts from the queries right, and dir/recipe.yaml reading
// them (primary key id) with the rules given; it returns the recipe's path.
func parquetBook(t *testing.T, left string, right []string, rules string) string {
	t.Helper()
	dir := t.TempDir()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	os.Mkdir(filepath.Join(dir, "right"), 0o755)
	files := map[string]string{filepath.Join(dir, "left.parquet"): left}
	for i, q := range right {
		files[filepath.Join(dir, "right", fmt.Sprintf("part-%05d.parquet", i))] = q
	}
	for path, q := range files {
		if _, err := db.Exec("COPY (" + q + ") TO '" + path + "' (FORMAT parquet)"); err != nil {
			t.Fatal(err)
		}
	}
	text := `
recipe_id: pq
sources:
  left: {alias: l, uri: "file://left.parquet", primary_key: [id]}
  right: {alias: r, uri: "file://right", primary_key: [id]}
match_rules:
` + rules
	path := filepath.Join(dir, "recipe.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParquetSources(t *testing.T) {
	t.Parallel()
	// A single file on the left, a directory of parts on the right.
	path := parquetBook(t,
		`SELECT * FROM (VALUES (1, 'A', 10.50::DECIMAL(10,2)), (2, 'B', 3.00::DECIMAL(10,2))) t(id, ref, amount)`,
		[]string{
			`SELECT * FROM (VALUES (10, 'A', 10.49::DECIMAL(10,2))) t(id, ref, amount)`,
			`SELECT * FROM (VALUES (11, 'B', 3.00::DECIMAL(10,2))) t(id, ref, amount)`,
		},
		`  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.01}]}
`)
	o := mustRun(t, path)
	if got, want := o.pairs(), []string{"exact: l1 r10", "exact: l2 r11"}; !slices.Equal(got, want) {
		t.Errorf("matches = %v, want %v", got, want)
	}
}

// TestParquetPartsCounted: the records a filter leaves out of a directory
// of parts are counted from every part's footer; a part that changes after
// its footer was read fails the run.
func TestParquetPartsCounted(t *testing.T) {
	t.Parallel()
	exact := `  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}]}
`
	parts := []string{`SELECT * FROM (VALUES (10, 'A'), (12, 'Z')) t(id, ref)`, `SELECT * FROM (VALUES (11, 'B')) t(id, ref)`}
	t.Run("filtered", func(t *testing.T) {
		t.Parallel()
		path := parquetBook(t, `SELECT * FROM (VALUES (1, 'A'), (2, 'B')) t(id, ref)`, parts, exact)
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		right := `uri: "file://right", primary_key: [id]`
		if err := os.WriteFile(path, []byte(strings.Replace(string(text), right, right+", filter: [{column: ref, op: ne, value: Z}]", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		o := mustRun(t, path)
		if got, want := o.pairs(), []string{"exact: l1 r10", "exact: l2 r11"}; !slices.Equal(got, want) || o.summary.Right.Rows != 2 || o.summary.Right.FilteredOut != 1 {
			t.Errorf("matches = %v, right %+v; want %v, 2 rows and 1 left out", got, o.summary.Right, want)
		}
	})
	t.Run("a_part_named_like_a_pattern", func(t *testing.T) {
		t.Parallel()
		// part-0000[0] would match part-00000, read twice.
		path := parquetBook(t, `SELECT * FROM (VALUES (1, 'A'), (2, 'B')) t(id, ref)`, parts, exact)
		right := filepath.Join(filepath.Dir(path), "right")
		if err := os.Rename(filepath.Join(right, "part-00001.parquet"), filepath.Join(right, "part-0000[0].parquet")); err != nil {
			t.Fatal(err)
		}
		o := mustRun(t, path)
		if got, want := o.pairs(), []string{"exact: l1 r10", "exact: l2 r11"}; !slices.Equal(got, want) || o.summary.Right.Rows != 3 {
			t.Errorf("matches = %v, right %+v; want %v and 3 rows", got, o.summary.Right, want)
		}
	})
	t.Run("a_part_changed", func(t *testing.T) {
		t.Parallel()
		path := parquetBook(t, `SELECT * FROM (VALUES (1, 'A')) t(id, ref)`, parts, exact)
		part := filepath.Join(filepath.Dir(path), "right", "part-00001.parquet")
		err := planThenReconcile(t, path, func(*plan.Plan) {
			if err := os.Chtimes(part, time.Time{}, time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		})
		if want := "part-00001.parquet changed while Kalla read it"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
}

// TestParquetDeclaredWidths: DECIMAL(38,2) on both sides, as Spark and
// pyarrow write amounts, is a width declared, not measured: its values fit
// the engine's arithmetic, and nothing is refused for the width.
func TestParquetDeclaredWidths(t *testing.T) {
	t.Parallel()
	path := parquetBook(t, `SELECT * FROM (VALUES (1, 'A', 10.50::DECIMAL(38,2)), (2, 'B', 7::DECIMAL(38,2))) t(id, ref, amount)`,
		[]string{`SELECT * FROM (VALUES (10, 'A', 10.49::DECIMAL(38,2)), (11, 'B', 7.00::DECIMAL(38,2))) t(id, ref, amount)`},
		"  - {name: near, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.02}]}\n")
	o := mustRun(t, path)
	if got, want := o.pairs(), []string{"near: l1 r10", "near: l2 r11"}; !slices.Equal(got, want) {
		t.Errorf("matches = %v, want %v", got, want)
	}
}

// TestParquetDeclaredWidthsOverflow: declared widths whose values come
// near them are refused with the rule's field, not left to fail as the
// machine's fault.
func TestParquetDeclaredWidthsOverflow(t *testing.T) {
	t.Parallel()
	path := parquetBook(t, `SELECT * FROM (VALUES (1, 'A', 999999999999999999999999999999999999.99::DECIMAL(38,2))) t(id, ref, amount)`,
		[]string{`SELECT * FROM (VALUES (10, 'A', -999999999999999999999999999999999999.99::DECIMAL(38,2))) t(id, ref, amount)`},
		"  - {name: near, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.02}]}\n")
	_, err := runRecipe(t, path)
	wantBadInput(t, err, "match_rules[0]: rule near computes with numbers of more than 38 digits")
	// A later rule names itself: 1 and 10 pair by ref, then 2 meets 10
	// under by_batch, 2 * 10^36 away.
	path = parquetBook(t, `SELECT * FROM (VALUES (1, 'A', 'X', 1::DECIMAL(38,2)), (2, 'B', 'X', 999999999999999999999999999999999999.99::DECIMAL(38,2))) t(id, ref, batch, amount)`,
		[]string{`SELECT * FROM (VALUES (10, 'A', 'X', -999999999999999999999999999999999999.99::DECIMAL(38,2))) t(id, ref, batch, amount)`},
		`  - {name: by_ref, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}]}
  - {name: by_batch, pattern: "1:1", conditions: [{left: batch, op: eq, right: batch}, {left: amount, op: tolerance, right: amount, threshold: 0.02}]}
`)
	_, err = runRecipe(t, path)
	wantBadInput(t, err, "match_rules[1]: rule by_batch computes with numbers of more than 38 digits")
}

func TestParquetFloats(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T, left string) string {
		return parquetBook(t, `SELECT * FROM (VALUES `+left+`) t(id, ref, amount)`,
			[]string{
				`SELECT id, ref, amount::FLOAT AS amount FROM (VALUES (10, 'A', 1.08), (11, 'B', 0.3)) t(id, ref, amount)`,
				`SELECT id, ref, amount::FLOAT AS amount FROM (VALUES (12, 'C', 2.655), (13, 'D', 0.1)) t(id, ref, amount)`,
			},
			`  - {name: near, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.02}]}
`)
	}
	t.Run("values_as_they_print", func(t *testing.T) {
		t.Parallel()
		// Doubles on the left, floats on the right. As printed, each pair is
		// 0.02 apart at most: 1.1 - 1.08, 0.1 + 0.2 (0.30000000000000004)
		// - 0.3, 2.675 - 2.655. As binary values 2.675 - 2.655 is
		// 0.0200000286..., which float arithmetic would refuse.
		path := setup(t, "(1, 'A', 1.1::DOUBLE), (2, 'B', 0.1::DOUBLE + 0.2::DOUBLE), (3, 'C', 2.675::DOUBLE), (4, 'D', NULL::DOUBLE)")
		o := mustRun(t, path)
		if got, want := o.pairs(), []string{"near: l1 r10", "near: l2 r11", "near: l3 r12"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		// The right's widest value has 3 decimals: 0.1 as a float prints 0.1.
		if len(o.unmatchedRight) != 1 || o.unmatchedRight[0]["amount"] != "0.100" {
			t.Errorf("unmatched right = %v, want 13 with amount 0.100", o.unmatchedRight)
		}
	})
	// Each float equals the decimal its shortest text reads as: DuckDB's
	// own cast printed 1e-05 (refused at DECIMAL(5,5)) and the float32
	// 3237370.2 as its binary value, 3237370.25.
	for name, floats := range map[string]string{
		"small_doubles": "(10, 'A', 0.25::DOUBLE), (11, 'B', 0.00001::DOUBLE), (12, 'C', 0.0000025::DOUBLE)",
		"float32s":      "(10, 'A', 3237370.2::FLOAT), (11, 'B', 92323900::FLOAT), (12, 'C', 0.0000001::FLOAT)",
	} {
		t.Run(name+"_as_they_print", func(t *testing.T) {
			t.Parallel()
			exact := map[string]string{"small_doubles": "(1, 'A', 0.25), (2, 'B', 0.00001), (3, 'C', 0.0000025)",
				"float32s": "(1, 'A', 3237370.2), (2, 'B', 92323900), (3, 'C', 0.0000001)"}[name]
			path := parquetBook(t, `SELECT id, ref, amount::DECIMAL(38,8) AS amount FROM (VALUES `+exact+`) t(id, ref, amount)`,
				[]string{`SELECT * FROM (VALUES ` + floats + `) t(id, ref, amount)`},
				"  - {name: same, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: eq, right: amount}]}\n")
			o := mustRun(t, path)
			if got, want := o.pairs(), []string{"same: l1 r10", "same: l2 r11", "same: l3 r12"}; !slices.Equal(got, want) {
				t.Errorf("matches = %v, want %v; unmatched right %v", got, want, o.unmatchedRight)
			}
		})
	}
	t.Run("float_after_a_struct_column", func(t *testing.T) {
		t.Parallel()
		// The struct's two leaves came before x: x was measured from y
		// (3.0, DECIMAL(1,0)) and read as 1.
		path := parquetBook(t, `SELECT 1 AS id, 'A' AS ref, {'p': 1, 'q': 2} AS s, 1.25::DOUBLE AS x, 3.0::DOUBLE AS y`,
			[]string{`SELECT 10 AS id, 'A' AS ref, 1.25::DECIMAL(4,2) AS x`},
			"  - {name: same, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: x, op: eq, right: x}]}\n")
		o := mustRun(t, path)
		if got := o.pairs(); !slices.Equal(got, []string{"same: l1 r10"}) {
			t.Errorf("matches = %v, want l1 r10", got)
		}
	})
	t.Run("nan_in_a_rule_is_bad_input", func(t *testing.T) {
		t.Parallel()
		path := setup(t, "(1, 'A', 'NaN'::DOUBLE)")
		_, err := runRecipe(t, path)
		wantBadInput(t, err, `column "amount" of l cannot be compared or be a key: it holds NaN`)
	})
}

// TestParquetReadsExactly: every part of a directory is read with the type
// that holds all of them, integers subtract without overflowing, and types
// the engine has but Kalla reads as text compare as their text.
func TestParquetReadsExactly(t *testing.T) {
	t.Parallel()
	left := `SELECT * FROM (VALUES (1, 'A', 1.50::DECIMAL(10,2)), (2, 'B', 2.00::DECIMAL(10,2))) t(id, ref, amount)`
	tolerance := `  - {name: near, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.25}]}
`
	t.Run("parts_of_other_decimal_widths", func(t *testing.T) {
		t.Parallel()
		// 2.25 - 2.00 is the threshold exactly; read at the first part's
		// scale, 2.25 would be 2.3.
		path := parquetBook(t, left, []string{
			`SELECT 10 AS id, 'A' AS ref, 1.5::DECIMAL(5,1) AS amount`,
			`SELECT 11 AS id, 'B' AS ref, 2.25::DECIMAL(5,2) AS amount`,
		}, tolerance)
		o := mustRun(t, path)
		if got, want := o.pairs(), []string{"near: l1 r10", "near: l2 r11"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("upper_case_extension_is_a_part", func(t *testing.T) {
		t.Parallel()
		path := parquetBook(t, left, []string{
			`SELECT 10 AS id, 'A' AS ref, 1.5::DECIMAL(5,2) AS amount`,
			`SELECT 11 AS id, 'B' AS ref, 2.25::DECIMAL(5,2) AS amount`,
		}, tolerance)
		parts := filepath.Join(filepath.Dir(path), "right")
		if err := os.Rename(filepath.Join(parts, "part-00001.parquet"), filepath.Join(parts, "part-00001.PARQUET")); err != nil {
			t.Fatal(err)
		}
		o := mustRun(t, path)
		if o.summary.Right.Rows != 2 || len(o.pairs()) != 2 {
			t.Errorf("right rows %d, matches %v; want both parts read", o.summary.Right.Rows, o.pairs())
		}
	})
	t.Run("integers_subtract_without_overflow", func(t *testing.T) {
		t.Parallel()
		path := parquetBook(t,
			`SELECT * FROM (VALUES (1, 'A', 127::TINYINT, 9223372036854775807::BIGINT)) t(id, ref, small, big)`,
			[]string{`SELECT * FROM (VALUES (10, 'A', (-1)::TINYINT, (-1)::BIGINT)) t(id, ref, small, big)`},
			`  - {name: near, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: small, op: tolerance, right: small, threshold: 200}, {left: big, op: tolerance, right: big, threshold: 5}]}
`)
		o := mustRun(t, path)
		if len(o.pairs()) != 0 || len(o.unmatchedLeft) != 1 {
			t.Fatalf("matches %v, unmatched %v; want none matched", o.pairs(), o.unmatchedLeft)
		}
		if got, want := o.unmatchedLeft[0]["kalla_near_reason"], "l.big differs from r.big by 9223372036854775808, tolerance 5"; got != want {
			t.Errorf("reason = %q, want %q (128 is within 200)", got, want)
		}
	})
	t.Run("other_types_compare_as_text", func(t *testing.T) {
		t.Parallel()
		path := parquetBook(t,
			`SELECT * FROM (VALUES (1, uuid '12345678-1234-1234-1234-123456789abc', TIME '01:02:03'), (2, uuid '00000000-0000-0000-0000-000000000001', TIME '04:05:06')) t(id, u, clock)`,
			[]string{`SELECT * FROM (VALUES (10, '12345678-1234-1234-1234-123456789ABC', '01:02:03'), (11, '00000000-0000-0000-0000-000000000001', '4:5:6')) t(id, u, clock)`},
			`  - {name: same, pattern: "1:1", conditions: [{left: u, op: eq, right: u}, {left: clock, op: contains, right: clock}]}
`)
		o := mustRun(t, path)
		// Upper case is other text; 4:5:6 is not in 04:05:06.
		if len(o.pairs()) != 0 || o.unmatchedLeft[0]["u"] != "12345678-1234-1234-1234-123456789abc" {
			t.Errorf("matches %v, unmatched %v; want none, the UUID as text", o.pairs(), o.unmatchedLeft)
		}
	})
}

// TestParquetNanoseconds ranks and shows timestamp[ns] differences in
// nanoseconds: 1 ns and 600 ns are not both 0 microseconds.
func TestParquetNanoseconds(t *testing.T) {
	t.Parallel()
	path := parquetBook(t, "SELECT 1 AS id, 'A' AS k, TIMESTAMP_NS '2024-01-01 00:00:00.000001' AS t",
		[]string{"SELECT * FROM (VALUES (1, 'A', TIMESTAMP_NS '2024-01-01 00:00:00.0000004'), (2, 'A', TIMESTAMP_NS '2024-01-01 00:00:00.000000999')) v(id, k, t)"},
		"  - {name: t, pattern: \"1:1\", conditions: [{left: k, op: eq, right: k}, {left: t, op: gt, right: t}]}\n")
	o := mustRun(t, path)
	if got, want := o.pairs(), []string{"t: l1 r2"}; !slices.Equal(got, want) {
		t.Errorf("matches = %v, want %v (1 ns apart, not 600)", got, want)
	}
	if len(o.matched) != 2 || o.matched[0]["deltas"] != "l.t-r.t: 00:00:00.000000001" {
		t.Errorf("matched = %v, want the delta 00:00:00.000000001", o.matched)
	}
}

// TestParquetNanosecondNearMiss: under coarse keys, a comparison of
// nanosecond timestamps first settles near misses in nanoseconds, by
// lookups (one condition after it) and by rounds (two). Payment 2 is
// 100 ns before the invoice, payment 1 400 ns: both fail as many
// conditions, and payment 2 is the nearer, though in microseconds both
// are 0 apart and payment 1's amount is nearer.
func TestParquetNanosecondNearMiss(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		amounts [2]string
		more    string
	}{
		"lookups": {[2]string{"200.00", "300.00"}, ""},
		"rounds":  {[2]string{"101.50", "101.60"}, ", {left: amount, op: tolerance_pct, right: amount, threshold: 10}"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := parquetBook(t, "SELECT 1 AS id, 'A' AS k, TIMESTAMP_NS '2024-01-01 00:00:00.0000005' AS t, 100.00 AS amount",
				[]string{fmt.Sprintf("SELECT * FROM (VALUES (1, 'A', TIMESTAMP_NS '2024-01-01 00:00:00.0000001', %s), (2, 'A', TIMESTAMP_NS '2024-01-01 00:00:00.0000004', %s)) v(id, k, t, amount)", c.amounts[0], c.amounts[1])},
				"  - {name: t, pattern: \"1:1\", conditions: [{left: k, op: eq, right: k}, {left: t, op: gte, right: t}, {left: amount, op: tolerance, right: amount, threshold: 1}"+c.more+"]}\n")
			r, err := recipe.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			wantNearMiss(t, r, "left", "1", "2")
		})
	}
}

// TestParquetNanosecondDeltas: deltas of nanosecond timestamps read as
// durations do, signed, to the nanosecond, without trailing zeros.
func TestParquetNanosecondDeltas(t *testing.T) {
	t.Parallel()
	path := parquetBook(t, "SELECT * FROM (VALUES (1, 'A', TIMESTAMP_NS '2024-01-02 01:01:01.5'), (2, 'B', TIMESTAMP_NS '2024-01-01 00:00:00')) v(id, k, t)",
		[]string{"SELECT * FROM (VALUES (1, 'A', TIMESTAMP_NS '2024-01-01 00:00:00'), (2, 'B', TIMESTAMP_NS '2024-01-02 01:01:01.00000012')) v(id, k, t)"},
		"  - {name: later, pattern: \"1:1\", conditions: [{left: k, op: eq, right: k}, {left: t, op: gte, right: t}]}\n"+
			"  - {name: earlier, pattern: \"1:1\", conditions: [{left: k, op: eq, right: k}, {left: t, op: lte, right: t}]}\n")
	o := mustRun(t, path)
	var got []string
	for _, m := range o.matched {
		if m["side"] == "left" {
			got = append(got, m["deltas"])
		}
	}
	if want := []string{"l.t-r.t: 25:01:01.5", "l.t-r.t: -25:01:01.00000012"}; !slices.Equal(got, want) {
		t.Errorf("deltas = %q, want %q", got, want)
	}
}

// TestParquetIntegerThresholds: integers of declared width are BIGINT, so a
// threshold too long to compute with 19-digit values is refused at its
// field before the run; a usual one computes exactly at the type's edge.
func TestParquetIntegerThresholds(t *testing.T) {
	t.Parallel()
	book := func(threshold string) string {
		return parquetBook(t, "SELECT * FROM (VALUES (1::BIGINT, 'A', 9223372036854775807::BIGINT), (2, 'B', 100)) v(id, k, n)",
			[]string{"SELECT * FROM (VALUES (1::BIGINT, 'A', 9038904596117680290::BIGINT), (2, 'B', 103)) v(id, k, n)"},
			"  - {name: t, pattern: \"1:1\", conditions: [{left: k, op: eq, right: k}, {left: n, op: tolerance_pct, right: n, threshold: "+threshold+"}]}\n")
	}
	t.Run("usual_threshold_at_the_edge", func(t *testing.T) {
		t.Parallel()
		// 9223372036854775807 - 9038904596117680292 is 2% of the first,
		// rounded up: just over; 103 is 3% over 100.
		o := mustRun(t, book("2"))
		if len(o.matched) != 0 {
			t.Errorf("matched = %v, want none", o.matched)
		}
		o = mustRun(t, book("2.0000000000000001"))
		if got, want := o.pairs(), []string{"t: l1 r1"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("against_a_measured_decimal_is_computed", func(t *testing.T) {
		t.Parallel()
		// A declared integer's width is not counted against a decimal of
		// 18 places: 100 against 101.5 plus 1e-18 runs, 1.5% apart.
		path := book("2")
		dir := filepath.Dir(path)
		if err := os.WriteFile(filepath.Join(dir, "right.csv"), []byte("id,k,n\n1,B,101.500000000000000001\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		text, _ := os.ReadFile(path)
		if err := os.WriteFile(path, []byte(strings.Replace(string(text), `"file://right"`, `"file://right.csv"`, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		o := mustRun(t, path)
		if got, want := o.pairs(), []string{"t: l2 r1"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	for _, threshold := range []string{"99999999999999999999", "1e-21"} {
		t.Run("threshold_"+threshold+"_is_bad_input", func(t *testing.T) {
			t.Parallel()
			_, err := runRecipe(t, book(threshold))
			wantBadInput(t, err, "match_rules[0].conditions[1].threshold: tolerance_pct on n (integer) and n (integer) with threshold "+threshold+" needs numbers of")
		})
	}
}
