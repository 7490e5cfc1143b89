// Package extract copies one chunk of a PostgreSQL table into a Parquet
// file, streaming: rows arrive in binary form and leave in batches, so a
// chunk is never held whole in memory.
package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/source"
)

// batchRows is how many rows go into one Arrow record before it is written.
const batchRows = 64 * 1024

// PostgreSQL's binary epochs start at 2000-01-01; Arrow's at 1970-01-01.
const (
	pgEpochDays   = 10957
	pgEpochMicros = int64(pgEpochDays) * 86400 * 1_000_000
)

// ErrBadValue marks a value that cannot be converted to its column's type
// (a numeric with more decimal places than the column's scale, say): the
// chunk can never succeed, however often it is retried.
var ErrBadValue = errors.New("value cannot be converted")

// Range is the part of a source that one chunk reads.
type Range interface {
	// Where is the SQL condition selecting the range's rows.
	Where() string
}

// Blocks is a half-open range of heap pages [Start, End); End 0 means to
// the end of the table. Table, when set, is the leaf partition of a
// partitioned source whose pages these are.
type Blocks struct {
	Start, End int64
	Table      string `json:",omitempty"`
}

// Where is the TID range condition for the blocks: PostgreSQL runs it as a
// TID range scan, reading only those pages.
func (b Blocks) Where() string {
	w := fmt.Sprintf("ctid >= '(%d,0)'::tid", b.Start)
	if b.End > 0 {
		w += fmt.Sprintf(" AND ctid < '(%d,0)'::tid", b.End)
	}
	return w
}

// Keys is a half-open range [Start, End) of a key column, for sources
// without heap pages of their own (views, partitioned tables); a nil bound
// is open, and no column means every row. An integer key has Start and End;
// a key of another type has StartText and EndText, its values in
// PostgreSQL's text form, which the database compares as the column's type
// (text in its collation, as the plan's n-tiles ordered it). The range with
// an open end also takes rows whose key is NULL, so none is left out: the
// executor's key check then names them. A key of several columns has
// Columns instead of Column, and rows of text values as bounds, compared
// as rows (lexicographically, each value as its column's type).
type Keys struct {
	Column             string  `json:"column,omitempty"`
	Start, End         *int64  `json:",omitempty"`
	StartText, EndText *string `json:",omitempty"`

	Columns          []string `json:"columns,omitempty"`
	StartRow, EndRow []string `json:",omitempty"`
}

// Where is the key range condition.
func (k Keys) Where() string {
	if len(k.Columns) > 0 {
		return k.rowWhere()
	}
	start, end := literal(k.Start, k.StartText), literal(k.End, k.EndText)
	if k.Column == "" || start == "" && end == "" {
		return "true"
	}
	col := pgx.Identifier{k.Column}.Sanitize()
	var conds []string
	if start != "" {
		conds = append(conds, fmt.Sprintf("%s >= %s", col, start))
	}
	if end != "" {
		return strings.Join(append(conds, fmt.Sprintf("%s < %s", col, end)), " AND ")
	}
	return fmt.Sprintf("(%s OR %s IS NULL)", conds[0], col)
}

// rowWhere is the condition of a range of a key of several columns. A row
// with a NULL in its key compares as unknown once the comparison reaches
// that column, or by an earlier column alone: such rows are kept out of
// every range but the last, which takes them all.
func (k Keys) rowWhere() string {
	cols := make([]string, len(k.Columns))
	var set, null []string
	for i, c := range k.Columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
		set = append(set, cols[i]+" IS NOT NULL")
		null = append(null, cols[i]+" IS NULL")
	}
	row := "(" + strings.Join(cols, ", ") + ")"
	conds := set
	if len(k.StartRow) > 0 {
		conds = append(conds, row+" >= "+rowLiteral(k.StartRow))
	}
	if len(k.EndRow) > 0 {
		return strings.Join(append(conds, row+" < "+rowLiteral(k.EndRow)), " AND ")
	}
	return fmt.Sprintf("((%s) OR %s)", strings.Join(conds, " AND "), strings.Join(null, " OR "))
}

func rowLiteral(values []string) string {
	lits := make([]string, len(values))
	for i := range values {
		lits[i] = literal(nil, &values[i])
	}
	return "(" + strings.Join(lits, ", ") + ")"
}

// literal renders a bound as SQL, "" when it is open. Text becomes an
// escape string literal, which reads the same whatever the server's
// standard_conforming_strings, and which the database types as the column.
func literal(i *int64, text *string) string {
	switch {
	case i != nil:
		return strconv.FormatInt(*i, 10)
	case text != nil:
		return source.PostgresString(*text)
	}
	return ""
}

