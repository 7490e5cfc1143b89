package source_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/kallahq/kalla/libs/source"
)

// writeParquet writes a two-row file with one column of each kind.
func writeParquet(t *testing.T, path string) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "ratio", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).AppendValues([]int32{1, 2}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	b.Field(2).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(1050), decimal128.FromI64(-5)}, nil)
	b.Field(3).(*array.Date32Builder).AppendValues([]arrow.Date32{19000, 19001}, nil)
	b.Field(4).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1, 2}, nil)
	b.Field(5).(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
	b.Field(6).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	b.Field(7).(*array.Float64Builder).AppendValues([]float64{0.5, 1.5}, nil)
	writeRecord(t, path, b)
}

// writeRecord writes the record b holds to a Parquet file at path.
func writeRecord(t *testing.T, path string, b *array.RecordBuilder) {
	t.Helper()
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(rec.Schema(), f, nil, pqarrow.DefaultWriterProps())
	if err == nil {
		err = w.Write(rec)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestParquetSchema(t *testing.T) {
	t.Parallel()
	want := map[string]string{"i32": "integer", "i64": "integer", "amount": "decimal(12,2)", "day": "date",
		"at": "timestamp", "ok": "boolean", "name": "text", "ratio": "decimal(2,1)"}
	check := func(t *testing.T, s source.Schema) {
		t.Helper()
		if len(s.Columns) != len(want) || s.Columns[0].Name != "i32" {
			t.Fatalf("columns = %s", s.Names())
		}
		for _, c := range s.Columns {
			if c.TypeName() != want[c.Name] || c.Float != (c.Name == "ratio") {
				t.Errorf("column %s: %s (float %t), want %s", c.Name, c.TypeName(), c.Float, want[c.Name])
			}
		}
	}
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "x.parquet")
		writeParquet(t, path)
		s, err := source.ParquetSchema(path)
		if err != nil {
			t.Fatal(err)
		}
		check(t, s)
		if s.Rows != 2 {
			t.Errorf("rows = %d, want 2", s.Rows)
		}
	})
	t.Run("directory_of_parts", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeParquet(t, filepath.Join(dir, "part-00001.parquet"))
		writeParquet(t, filepath.Join(dir, "part-00000.parquet"))
		os.WriteFile(filepath.Join(dir, "_SUCCESS"), nil, 0o644)
		s, err := source.ParquetSchema(dir)
		if err != nil {
			t.Fatal(err)
		}
		check(t, s)
	})
}

func TestParquetSchemaErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notParquet := filepath.Join(dir, "bad.parquet")
	os.WriteFile(notParquet, []byte("not parquet at all"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	for name, path := range map[string]string{
		"missing":     filepath.Join(dir, "missing.parquet"),
		"not_parquet": notParquet,
		"empty_dir":   empty,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := source.ParquetSchema(path); err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v, want an error naming %s", err, path)
			}
		})
	}
}

func TestParquetFloatsWiderThanDecimals(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.parquet")
	schema := arrow.NewSchema([]arrow.Field{{Name: "tiny", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	// The wide value comes last, past the first batch the reader measures.
	values := make([]float64, 70_001)
	values[len(values)-1] = 1.5e-40
	b.Field(0).(*array.Float64Builder).AppendValues(values, nil)
	writeRecord(t, path, b)
	_, err := source.ParquetSchema(path)
	if err == nil || !strings.Contains(err.Error(), "column tiny holds floating-point numbers such as 0.00000000000000000000000000000000000000015, wider than an exact decimal of 38 digits") {
		t.Errorf("err = %v", err)
	}
}
