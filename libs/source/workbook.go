package source

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// Workbook says whether the file at path is an Excel workbook (.xlsx, or
// .xlsm with macros), whose sheet Kalla reads as it reads a CSV file: a
// header row naming the columns (or the recipe's columns), then a record
// a row.
func Workbook(path string) bool {
	ext := FileExt(path)
	return ext == ".xlsx" || ext == ".xlsm"
}

// LineWord is what a record's place in the file at path is called in
// messages: a row of a workbook's sheet, a line of a text file.
func LineWord(path string) string { return lineWord(Workbook(path)) }

func lineWord(rows bool) string {
	if rows {
		return "row"
	}
	return "line"
}

// OddPlace is where Odd is, for messages: "line 4", "row 4" in a
// workbook's sheet, "line 4 of 2024-01-03.csv" where a pattern names
// several files; "" where it is not known.
func (c Column) OddPlace() string {
	switch {
	case c.OddLine == 0:
		return ""
	case c.OddFile != "":
		return fmt.Sprintf("%s %d of %s", lineWord(c.OddRow), c.OddLine, c.OddFile)
	}
	return fmt.Sprintf("%s %d", lineWord(c.OddRow), c.OddLine)
}

// ErrNoSheet is the error of a workbook without the sheet a recipe names.
var ErrNoSheet = errors.New("it has no sheet")

// workbook is what a sheet's cells need from the rest of an .xlsx file
// (a zip of XML parts): the strings the cells share, which styles show
// dates, and where each sheet is.
type workbook struct {
	zip      *zip.ReadCloser
	strings  []string
	styles   []cellKind // by the cell's s attribute
	date1904 bool
	sheets   []sheetPart
	// stringsPart and stylesPart are where the shared strings and the
	// styles are, read only for a sheet's cells (see readCellParts).
	stringsPart, stylesPart string
}

// sheetPart is a sheet: its name, its relationship's id, the part (a path
// in the zip) and kind of part that relationship names, and whether it is
// hidden.
type sheetPart struct {
	name, id, part, kind string
	hidden               bool
}

// cellKind is how a number cell's style shows it.
type cellKind uint8

const (
	showsNumber cellKind = iota
	showsDate
	showsDateTime
	showsTime
)

// openWorkbook reads the workbook at path as far as its list of sheets;
// closing it is the caller's.
func openWorkbook(path string) (*workbook, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		if compoundFile(path) {
			return nil, fmt.Errorf("%s is a workbook protected by a password, or an Excel 97-2003 file (.xls) named otherwise: save it as .xlsx without a password", path)
		}
		return nil, fmt.Errorf("%s is not an Excel workbook (.xlsx, a zip of XML parts): %w", path, err)
	}
	wb := &workbook{zip: z}
	if err := wb.load(); err != nil {
		z.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return wb, nil
}

// compoundFile says whether the file at path is an OLE compound file, the
// container of Excel 97-2003 workbooks and of encrypted .xlsx files.
func compoundFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 8)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
}

func (wb *workbook) Close() error { return wb.zip.Close() }

func (wb *workbook) load() error {
	main := "xl/workbook.xml"
	if rels, err := wb.rels("_rels/.rels", ""); err == nil {
		for _, r := range rels {
			if strings.HasSuffix(r.kind, "/officeDocument") {
				main = r.target
			}
		}
	}
	if err := wb.readSheets(main); err != nil {
		return err
	}
	dir := path.Dir(main)
	rels, err := wb.rels(path.Join(dir, "_rels", path.Base(main)+".rels"), dir)
	if err != nil {
		return err
	}
	for _, r := range rels {
		switch {
		case strings.HasSuffix(r.kind, "/sharedStrings"):
			wb.stringsPart = r.target
		case strings.HasSuffix(r.kind, "/styles"):
			wb.stylesPart = r.target
		}
		for i := range wb.sheets {
			if wb.sheets[i].id == r.id {
				wb.sheets[i].part, wb.sheets[i].kind = r.target, r.kind
			}
		}
	}
	return nil
}

// readCellParts reads what a sheet's cells need besides the sheet: the
// strings they share, which may be as large as the sheet, and the styles
// that show dates. Listing the sheets needs neither.
func (wb *workbook) readCellParts() error {
	if wb.stringsPart != "" {
		if err := wb.readStrings(wb.stringsPart); err != nil {
			return err
		}
	}
	if wb.stylesPart != "" {
		return wb.readStyles(wb.stylesPart)
	}
	return nil
}

