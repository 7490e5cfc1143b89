// Package xlsx writes evidence as Excel workbooks, for the people who
// review a reconciliation in a spreadsheet: a Parquet file's rows become a
// sheet of typed cells under a header row.
package xlsx

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// MaxRows is how many rows a sheet holds under its header: Excel's
// 1,048,576 less one.
const MaxRows = 1<<20 - 1

// maxText is how many characters an Excel cell holds.
const maxText = 32767

// TooLargeError is the error of evidence that a workbook cannot hold: too
// many rows, or a value too long for a cell.
type TooLargeError struct{ What string }

func (e *TooLargeError) Error() string { return e.What }

// FromParquet writes the rows of the Parquet file src as the workbook dst,
// on one sheet named sheet, under a header row of the column names:
// numbers as numbers (those Excel's doubles would round, past 15
// significant digits, as text, exactly), decimals shown at their scale,
// dates and timestamps as dates (before 1900-03-01, as ISO text),
// booleans as booleans, empty values as empty cells, the rest as text.
func FromParquet(ctx context.Context, src, dst, sheet string) error {
	return fromParquet(ctx, src, dst, sheet, sheetLimits)
}

// limits are how many rows (under the header) and columns a sheet holds.
type limits struct {
	rows    int64
	columns int
}

var sheetLimits = limits{rows: MaxRows, columns: 16384} // columns A to XFD

func fromParquet(ctx context.Context, src, dst, sheet string, lim limits) error {
	pf, err := file.OpenParquetFile(src, false)
	if err != nil {
		return err
	}
	defer pf.Close()
	if n := pf.NumRows(); n > lim.rows {
		return &TooLargeError{fmt.Sprintf("%s holds %d rows, more than an Excel sheet holds (%d under its header)", sheet, n, lim.rows)}
	}
	if n := pf.MetaData().Schema.NumColumns(); n > lim.columns {
		return &TooLargeError{fmt.Sprintf("%s has %d columns, more than the %d of an Excel sheet", sheet, n, lim.columns)}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 16 << 10}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	err = write(out, sheet, rr)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}

// write writes the workbook of the records rr reads to w.
func write(w io.Writer, sheet string, rr array.RecordReader) error {
	z := zip.NewWriter(w)
	// A sheet's XML compresses well at the fastest level; the default
	// level took longer than writing the XML.
	z.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	fields := rr.Schema().Fields()
	st := newStyles(fields)
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", contentTypes},
		{"_rels/.rels", rootRels},
		{"xl/workbook.xml", fmt.Sprintf(workbookXML, escape(sheet))},
		{"xl/_rels/workbook.xml.rels", workbookRels},
		{"xl/styles.xml", st.xml()},
	} {
		if err := put(z, part.name, part.body); err != nil {
			return err
		}
	}
	pw, err := z.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(pw, 1<<20)
	bw.WriteString(xmlHeader + `<worksheet xmlns="` + mainNS + `"><sheetViews><sheetView workbookViewId="0">` +
		`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>`)
	bw.WriteString(`<row r="1">`)
	for i, f := range fields {
		if err := textCell(bw, cellRef(i, 1), f.Name, styleHeader); err != nil {
			return &TooLargeError{fmt.Sprintf("%s, column %d's name: %v", sheet, i+1, err)}
		}
	}
	bw.WriteString(`</row>`)
	row := 1
	for rr.Next() {
		rec := rr.RecordBatch()
		for r := range int(rec.NumRows()) {
			row++
			bw.WriteString(`<row r="` + strconv.Itoa(row) + `">`)
			for c, col := range rec.Columns() {
				if err := cell(bw, cellRef(c, row), col, r, st.of[c]); err != nil {
					return &TooLargeError{fmt.Sprintf("%s, row %d, column %s: %v", sheet, row, fields[c].Name, err)}
				}
			}
			bw.WriteString(`</row>`)
		}
	}
	if err := rr.Err(); err != nil {
		return err
	}
	bw.WriteString(`</sheetData></worksheet>`)
	if err := bw.Flush(); err != nil {
		return err
	}
	return z.Close()
}

func put(z *zip.Writer, name, body string) error {
	w, err := z.Create(name)
	if err == nil {
		_, err = io.WriteString(w, body)
	}
	return err
}

// cell writes row r of col as the cell ref, with the column's style.
func cell(w *bufio.Writer, ref string, col arrow.Array, r int, style int) error {
	if col.IsNull(r) {
		return nil
	}
	switch a := col.(type) {
	case *array.Int8, *array.Int16, *array.Int32, *array.Int64, *array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64:
		n := a.ValueStr(r)
		if len(strings.TrimPrefix(n, "-")) > 15 {
			return textCell(w, ref, n, 0) // a double would round it
		}
		numberCell(w, ref, n, style)
	case *array.Float32, *array.Float64:
		f, _ := strconv.ParseFloat(a.ValueStr(r), 64)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return textCell(w, ref, a.ValueStr(r), 0)
		}
		numberCell(w, ref, strconv.FormatFloat(f, 'g', -1, 64), style)
	case *array.Decimal128:
		return decimalCell(w, ref, a.Value(r).ToString(a.DataType().(*arrow.Decimal128Type).Scale), style)
	case *array.Boolean:
		v := "0"
		if a.Value(r) {
			v = "1"
		}
		w.WriteString(`<c r="` + ref + `" t="b"><v>` + v + `</v></c>`)
	case *array.Date32:
		return dateCell(w, ref, a.Value(r).ToTime(), style)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return dateCell(w, ref, a.Value(r).ToTime(unit).UTC(), style)
	default:
		return textCell(w, ref, a.ValueStr(r), 0)
	}
	return nil
}

