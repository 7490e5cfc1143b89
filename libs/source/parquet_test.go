package source_test

import (
	"context"
	"math"
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
		if s.Rows != 4 {
			t.Errorf("rows = %d, want 4: the parts' 2 each", s.Rows)
		}
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

// TestFileWithoutExtension: a file named without an extension, taken for a
// directory of Parquet parts by its name, is refused as what it is, with
// types set or not.
func TestFileWithoutExtension(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger")
	if err := os.WriteFile(path, []byte("id\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ref, err := source.Parse("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	for _, types := range []map[string]source.Setting{nil, {"id": {Type: source.Text}}} {
		_, err := source.ReadSchema(context.Background(), ref, path, source.CSVOptions{Types: types})
		if want := path + " is a file without an extension: Kalla reads a .csv, .tsv, .csv.gz, .tsv.gz, .xlsx, .xlsm or .parquet file, or a directory"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("types %v: err = %v, want %s", types, err, want)
		}
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
	s, err := source.ParquetSchema(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "holds floating-point numbers that together need 41 digits as exact decimals (0 before the point, 41 after it), and Kalla computes with at most 38"
	if c := s.Columns[0]; c.Type != source.Text || c.Float || c.Unfit != want {
		t.Errorf("tiny = %+v, want text, unfit: %s", c, want)
	}
}

// writeColumn writes a Parquet file at path of one column, a, of type typ,
// whose values append adds.
func writeColumn(t *testing.T, path string, typ arrow.DataType, appendValues func(array.Builder)) {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "a", Type: typ, Nullable: true}}, nil))
	defer b.Release()
	appendValues(b.Field(0))
	writeRecord(t, path, b)
}

func TestParquetTypes(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		typ    arrow.DataType
		values func(array.Builder)
		want   string // the column's type, or the error
	}{
		"uint64_is_a_wide_decimal":    {arrow.PrimitiveTypes.Uint64, func(b array.Builder) { b.(*array.Uint64Builder).Append(1 << 63) }, "decimal(20,0)"},
		"decimal256_within_38_digits": {&arrow.Decimal256Type{Precision: 10, Scale: 2}, func(b array.Builder) { b.AppendNull() }, "decimal(10,2)"},
		"decimal256_beyond_38_digits": {&arrow.Decimal256Type{Precision: 40, Scale: 2}, func(b array.Builder) { b.AppendNull() },
			"column a is decimal256(40, 2), wider than the 38 digits Kalla reads exactly"},
		"null_type_is_empty": {arrow.Null, func(b array.Builder) { b.AppendNull() }, "text, empty"},
		"nan_is_unfit":       {arrow.PrimitiveTypes.Float32, func(b array.Builder) { b.(*array.Float32Builder).AppendValues([]float32{1, float32(math.NaN())}, nil) }, "text, unfit: holds NaN, which is no number to compare exactly"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.parquet")
			writeColumn(t, path, tt.typ, tt.values)
			s, err := source.ParquetSchema(path)
			got := ""
			switch {
			case err != nil:
				got = strings.TrimPrefix(err.Error(), "read "+path+": ")
			case s.Columns[0].Empty:
				got = s.Columns[0].TypeName() + ", empty"
			case s.Columns[0].Unfit != "":
				got = s.Columns[0].TypeName() + ", unfit: " + s.Columns[0].Unfit
			default:
				got = s.Columns[0].TypeName()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestParquetParts: the parts of a directory are one table, so they must
// agree on their columns; widths of integers and decimals may differ, and a
// part's column without values takes the others' type.
func TestParquetParts(t *testing.T) {
	t.Parallel()
	int32s := func(b array.Builder) { b.(*array.Int32Builder).Append(1) }
	int64s := func(b array.Builder) { b.(*array.Int64Builder).Append(1) }
	nulls := func(b array.Builder) { b.AppendNull() }
	float32s := func(b array.Builder) { b.(*array.Float32Builder).Append(1.5) }
	float64s := func(b array.Builder) { b.(*array.Float64Builder).Append(1.5) }
	type part struct {
		typ    arrow.DataType
		values func(array.Builder)
	}
	for name, tt := range map[string]struct {
		parts []part
		want  string
	}{
		"integer_widths":         {[]part{{arrow.PrimitiveTypes.Int32, int32s}, {arrow.PrimitiveTypes.Int64, int64s}}, "integer"},
		"decimal_widths":         {[]part{{&arrow.Decimal128Type{Precision: 5, Scale: 1}, nulls}, {&arrow.Decimal128Type{Precision: 5, Scale: 2}, nulls}}, "decimal(6,2)"},
		"empty_part":             {[]part{{arrow.Null, nulls}, {arrow.PrimitiveTypes.Int64, int64s}}, "integer"},
		"strings_however_stored": {[]part{{arrow.BinaryTypes.String, nulls}, {arrow.BinaryTypes.LargeString, nulls}}, "text"},
		"float_widths": {[]part{{arrow.PrimitiveTypes.Float32, float32s}, {arrow.PrimitiveTypes.Float64, float64s}},
			"column a is float32 in part-0.PARQUET but float64 in part-1.parquet: the parts of a directory are read as one table, so a column must have one type in all of them"},
		"text_and_integer": {[]part{{arrow.PrimitiveTypes.Int64, int64s}, {arrow.BinaryTypes.String, nulls}},
			"column a is int64 in part-0.PARQUET but utf8 in part-1.parquet: the parts of a directory are read as one table, so a column must have one type in all of them"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// Upper-case extensions are parts too.
			for i, p := range tt.parts {
				writeColumn(t, filepath.Join(dir, []string{"part-0.PARQUET", "part-1.parquet"}[i]), p.typ, p.values)
			}
			s, err := source.ParquetSchema(dir)
			got := ""
			if err != nil {
				got = strings.ReplaceAll(err.Error(), dir+"/", "")
			} else {
				got = s.Columns[0].TypeName()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("missing_column", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeParquet(t, filepath.Join(dir, "part-0.parquet"))
		writeColumn(t, filepath.Join(dir, "part-1.parquet"), arrow.PrimitiveTypes.Int64, int64s)
		_, err := source.ParquetSchema(dir)
		if err == nil || !strings.Contains(err.Error(), "part-1.parquet has no column i32, which") {
			t.Errorf("err = %v", err)
		}
	})
}