type relationship struct{ id, kind, target string }

// rels reads a relationships part; targets are made paths in the zip,
// relative ones from dir.
func (wb *workbook) rels(name, dir string) ([]relationship, error) {
	var rels []relationship
	err := wb.scan(name, func(x *xmlScanner) {
		if string(x.name) != "Relationship" {
			return
		}
		r := relationship{id: string(x.attr("Id")), kind: string(x.attr("Type")), target: string(x.attr("Target"))}
		if strings.HasPrefix(r.target, "/") {
			r.target = strings.TrimPrefix(r.target, "/")
		} else {
			r.target = path.Join(dir, r.target)
		}
		rels = append(rels, r)
	})
	return rels, err
}

func (wb *workbook) readSheets(name string) error {
	return wb.scan(name, func(x *xmlScanner) {
		switch string(x.name) {
		case "workbookPr":
			v := string(x.attr("date1904"))
			wb.date1904 = v == "1" || v == "true"
		case "sheet":
			// The relationship's id is r:id (sheetId is another).
			state := string(x.attr("state")) // hidden, veryHidden or visible
			wb.sheets = append(wb.sheets, sheetPart{name: string(x.attr("name")), id: string(x.attr("id")), hidden: state != "" && state != "visible"})
		}
	})
}

// readStrings reads the shared strings part, which a sheet of text may
// make as large as the sheet.
func (wb *workbook) readStrings(name string) error {
	r, err := wb.open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	x := newXMLScanner(r)
	var s []byte
	for {
		err := x.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil && x.is(tokStart, "si") {
			s, err = x.richText(s[:0])
			wb.strings = append(wb.strings, string(s))
		}
		if err != nil {
			return errXML(name, err)
		}
	}
}

// readStyles finds the cell formats (cellXfs) whose number format shows a
// date or a time, from the built-in formats' ids and the workbook's own
// format codes.
func (wb *workbook) readStyles(name string) error {
	codes := map[string]string{}
	inXfs := false
	return wb.scan(name, func(x *xmlScanner) {
		switch string(x.name) {
		case "numFmt":
			codes[string(x.attr("numFmtId"))] = string(x.attr("formatCode"))
		case "cellXfs":
			inXfs = true
		case "cellStyleXfs", "dxfs":
			inXfs = false
		case "xf":
			if inXfs {
				wb.styles = append(wb.styles, numberFormat(x.attr("numFmtId"), codes))
			}
		}
	})
}

// numberFormat is how the number format id shows numbers: by the
// workbook's format codes, or as a built-in format.
func numberFormat(id []byte, codes map[string]string) cellKind {
	if code, ok := codes[string(id)]; ok {
		return formatKind(code)
	}
	return builtinFormats[string(id)] // showsNumber if none
}

// builtinFormats are the built-in number formats (ECMA-376 18.8.30) that
// show dates or times; 27-36 and 50-58 are dates in East Asian locales.
var builtinFormats = func() map[string]cellKind {
	m := map[string]cellKind{"22": showsDateTime, "18": showsTime, "19": showsTime, "20": showsTime, "21": showsTime, "45": showsTime, "47": showsTime}
	for _, id := range []int{14, 15, 16, 17, 27, 28, 29, 30, 31, 34, 35, 36, 50, 51, 52, 53, 54, 57, 58} {
		m[strconv.Itoa(id)] = showsDate
	}
	return m
}()

