package api_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/evidence"
)

// column is one evidence column: its name, type and values (nil is NULL).
type column struct {
	name   string
	typ    arrow.DataType
	values []any
}

// writeParquet writes the columns as a Parquet file, as the executor does
// but with three rows per row group, so that pages start past skipped
// groups and inside a group, and a match group spans two.
func writeParquet(t *testing.T, path string, cols ...column) {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, c := range cols {
		for _, v := range c.values {
			switch fb := b.Field(i).(type) {
			case *array.Int64Builder:
				if v == nil {
					fb.AppendNull()
				} else {
					fb.Append(int64(v.(int)))
				}
			case *array.StringBuilder:
				if v == nil {
					fb.AppendNull()
				} else {
					fb.Append(v.(string))
				}
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(3)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEvidence(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.writeCSVs(t)
	runID := e.createRun(t)
	str, i64 := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64

	_, err := e.runs.ListMatches(e.ctx, connect.NewRequest(&kallav1.ListMatchesRequest{RunId: runID}))
	wantCode(t, err, connect.CodeFailedPrecondition)

	dir := filepath.Join(t.TempDir(), "evidence", runID)
	os.MkdirAll(dir, 0o755)
	writeParquet(t, filepath.Join(dir, "matched.parquet"),
		column{"match_id", i64, []any{1, 1, 2, 2, 2}},
		column{"rule", str, []any{"exact", "exact", "split", "split", "split"}},
		column{"pattern", str, []any{"1:1", "1:1", "1:N", "1:N", "1:N"}},
		column{"side", str, []any{"left", "right", "left", "right", "right"}},
		column{"key", str, []any{"INV-1", "P-1", "INV-2", "P-2", "P-7"}},
		column{"deltas", str, []any{"amount-paid_amount: 0.00; issued-paid_on: 2 days", "amount-paid_amount: 0.00", "", "", nil}},
		// The payments are read from several files without a key.
		column{"kalla_file", str, []any{nil, "pay-1.csv", nil, "pay-2.csv", "pay-2.csv"}},
		column{"kalla_file_row", i64, []any{nil, 1, nil, 3, 5}})
	const noCandidate = "no payments record has reference equal to its invoice_id (rule exact)"
	writeParquet(t, filepath.Join(dir, "unmatched_left.parquet"),
		column{"invoice_id", str, []any{"INV-3", "INV-4"}},
		column{"amount", str, []any{"75.25", nil}},
		column{"kalla_near_rule", str, []any{"exact", nil}},
		column{"kalla_near_key", str, []any{"P-3", nil}},
		column{"kalla_near_file", str, []any{"pay-1.csv", nil}},
		column{"kalla_near_file_row", i64, []any{2, nil}},
		column{"kalla_near_reason", str, []any{"amount differs from paid_amount by 65.25, tolerance 0.02", noCandidate}},
		column{"kalla_near_failed", i64, []any{1, nil}})
	// The file of a record of a source read from several files (the
	// engine writes it for sources without a key).
	writeParquet(t, filepath.Join(dir, "unmatched_right.parquet"),
		column{"payment_id", str, []any{"P-9"}},
		column{"kalla_file", str, []any{"pay-2.csv"}},
		column{"kalla_file_row", i64, []any{4}},
		column{"kalla_near_rule", str, []any{nil}},
		column{"kalla_near_key", str, []any{nil}},
		column{"kalla_near_reason", str, []any{nil}})
	uri := "file://" + dir + "/"
	uris, _ := json.Marshal(evidence.URIs{Matched: uri + "matched.parquet", UnmatchedLeft: uri + "unmatched_left.parquet",
		UnmatchedRight: uri + "unmatched_right.parquet", Summary: uri + "summary.json"})
	if err := e.store.CompleteRun(e.ctx, runID, []byte(`{"match_groups": 2}`), uris); err != nil {
		t.Fatal(err)
	}

	t.Run("matches_paged", func(t *testing.T) {
		var got []*kallav1.MatchMember
		token := ""
		for range 5 {
			resp, err := e.runs.ListMatches(e.ctx, connect.NewRequest(&kallav1.ListMatchesRequest{RunId: runID, PageSize: 2, PageToken: token}))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, resp.Msg.GetMembers()...)
			if token = resp.Msg.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(got) != 5 {
			t.Fatalf("%d members, want 5: %v", len(got), got)
		}
		m := got[0]
		if m.GetMatchId() != 1 || m.GetRule() != "exact" || m.GetPattern() != "1:1" || m.GetSide() != kallav1.Side_SIDE_LEFT || m.GetKey() != "INV-1" {
			t.Errorf("first member = %v", m)
		}
		if d := m.GetDeltas(); len(d) != 2 || d[0].GetCondition() != "amount-paid_amount" || d[0].GetDelta() != "0.00" || d[1].GetDelta() != "2 days" {
			t.Errorf("deltas = %v", d)
		}
		if got[4].GetSide() != kallav1.Side_SIDE_RIGHT || got[4].GetKey() != "P-7" || len(got[4].GetDeltas()) != 0 || got[4].GetFile() != "pay-2.csv" || got[4].GetFileRow() != 5 {
			t.Errorf("last member = %v", got[4])
		}
		if m.GetFile() != "" || m.GetFileRow() != 0 {
			t.Errorf("a member of a keyed source names a file: %v", m)
		}
	})
	t.Run("matches_by_key_keep_whole_groups", func(t *testing.T) {
		resp, err := e.runs.ListMatches(e.ctx, connect.NewRequest(&kallav1.ListMatchesRequest{RunId: runID, Key: "P-7"}))
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, m := range resp.Msg.GetMembers() {
			keys = append(keys, m.GetKey())
		}
		if len(keys) != 3 || keys[0] != "INV-2" || resp.Msg.GetNextPageToken() != "" {
			t.Errorf("members = %v", keys)
		}
	})
	t.Run("unmatched", func(t *testing.T) {
		resp, err := e.runs.ListUnmatched(e.ctx, connect.NewRequest(&kallav1.ListUnmatchedRequest{RunId: runID, Side: kallav1.Side_SIDE_LEFT}))
		if err != nil {
			t.Fatal(err)
		}
		recs := resp.Msg.GetRecords()
		if len(recs) != 2 {
			t.Fatalf("records = %v", recs)
		}
		r := recs[0]
		if r.GetKey() != "INV-3" || r.GetSide() != kallav1.Side_SIDE_LEFT || len(r.GetValues()) != 2 || r.GetValues()["amount"] != "75.25" {
			t.Errorf("record = %v", r)
		}
		if _, has := r.GetValues()["kalla_near_failed"]; has {
			t.Errorf("values carry the near miss columns: %v", r.GetValues())
		}
		if n := r.GetNearMiss(); n.GetRule() != "exact" || n.GetOtherKey() != "P-3" || n.GetReason() == "" || n.GetFailedConditions() != 1 || n.GetOtherFile() != "pay-1.csv" || n.GetOtherFileRow() != 2 {
			t.Errorf("near miss = %v", n)
		}
		if _, has := recs[1].GetValues()["amount"]; has {
			t.Errorf("NULL values must be absent: %v", recs[1])
		}
		if n := recs[1].GetNearMiss(); n.GetRule() != "" || n.GetReason() != noCandidate {
			t.Errorf("near miss of a record without candidates = %v, want only the reason %q", n, noCandidate)
		}
		var paged []string
		token := ""
		for range 3 {
			resp, err := e.runs.ListUnmatched(e.ctx, connect.NewRequest(&kallav1.ListUnmatchedRequest{RunId: runID, Side: kallav1.Side_SIDE_LEFT, PageSize: 1, PageToken: token}))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range resp.Msg.GetRecords() {
				paged = append(paged, r.GetKey())
			}
			if token = resp.Msg.GetNextPageToken(); token == "" {
				break
			}
		}
		if !slices.Equal(paged, []string{"INV-3", "INV-4"}) || token != "" {
			t.Errorf("paged one at a time: %v, last token %q", paged, token)
		}
		resp, err = e.runs.ListUnmatched(e.ctx, connect.NewRequest(&kallav1.ListUnmatchedRequest{RunId: runID, Side: kallav1.Side_SIDE_LEFT, Key: "4", PageSize: 1}))
		if err != nil {
			t.Fatal(err)
		}
		if recs := resp.Msg.GetRecords(); len(recs) != 1 || recs[0].GetKey() != "INV-4" || resp.Msg.GetNextPageToken() != "" {
			t.Errorf("filtered = %v", resp.Msg)
		}
		resp, err = e.runs.ListUnmatched(e.ctx, connect.NewRequest(&kallav1.ListUnmatchedRequest{RunId: runID, Side: kallav1.Side_SIDE_RIGHT}))
		if err != nil {
			t.Fatal(err)
		}
		if recs := resp.Msg.GetRecords(); len(recs) != 1 || recs[0].GetKey() != "P-9" || recs[0].GetNearMiss() != nil ||
			recs[0].GetFile() != "pay-2.csv" || recs[0].GetFileRow() != 4 || len(recs[0].GetValues()) != 1 {
			t.Errorf("right = %v", recs)
		}
		_, err = e.runs.ListUnmatched(e.ctx, connect.NewRequest(&kallav1.ListUnmatchedRequest{RunId: runID}))
		wantCode(t, err, connect.CodeInvalidArgument)
		_, err = e.runs.ListUnmatched(e.ctx, connect.NewRequest(&kallav1.ListUnmatchedRequest{RunId: runID, Side: kallav1.Side_SIDE_LEFT, PageToken: "??"}))
		wantCode(t, err, connect.CodeInvalidArgument)
	})
}
