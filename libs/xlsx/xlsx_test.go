package xlsx_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/xlsx"
)

// column is a Parquet column of test rows; nil values are empty.
type column struct {
	field  arrow.Field
	values []any
}

// parquetFile writes the columns, of rows rows, as a Parquet file.
func parquetFile(t *testing.T, cols []column, rows int) string {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = c.field
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, c := range cols {
		for r := range rows {
			v := c.values[r%len(c.values)]
			if v == nil {
				b.Field(i).AppendNull()
				continue
			}
			switch fb := b.Field(i).(type) {
			case *array.Int64Builder:
				fb.Append(v.(int64))
			case *array.Float64Builder:
				fb.Append(v.(float64))
			case *array.Decimal128Builder:
				n, err := decimal128.FromString(v.(string), 38, c.field.Type.(*arrow.Decimal128Type).Scale)
				if err != nil {
					t.Fatal(err)
				}
				fb.Append(n)
			case *array.Date32Builder:
				fb.Append(arrow.Date32FromTime(v.(time.Time)))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.StringBuilder:
				fb.Append(v.(string))
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tbl.Release()
	path := filepath.Join(t.TempDir(), "evidence.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pqarrow.WriteTable(tbl, f, 1024, nil, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// TestFromParquet: every kind of evidence value reads back from the
// workbook, through Kalla's own workbook reader, as the value written, and
// the sheet shows decimals at their scale and dates as ISO dates.
func TestFromParquet(t *testing.T) {
	t.Parallel()
	cols := []column{
		{arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, []any{int64(1), int64(-42), int64(1234567890123456789), nil}},
		{arrow.Field{Name: "amount", Type: &arrow.Decimal128Type{Precision: 38, Scale: 2}, Nullable: true},
			[]any{"1200.00", "-0.50", "1234567890123456.78", nil}},
		{arrow.Field{Name: "rate", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, []any{0.1, math.NaN(), 1e-7, nil}},
		{arrow.Field{Name: "booked", Type: arrow.FixedWidthTypes.Date32, Nullable: true}, []any{day(2024, 3, 5), day(1899, 12, 31), day(1900, 3, 1), nil}},
		{arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
			[]any{time.Date(2024, 3, 5, 13, 45, 7, 0, time.UTC), day(2024, 1, 1), time.Date(1850, 1, 1, 12, 0, 0, 0, time.UTC), nil}},
		{arrow.Field{Name: "paid", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}, []any{true, false, true, nil}},
		{arrow.Field{Name: "memo", Type: arrow.BinaryTypes.String, Nullable: true},
			[]any{`ACME <b> & "Co"`, "two\nlines\ttab", "bell\a _x0041_ literal", "all else empty"}},
	}
	dst, got := workbookOf(t, parquetFile(t, cols, 4), "matched")
	// Numbers as Excel shows them; those a double would round, dates
	// before 1900-03-01 and NaN as text, exactly.
	want := "id,amount,rate,booked,at,paid,memo\n" +
		"1,1200,0.1,2024-03-05,2024-03-05 13:45:07,TRUE,\"ACME <b> & \"\"Co\"\"\"\n" +
		"-42,-0.5,NaN,1899-12-31,2024-01-01 00:00:00,FALSE,\"two\nlines\ttab\"\n" +
		"1234567890123456789,1234567890123456.78,0.0000001,1900-03-01,1850-01-01 12:00:00,TRUE,bell\a _x0041_ literal\n" +
		",,,,,,all else empty\n"
	if got != want {
		t.Errorf("read back:\n%q\nwant\n%q", got, want)
	}
	styles := part(t, dst, "xl/styles.xml")
	for _, code := range []string{`formatCode="0.00"`, `formatCode="yyyy\-mm\-dd"`} {
		if !strings.Contains(styles, code) {
			t.Errorf("styles lack %s:\n%s", code, styles)
		}
	}
	if sheet := part(t, dst, "xl/worksheets/sheet1.xml"); !strings.Contains(sheet, `state="frozen"`) {
		t.Errorf("the header row is not frozen:\n%s", sheet[:min(len(sheet), 400)])
	}
}

// workbookOf writes the Parquet file src as a workbook of one sheet named
// sheet and returns its path and its rows as Kalla's own workbook reader
// reads them, written as CSV.
func workbookOf(t *testing.T, src, sheet string) (string, string) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), sheet+".xlsx")
	if err := xlsx.FromParquet(t.Context(), src, dst, sheet); err != nil {
		t.Fatal(err)
	}
	s, err := source.CSVSchema(dst, source.CSVOptions{Sheet: sheet})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, _, err := source.RewriteCSV(dst, s.CSV, &out); err != nil {
		t.Fatal(err)
	}
	return dst, out.String()
}

// part is the text of the part name of the workbook at path.
func part(t *testing.T, path, name string) string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	f, err := z.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFromParquetRefuses: a value longer than a cell holds fails the
// workbook, which is not left behind.
func TestFromParquetRefuses(t *testing.T) {
	t.Parallel()
	src := parquetFile(t, []column{{arrow.Field{Name: "memo", Type: arrow.BinaryTypes.String}, []any{strings.Repeat("x", 32768)}}}, 1)
	dst := filepath.Join(t.TempDir(), "x.xlsx")
	err := xlsx.FromParquet(t.Context(), src, dst, "x")
	var tooLarge *xlsx.TooLargeError
	if want := "x, row 2, column memo: its value of 32768 characters is longer than the 32767 an Excel cell holds"; !errors.As(err, &tooLarge) || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a workbook left behind: %v", err)
	}
}

// TestFromParquetEdges: dates far from today, decimals of a wide scale,
// carriage returns, and text as long as Excel counts it.
func TestFromParquetEdges(t *testing.T) {
	t.Parallel()
	cols := []column{
		{arrow.Field{Name: "until", Type: arrow.FixedWidthTypes.Date32, Nullable: true}, []any{day(9999, 12, 31), day(2300, 1, 1), day(2192, 4, 10)}},
		{arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
			[]any{time.Date(2300, 6, 1, 12, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC), nil}},
		{arrow.Field{Name: "rate", Type: &arrow.Decimal128Type{Precision: 38, Scale: 18}, Nullable: true},
			[]any{"1.500000000000000000", "12345.678901234567890000", nil}},
		{arrow.Field{Name: "memo", Type: arrow.BinaryTypes.String, Nullable: true}, []any{"a\r\nb", "c\rd", nil}},
	}
	dst, got := workbookOf(t, parquetFile(t, cols, 3), "edges")
	// 1.5 at scale 18 is a number; 12345.67890123456789 needs 19 digits:
	// text, exactly.
	want := "until,at,rate,memo\n" +
		"9999-12-31,2300-06-01 12:00:00,1.5,\"a\r\nb\"\n" +
		"2300-01-01,2024-02-29 23:59:59,12345.678901234567890000,\"c\rd\"\n" +
		"2192-04-10,,,\n"
	if got != want {
		t.Errorf("read back:\n%q\nwant\n%q", got, want)
	}
	if sheet := part(t, dst, "xl/worksheets/sheet1.xml"); strings.Contains(sheet, "\r") {
		t.Error("a raw carriage return in the sheet: XML reads it as a line feed")
	}
	emoji := parquetFile(t, []column{{arrow.Field{Name: "memo", Type: arrow.BinaryTypes.String}, []any{strings.Repeat("😀", 16384)}}}, 1)
	var tooLarge *xlsx.TooLargeError
	if err := xlsx.FromParquet(t.Context(), emoji, filepath.Join(t.TempDir(), "e.xlsx"), "e"); !errors.As(err, &tooLarge) {
		t.Errorf("16,384 emoji (32,768 UTF-16 units): err = %v, want a TooLargeError", err)
	}
}