func numberCell(w *bufio.Writer, ref, v string, style int) {
	w.WriteString(`<c r="` + ref + `"` + styleAttr(style) + `><v>` + v + `</v></c>`)
}

// decimalCell writes a decimal, as written at its scale: a number where
// a double holds it to 15 significant digits, as Excel shows numbers;
// text otherwise, so that no amount is rounded.
func decimalCell(w *bufio.Writer, ref, text string, style int) error {
	significant := strings.TrimLeft(strings.TrimPrefix(text, "-"), "0.")
	if strings.Contains(significant, ".") {
		significant = strings.TrimRight(significant, "0") // 1.500000 is 1.5
	}
	digits := 0
	for _, c := range significant {
		if c != '.' {
			digits++
		}
	}
	if digits > 15 {
		return textCell(w, ref, text, 0)
	}
	numberCell(w, ref, text, style)
	return nil
}

// excelEpoch is day 0 of Excel's 1900 date system, as counted from
// 1900-03-01 on (Excel counts a 29 February 1900 that never was).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// dateCell writes t as a date serial number; a date before 1900-03-01,
// which Excel counts otherwise or not at all, or after 9999-12-31, which
// it cannot show, as ISO text.
func dateCell(w *bufio.Writer, ref string, t time.Time, style int) error {
	if t.Before(time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)) || t.Year() > 9999 {
		layout := "2006-01-02"
		if style == styleDateTime {
			layout = "2006-01-02 15:04:05.999999"
		}
		return textCell(w, ref, t.Format(layout), 0)
	}
	// Seconds, not a time.Duration: one spans 292 years at most.
	secs := t.Unix() - excelEpoch.Unix()
	days := (float64(secs) + float64(t.Nanosecond())/1e9) / 86400
	numberCell(w, ref, strconv.FormatFloat(days, 'f', -1, 64), style)
	return nil
}

// textCell writes s as an inline string: Excel reads no shared strings
// table less well, and evidence text is mostly unique.
func textCell(w *bufio.Writer, ref, s string, style int) error {
	if n := utf16Len(s); n > maxText {
		return fmt.Errorf("its value of %d characters is longer than the %d an Excel cell holds", n, maxText)
	}
	w.WriteString(`<c r="` + ref + `" t="inlineStr"` + styleAttr(style) + `><is><t xml:space="preserve">`)
	w.WriteString(escapeText(s))
	w.WriteString(`</t></is></c>`)
	return nil
}

// utf16Len is s's length as Excel counts a cell's text, in UTF-16 units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func styleAttr(style int) string {
	if style == 0 {
		return ""
	}
	return ` s="` + strconv.Itoa(style) + `"`
}

// cellRef names the cell of column col (from 0) on row: A1, AB7.
func cellRef(col, row int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b) + strconv.Itoa(row)
}

// escape escapes XML's markup characters.
func escape(s string) string { return markup.Replace(s) }

var markup = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// escapeText escapes s for a cell: markup characters, the characters XML
// cannot hold or would change (controls but tab and line feed) as Excel
// writes them, _xHHHH_, and an underscore that would read as the start of
// such an escape.
func escapeText(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '_' && isEscape(s[i:]):
			b.WriteString("_x005F_")
		case r < 0x20 && r != '\t' && r != '\n', r == 0xFFFE, r == 0xFFFF:
			// A carriage return too: XML reads a raw one as a line feed.
			fmt.Fprintf(&b, "_x%04X_", r)
		case r == utf8.RuneError && !validAt(s, i):
			b.WriteString("\uFFFD")
		default:
			b.WriteRune(r)
		}
	}
	return escape(b.String())
}

// plain says whether s is valid UTF-8 without a character escapeText
// changes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 && c != '\t' && c != '\n', c == '_', c == '&', c == '<', c == '>', c == '"', c == 0xEF:
			return false // 0xEF begins U+FFFE and U+FFFF among others
		}
	}
	return utf8.ValidString(s)
}

// isEscape says whether s begins with _xHHHH_.
func isEscape(s string) bool {
	if len(s) < 7 || s[1] != 'x' || s[6] != '_' {
		return false
	}
	_, err := strconv.ParseUint(s[2:6], 16, 16)
	return err == nil
}

func validAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return r != utf8.RuneError || size > 1
}
