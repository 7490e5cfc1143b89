package xlsx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestTooLarge: evidence of more rows than a sheet holds is refused before
// anything is written. (A sheet's 1,048,575 rows would make a slow test:
// the limit is the test's.)
func TestTooLarge(t *testing.T) {
	t.Parallel()
	src := filepath.Join(t.TempDir(), "x.parquet")
	if err := os.WriteFile(src, parquetOfRows(t, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "x.xlsx")
	err := fromParquet(t.Context(), src, dst, "matched", limits{rows: 2, columns: 1})
	var tooLarge *TooLargeError
	if want := "matched holds 3 rows, more than an Excel sheet holds (2 under its header)"; !errors.As(err, &tooLarge) || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a workbook written: %v", err)
	}
	err = fromParquet(t.Context(), src, dst, "matched", limits{rows: 3, columns: 0})
	if want := "matched has 1 columns, more than the 0 of an Excel sheet"; !errors.As(err, &tooLarge) || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if err := fromParquet(t.Context(), src, dst, "matched", limits{rows: 3, columns: 1}); err != nil {
		t.Errorf("3 rows and a column under limits of 3 and 1: %v", err)
	}
}

// parquetOfRows is a Parquet file of n rows of one integer column.
func parquetOfRows(t *testing.T, n int) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "match_id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i + 1))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tbl.Release()
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, 1024, nil, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