// formatKind reads a number format code: a date where it shows a year, a
// month or a day, a time where it shows hours or seconds. Quoted text,
// escaped and padding characters and bracketed parts (colours, locales)
// are not format letters; an elapsed time such as [h]:mm is a number.
func formatKind(code string) cellKind {
	section, _, _ := strings.Cut(code, ";") // positive numbers'
	var letters strings.Builder
	for i := 0; i < len(section); i++ {
		switch section[i] {
		case '"':
			if j := strings.IndexByte(section[i+1:], '"'); j >= 0 {
				i += j + 1
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(section[i:], ']')
			if j < 0 {
				return showsNumber
			}
			if inner := strings.ToLower(section[i+1 : i+j]); strings.Trim(inner, "hms") == "" && inner != "" {
				return showsNumber // elapsed time
			}
			i += j
		default:
			letters.WriteByte(section[i] | 0x20)
		}
	}
	shown := letters.String()
	// m is minutes beside hours or seconds, otherwise a month.
	clock := strings.ContainsAny(shown, "hs")
	date := strings.ContainsAny(shown, "yd") || strings.Contains(shown, "m") && !clock
	switch {
	case date && clock:
		return showsDateTime
	case date:
		return showsDate
	case clock:
		return showsTime
	}
	return showsNumber
}

// scan calls found at each start tag of the part name.
func (wb *workbook) scan(name string, found func(*xmlScanner)) error {
	r, err := wb.open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	x := newXMLScanner(r)
	for {
		err := x.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errXML(name, err)
		}
		if x.kind == tokStart {
			found(x)
		}
	}
}

func (wb *workbook) open(name string) (io.ReadCloser, error) {
	for _, f := range wb.zip.File {
		if strings.EqualFold(f.Name, name) {
			return f.Open()
		}
	}
	return nil, fmt.Errorf("it has no part %s, which an Excel workbook has", name)
}

// unescapeX reads the _xHHHH_ escapes by which Excel writes characters
// XML cannot hold (_x000D_ for a carriage return); _x005F_ escapes an
// underscore.
func unescapeX(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(n))
				i += 6
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// SheetPattern says whether a recipe's sheet names several sheets: *
// stands for any run of characters, as in a file pattern (Excel allows no
// * in a sheet's name).
func SheetPattern(sheet string) bool { return strings.Contains(sheet, "*") }

// worksheets lists the worksheets of the workbook at path whose names the
// pattern matches, ignoring case, in the workbook's order. Hidden sheets
// (an old copy, a lookup table) are left out: a pattern reads what the
// workbook shows. A recipe may still name one.
func worksheets(path, pattern string) ([]string, error) {
	wb, err := openWorkbook(path)
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	var names []string
	for _, s := range wb.sheets {
		if strings.HasSuffix(s.kind, "/worksheet") && !s.hidden && globMatches(strings.ToLower(pattern), strings.ToLower(s.name)) {
			names = append(names, s.name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: %w matching %q; its sheets are %s", path, ErrNoSheet, pattern, wb.sheetNames())
	}
	return names, nil
}

// sheetNames lists the workbook's sheets for messages.
func (wb *workbook) sheetNames() string {
	names := make([]string, len(wb.sheets))
	for i, s := range wb.sheets {
		names[i] = strconv.Quote(s.name)
	}
	return strings.Join(names, ", ")
}

// sheet is the sheet named name, or the first for "". Names are compared
// as Excel compares them, ignoring case: a workbook cannot hold two that
// differ only in case.
func (wb *workbook) sheet(name string) (sheetPart, error) {
	for _, s := range wb.sheets {
		if strings.EqualFold(s.name, name) || name == "" {
			if !strings.HasSuffix(s.kind, "/worksheet") {
				return sheetPart{}, fmt.Errorf("its sheet %q is not a worksheet of cells (it is a chart or a dialog sheet); name another in the recipe's sheet: %s", s.name, wb.sheetNames())
			}
			return s, nil
		}
	}
	if name == "" {
		return sheetPart{}, ErrNoSheet
	}
	return sheetPart{}, fmt.Errorf("%w named %q; its sheets are %s", ErrNoSheet, name, wb.sheetNames())
}

// excelNumber writes a number cell's value in plain decimal notation: a
// whole number with every digit saved (a card number or id a program
// saved as a number: two that differ in their 16th digit must not read
// alike), any other as Excel shows it in General format, to 15
// significant digits (the binary double 0.1+0.2 saved as
// 0.30000000000000004 reads 0.3, and 1E-3 reads 0.001).
func excelNumber(dst []byte, v string) ([]byte, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, fmt.Errorf("%q is not a number, though the cell says it holds one", v)
	}
	if f == 0 {
		return append(dst, '0'), nil
	}
	if f == math.Trunc(f) {
		return strconv.AppendFloat(dst, f, 'f', -1, 64), nil
	}
	e := strconv.FormatFloat(f, 'e', 14, 64) // -d.dddddddddddddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if mant[0] == '-' {
		dst, mant = append(dst, '-'), mant[1:]
	}
	digits := strings.TrimRight(mant[:1]+mant[2:], "0")
	point := x + 1 // digits before the decimal point
	switch {
	case point <= 0:
		dst = append(dst, "0."...)
		dst = append(dst, strings.Repeat("0", -point)...)
		dst = append(dst, digits...)
	case point >= len(digits):
		dst = append(dst, digits...)
		dst = append(dst, strings.Repeat("0", point-len(digits))...)
	default:
		dst = append(dst, digits[:point]...)
		dst = append(dst, '.')
		dst = append(dst, digits[point:]...)
	}
	return dst, nil
}

