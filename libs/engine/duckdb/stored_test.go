package duckdb_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/sqlplan"
)

// TestStoredAsRead: a Parquet side whose first records come in key order
// (text by bytes, a composite key column by column) is stored as read,
// without sorting it, and sorted after where a later record is out of
// order; any other side is sorted as read. Either way the records are
// numbered in key order: every left record shares the one right record's
// ref, so the pair is the left record with the least key, and the
// unmatched ones come in key order. Keys that repeat or are empty after
// the records sampled are bad input as before.
func TestStoredAsRead(t *testing.T) {
	t.Parallel()
	rule := "  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}]}\n"
	right := []string{"SELECT 1 AS id, 'X' AS ref"}
	values := func(keys ...string) string {
		rows := make([]string, len(keys))
		for i, k := range keys {
			rows[i] = "(" + k + ", 'X')"
		}
		return "SELECT * FROM (VALUES " + strings.Join(rows, ", ") + ") t(id, ref)"
	}
	// late is sqlplan.SampleRows keys in order, then last.
	late := func(last string) string {
		return fmt.Sprintf("SELECT range + 2 AS id, 'X' AS ref FROM range(%d) UNION ALL SELECT %s, 'X'", sqlplan.SampleRows, last)
	}
	tests := []struct {
		name, left          string
		keyColumns          string
		asRead, sortedAfter bool
		pair                string
		first, last         []string // the first unmatched keys, and the last
	}{
		{"in_order", values("1", "2", "3"), "", true, false, "t: l1 r1", []string{"2", "3"}, nil},
		{"text_by_bytes", values("'B'", "'a'", "'b'"), "", true, false, "t: lB r1", []string{"a", "b"}, nil},
		{"text_of_digits_by_bytes", values("'10'", "'9'"), "", true, false, "t: l10 r1", []string{"9"}, nil},
		{"shuffled", values("3", "1", "2"), "", false, false, "t: l1 r1", []string{"2", "3"}, nil},
		{"composite_in_order", "SELECT * FROM (VALUES ('A', 2, 'X'), ('A', 10, 'X'), ('B', 1, 'X')) t(branch, seq, ref)", "[branch, seq]",
			true, false, "t: lA|2 r1", []string{"A", "B"}, nil},
		{"out_of_order_after_the_sample", late("1"), "", true, true, "t: l1 r1",
			[]string{"2", "3"}, []string{fmt.Sprint(sqlplan.SampleRows), fmt.Sprint(sqlplan.SampleRows + 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := parquetBook(t, tt.left, right, rule)
			if tt.keyColumns != "" {
				text, _ := os.ReadFile(path)
				keyed := strings.Replace(string(text), `"file://left.parquet", primary_key: [id]`, `"file://left.parquet", primary_key: `+tt.keyColumns, 1)
				if err := os.WriteFile(path, []byte(keyed), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			stored := map[string][2]bool{}
			e := &duckdb.Engine{Threads: 2}
			duckdb.Stored(e, func(table string, asRead, sortedAfter bool) {
				mu.Lock()
				defer mu.Unlock()
				stored[table] = [2]bool{asRead, sortedAfter}
			})
			o, err := runRecipeOn(t, path, e)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := stored[sqlplan.Left], [2]bool{tt.asRead, tt.sortedAfter}; got != want {
				t.Errorf("left stored as read, sorted after: %v, want %v", got, want)
			}
			if got := o.pairs(); !slices.Equal(got, []string{tt.pair}) {
				t.Errorf("pairs = %v, want [%s]", got, tt.pair)
			}
			col := "id"
			if tt.keyColumns != "" {
				col = "branch"
			}
			got := keys(o.unmatchedLeft, col)
			if !slices.Equal(got[:len(tt.first)], tt.first) || !slices.Equal(got[len(got)-len(tt.last):], tt.last) {
				t.Errorf("unmatched left %v ... %v, want %v ... %v", got[:len(tt.first)], got[max(0, len(got)-2):], tt.first, tt.last)
			}
		})
	}
	for name, last := range map[string]string{"repeated_after_the_sample": fmt.Sprint(sqlplan.SampleRows + 1), "empty_after_the_sample": "NULL"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := runRecipe(t, parquetBook(t, late(last), right, rule))
			want := map[string]string{"NULL": "empty (1 row: record 10001)"}[last]
			if want == "" {
				want = last + " (2 rows: records 10000 and 10001)"
			}
			wantBadInput(t, err, "left.parquet; for example: "+want)
		})
	}
	t.Run("csv_is_sorted_as_read", func(t *testing.T) {
		t.Parallel()
		// Its sample would cost what sorting saves.
		var asRead bool
		e := &duckdb.Engine{Threads: 2}
		duckdb.Stored(e, func(table string, read, _ bool) { asRead = asRead || read })
		dir := writeFiles(t, "id,ref\n1,X\n2,X\n", "id,ref\n1,X\n", recipeYAML(rule))
		if _, err := runRecipeOn(t, filepath.Join(dir, "recipe.yaml"), e); err != nil || asRead {
			t.Errorf("err = %v, a side stored as read: %v; want CSV sides sorted as read", err, asRead)
		}
	})
}