// Chunk writes the rows of table (or of the leaf partition r's blocks
// name) within r that meet keep (every row when it is "") to w as Parquet
// (zstd) with the schema's exact types, and returns how many rows it
// wrote. check is called between batches; an error from it (a cancelled
// run) stops the copy.
func Chunk(ctx context.Context, conn *pgx.Conn, table string, schema source.Schema, r Range, keep string, w io.Writer, check func() error) (int64, error) {
	arrowSchema := arrowSchema(schema)
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		// zstd's fastest level and decimals of up to 18 digits as plain
		// integers: a chunk is staged about a quarter faster for about
		// 15% more bytes (BenchmarkChunk).
		parquet.WithCompressionLevel(1),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithDictionaryDefault(false),
		// Nothing filters staged parts by their min and max.
		parquet.WithStats(false),
	)
	fw, err := pqarrow.NewFileWriter(arrowSchema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return 0, err
	}
	rows, err := conn.Query(ctx, selectSQL(table, schema, r, keep), pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrowSchema)
	defer b.Release()
	var n int64
	for rows.Next() {
		if err := appendRow(b, schema, rows.RawValues()); err != nil {
			return n, fmt.Errorf("row %d of %s: %w: %w", n+1, table, ErrBadValue, err)
		}
		n++
		if n%batchRows == 0 {
			if err := flush(fw, b); err != nil {
				return n, err
			}
			if err := check(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read %s: %w", table, err)
	}
	if err := flush(fw, b); err != nil {
		return n, err
	}
	return n, fw.Close()
}

func flush(fw *pqarrow.FileWriter, b *array.RecordBuilder) error {
	rec := b.NewRecordBatch()
	defer rec.Release()
	if rec.NumRows() == 0 {
		return nil
	}
	return fw.Write(rec)
}

// selectSQL reads every column of the rows in r that meet keep (if any);
// numerics as text, so their exact digits reach the decimal parser
// unchanged (SelectColumn reads text as text).
func selectSQL(table string, s source.Schema, r Range, keep string) string {
	cols := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		cols[i] = source.SelectColumn(c)
		if c.Type == source.Decimal {
			cols[i] += "::text"
		}
	}
	where := r.Where()
	if keep != "" {
		where = "(" + where + ") AND " + keep
	}
	return fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(cols, ", "), source.QuoteTable(rangeTable(table, r)), where)
}

// Count is how many rows the range r holds, in conn's snapshot.
func Count(ctx context.Context, conn *pgx.Conn, table string, r Range) (int64, error) {
	var n int64
	err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", source.QuoteTable(rangeTable(table, r)), r.Where())).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the rows of %s: %w", table, err)
	}
	return n, nil
}

// rangeTable is the table r reads: a partition of table, or table.
func rangeTable(table string, r Range) string {
	if b, ok := r.(Blocks); ok && b.Table != "" {
		return b.Table
	}
	return table
}

func arrowSchema(s source.Schema) *arrow.Schema {
	fields := make([]arrow.Field, len(s.Columns))
	for i, c := range s.Columns {
		fields[i] = arrow.Field{Name: c.Name, Type: arrowType(c), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

func arrowType(c source.Column) arrow.DataType {
	switch c.Type {
	case source.Integer:
		return arrow.PrimitiveTypes.Int64
	case source.Decimal:
		return &arrow.Decimal128Type{Precision: int32(c.Precision), Scale: int32(c.Scale)}
	case source.Date:
		return arrow.FixedWidthTypes.Date32
	case source.Timestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case source.Boolean:
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.BinaryTypes.String
}

func appendRow(b *array.RecordBuilder, s source.Schema, raw [][]byte) error {
	for i, c := range s.Columns {
		v := raw[i]
		f := b.Field(i)
		if v == nil {
			f.AppendNull()
			continue
		}
		if err := appendValue(f, c, v); err != nil {
			return fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	return nil
}

func appendValue(f array.Builder, c source.Column, v []byte) error {
	switch c.Type {
	case source.Integer:
		f.(*array.Int64Builder).Append(binaryInt(v))
	case source.Decimal:
		d, err := parseDecimal(v, c.Scale)
		if err != nil {
			return err
		}
		f.(*array.Decimal128Builder).Append(d)
	case source.Date:
		f.(*array.Date32Builder).Append(arrow.Date32(int32(binary.BigEndian.Uint32(v)) + pgEpochDays))
	case source.Timestamp:
		f.(*array.TimestampBuilder).Append(arrow.Timestamp(int64(binary.BigEndian.Uint64(v)) + pgEpochMicros))
	case source.Boolean:
		f.(*array.BooleanBuilder).Append(v[0] == 1)
	default:
		f.(*array.StringBuilder).BinaryBuilder.Append(v)
	}
	return nil
}

// smallDecimal is parseDecimal's fast path, without allocating: values of
// at most 18 digits, which fit an int64 whatever the digits. It reports
// false for anything else, which the exact path then handles or refuses.
func smallDecimal(intPart, frac []byte, scale int) (int64, bool) {
	neg := bytes.HasPrefix(intPart, []byte("-"))
	if neg {
		intPart = intPart[1:]
	}
	if len(intPart) == 0 || len(intPart)+scale > 18 {
		return 0, false
	}
	var n int64
	for _, part := range [2][]byte{intPart, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int64(c-'0')
		}
	}
	for range scale - len(frac) {
		n *= 10
	}
	if neg {
		n = -n
	}
	return n, true
}

// binaryInt reads int2, int4 or int8 in network byte order.
func binaryInt(v []byte) int64 {
	switch len(v) {
	case 2:
		return int64(int16(binary.BigEndian.Uint16(v)))
	case 4:
		return int64(int32(binary.BigEndian.Uint32(v)))
	}
	return int64(binary.BigEndian.Uint64(v))
}

// parseDecimal turns PostgreSQL's numeric text into an exact decimal of the
// given scale; more fraction digits than the scale is an error, never a
// rounding.
func parseDecimal(v []byte, scale int) (decimal128.Num, error) {
	intPart, frac, _ := bytes.Cut(v, []byte("."))
	if len(frac) > scale {
		if len(bytes.TrimRight(frac[scale:], "0")) > 0 {
			return decimal128.Num{}, fmt.Errorf("%s has more than %d decimal places", v, scale)
		}
		frac = frac[:scale]
	}
	if n, ok := smallDecimal(intPart, frac, scale); ok {
		return decimal128.FromI64(n), nil
	}
	digits := string(intPart) + string(frac) + strings.Repeat("0", scale-len(frac))
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return decimal128.Num{}, fmt.Errorf("%q is not a number", v)
	}
	return decimal128.FromBigInt(n), nil
}