// excelTime writes a date serial number as the style shows it: an ISO
// date, an ISO timestamp, or a time of day, to the millisecond. Serials
// count days from 1899-12-30 (or from 1904-01-01), but for those before
// 1900-03-01, Excel counting a 29 February 1900 that never was.
func excelTime(dst []byte, v string, kind cellKind, date1904 bool) ([]byte, error) {
	last := 2958466.0 // 10000-01-01
	if date1904 {
		last -= 1462
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsInf(f, 0) || f < 0 || f >= last {
		// Excel shows ##### for a date it cannot: keep the number.
		return excelNumber(dst, v)
	}
	ms := int64(math.Round(f * 86400000))
	days, ofDay := ms/86400000, time.Duration(ms%86400000)*time.Millisecond
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	switch {
	case date1904:
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case days == 60 && kind != showsTime:
		return append(dst, "1900-02-29"...), nil // not a date: read as text
	case days < 60:
		epoch = epoch.AddDate(0, 0, 1)
	}
	t := epoch.AddDate(0, 0, int(days)).Add(ofDay)
	clock := "15:04:05"
	if ofDay%time.Second != 0 {
		clock = "15:04:05.000"
	}
	switch kind {
	case showsDate:
		return t.AppendFormat(dst, "2006-01-02"), nil
	case showsTime:
		return t.AppendFormat(dst, clock), nil
	}
	return t.AppendFormat(dst, "2006-01-02 "+clock), nil
}

// sheetReader reads a worksheet's rows as records, as csvReader reads a
// file's lines: rows with no value are skipped, the first after the rows
// the layout skips is the header (unless the layout names the columns),
// and every record is as wide as the header. A row's cells after its last
// value are not saved by Excel: they read as empty, where a text file's
// record must have every field. A value beyond the header's columns is
// refused rather than dropped.
type sheetReader struct {
	wb     *workbook
	rows   io.ReadCloser
	x      *xmlScanner
	layout CSVLayout
	row    int // the last row read
	start  int // the row the last record read is on
	width  int
	fields [][]byte
	data   []byte // the row's values end to end
	ends   []int  // where each column's value ends in data
	val    []byte // a cell's value as it is read
	// v and inline keep the memory of a cell's v and is between cells.
	v, inline []byte
}

// openSheet opens the sheet of the workbook at path that the layout
// names, or its first.
func openSheet(path string, l CSVLayout) (*sheetReader, error) {
	wb, err := openWorkbook(path)
	if err != nil {
		return nil, err
	}
	s, err := wb.sheet(l.Sheet)
	if err == nil {
		err = wb.readCellParts()
	}
	if err == nil {
		var rows io.ReadCloser
		if rows, err = wb.open(s.part); err == nil {
			l.Sheet = s.name
			return &sheetReader{wb: wb, rows: rows, x: newXMLScanner(rows), layout: l, width: l.Columns}, nil
		}
	}
	wb.Close()
	return nil, fmt.Errorf("%s: %w", path, err)
}

func (sr *sheetReader) Close() error {
	sr.rows.Close()
	return sr.wb.Close()
}

func (sr *sheetReader) recordStart() int { return sr.start }

func (sr *sheetReader) Layout() CSVLayout { return sr.layout }

// read returns the next record, or io.EOF after the last.
func (sr *sheetReader) read() ([][]byte, error) {
	for {
		r, err := sr.nextRow()
		switch {
		case errors.Is(err, io.EOF) && sr.start == 0 && !sr.layout.Headerless():
			after := ""
			if sr.layout.SkipLines > 0 {
				after = fmt.Sprintf(" after the %d that skip_lines passes over", sr.layout.SkipLines)
			}
			return nil, fmt.Errorf("sheet %q has no row with a value%s, where a header row naming the columns is required; the workbook's sheets are %s: name the ones to read in the recipe's sheet",
				sr.layout.Sheet, after, sr.wb.sheetNames())
		case errors.Is(err, io.EOF) && sr.layout.FirstLine == 0:
			sr.layout.FirstLine = sr.row + 1 // no record: nothing to read
		}
		if err != nil {
			return nil, err
		}
		if r <= sr.layout.SkipLines || len(sr.ends) == 0 {
			continue // passed over, or blank
		}
		if sr.start == 0 { // the header, or the first record
			sr.layout.FirstLine = r
			if sr.width == 0 {
				sr.width = len(sr.ends)
			}
		}
		if len(sr.ends) > sr.width {
			return nil, fmt.Errorf("sheet %q, row %d: cell %s%d holds a value beyond the %d columns the %s names; "+
				"remove it, or name that column", sr.layout.Sheet, r, columnLetters(len(sr.ends)-1), r, sr.width, sr.header())
		}
		sr.start = r
		return sr.record(), nil
	}
}

func (sr *sheetReader) header() string {
	if sr.layout.Headerless() {
		return "recipe's columns"
	}
	return fmt.Sprintf("header (row %d)", sr.layout.FirstLine)
}

// record is the row's values as fields, padded with empty ones to the
// width.
func (sr *sheetReader) record() [][]byte {
	sr.fields = sr.fields[:0]
	from := 0
	for _, end := range sr.ends {
		sr.fields = append(sr.fields, sr.data[from:end])
		from = end
	}
	for len(sr.fields) < sr.width {
		sr.fields = append(sr.fields, nil)
	}
	return sr.fields
}

// nextRow reads the next row element into data and ends, up to its last
// cell with a value, and returns its number.
func (sr *sheetReader) nextRow() (int, error) {
	for {
		if err := sr.x.next(); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, sr.xmlError(err)
		}
		if !sr.x.is(tokStart, "row") {
			continue
		}
		r := sr.row + 1
		if v := sr.x.attr("r"); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil || n <= sr.row {
				return 0, fmt.Errorf("sheet %q: a row numbered %q follows row %d; rows must come in order", sr.layout.Sheet, v, sr.row)
			}
			r = n
		}
		sr.row = r
		sr.data, sr.ends = sr.data[:0], sr.ends[:0]
		if sr.x.closed {
			return r, nil
		}
		if err := sr.cells(r); err != nil {
			return 0, err
		}
		return r, nil
	}
}

func (sr *sheetReader) xmlError(err error) error {
	if errors.Is(err, errUTF16) {
		return fmt.Errorf("sheet %q: %w", sr.layout.Sheet, err)
	}
	return fmt.Errorf("sheet %q, after row %d: its XML is damaged: %w", sr.layout.Sheet, sr.row, unexpected(err))
}

// cells reads row r's cells, up to the row's end.
func (sr *sheetReader) cells(r int) error {
	col := -1
	for {
		if err := sr.x.next(); err != nil {
			return sr.xmlError(err)
		}
		switch {
		case sr.x.is(tokEnd, "row"):
			return nil
		case sr.x.is(tokStart, "c"):
			next := col + 1
			if ref := sr.x.attr("r"); ref != nil {
				var err error
				if next, err = cellColumn(string(ref), r); err != nil || next <= col {
					return fmt.Errorf("sheet %q, row %d: a cell named %q is out of place", sr.layout.Sheet, r, ref)
				}
			}
			col = next
			if err := sr.cell(r, col); err != nil {
				return err
			}
		}
	}
}

// cell reads the cell just opened, in column col of row r, and adds its
// value, if it has one.
func (sr *sheetReader) cell(r, col int) error {
	c := cellRead{kind: string(sr.x.attr("t")), style: string(sr.x.attr("s")), v: sr.v[:0], inline: sr.inline[:0]}
	if sr.x.closed {
		return sr.add(c, r, col) // <c r="B2" s="3"/>: no value
	}
	for depth := 0; ; {
		var err error
		if err = sr.x.next(); err != nil {
			return sr.xmlError(err)
		}
		switch {
		case sr.x.is(tokStart, "v"):
			c.hasV = true
			c.v, err = sr.x.content(c.v[:0])
		case sr.x.is(tokStart, "f"):
			var f []byte
			f, err = sr.x.content(nil)
			c.formula = "the formula =" + string(f)
			if len(f) == 0 {
				c.formula = "a formula shared with the cells above it" // <f t="shared" si="0"/>
			}
		case sr.x.is(tokStart, "is"):
			c.inline, err = sr.x.richText(c.inline[:0])
		case sr.x.kind == tokStart && !sr.x.closed:
			depth++
		case sr.x.kind == tokEnd && depth == 0:
			sr.v, sr.inline = c.v, c.inline
			return sr.add(c, r, col)
		case sr.x.kind == tokEnd:
			depth--
		}
		if err != nil {
			return sr.xmlError(err)
		}
	}
}

// cellRead is a cell as saved: its type (t), style (s), value (v), inline
// string (is) and formula (f), as messages name it.
type cellRead struct {
	kind, style, formula string
	v, inline            []byte
	hasV                 bool
}

// add appends the value of a cell of type kind and style, after empty
// fields for the columns before it that have none.
func (sr *sheetReader) add(c cellRead, r, col int) error {
	kind, v, formula := c.kind, c.v, c.formula
	at := func(format string, args ...any) error {
		return fmt.Errorf("sheet %q, row %d, cell %s%d: %s", sr.layout.Sheet, r, columnLetters(col), r, fmt.Sprintf(format, args...))
	}
	// A formula's value is saved in v, empty only for an empty text
	// (t="str"); writers that do not calculate leave it out or empty.
	if formula != "" && kind != "inlineStr" && (!c.hasV || len(v) == 0 && kind != "str") {
		return at("%s has no saved value (the file was written without calculating it); "+
			"open it in Excel or LibreOffice and save it, so that its values are saved", formula)
	}
	val := sr.val[:0]
	var err error
	switch kind {
	case "s":
		i, convErr := strconv.Atoi(string(v))
		if convErr != nil || i < 0 || i >= len(sr.wb.strings) {
			return at("it names shared string %q, which the workbook does not have", v)
		}
		val = append(val, sr.wb.strings[i]...)
	case "inlineStr":
		val = append(val, c.inline...)
	case "str", "e", "d":
		val = append(val, unescapeX(string(v))...)
	case "b":
		switch string(v) {
		case "1":
			val = append(val, "TRUE"...)
		case "0":
			val = append(val, "FALSE"...)
		case "":
		default:
			return at("%q is no boolean", v)
		}
	case "", "n":
		if len(v) > 0 {
			if val, err = sr.number(val, string(v), c.style); err != nil {
				return at("%v", err)
			}
		}
	default:
		return at("its type %q is none that Excel writes", kind)
	}
	sr.val = val
	if len(val) == 0 {
		return nil
	}
	for len(sr.ends) < col {
		sr.ends = append(sr.ends, len(sr.data))
	}
	sr.data = append(sr.data, val...)
	sr.ends = append(sr.ends, len(sr.data))
	return nil
}

// number appends a number cell's value as its style shows it: a date, a
// time, or a number.
func (sr *sheetReader) number(dst []byte, v, style string) ([]byte, error) {
	kind := showsNumber
	if style != "" {
		i, err := strconv.Atoi(style)
		if err != nil || i < 0 {
			return dst, fmt.Errorf("its style %q is not an index", style)
		}
		if i < len(sr.wb.styles) {
			kind = sr.wb.styles[i]
		}
	}
	if kind == showsNumber {
		return excelNumber(dst, v)
	}
	return excelTime(dst, v, kind, sr.wb.date1904)
}

// cellColumn is the column (from 0) of the cell named ref (B7) on row r.
func cellColumn(ref string, r int) (int, error) {
	col, i := 0, 0
	for ; i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z'; i++ {
		col = col*26 + int(ref[i]-'A') + 1
	}
	if i == 0 || i > 3 || ref[i:] != strconv.Itoa(r) {
		return 0, fmt.Errorf("cell %q is not on row %d", ref, r)
	}
	return col - 1, nil
}

// columnLetters names the column col (from 0) as Excel does: A, Z, AA.
func columnLetters(col int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b)
}
