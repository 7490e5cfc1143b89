package source_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/source"
)

// book is a workbook written part by part, so that a test controls every
// way a cell can be saved.
type book struct {
	sheets   []sheet
	strings  []string // shared strings, as <si> content
	formats  string   // numFmt elements
	xfs      []int    // each cell format's numFmtId, by the cells' s
	date1904 bool
}

// sheet is a sheet's name and rows, or the whole of its part (xml), and
// whether the workbook hides it.
type sheet struct {
	name, rows, xml string
	hidden          bool
}

// write saves the book as name in a test directory.
func (b book) write(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	put := func(name, body string) {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + body))
	}
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	put("[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`)
	put("_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="`+rel+`officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	var sheets, rels strings.Builder
	for i, s := range b.sheets {
		state := ""
		if s.hidden {
			state = ` state="hidden"`
		}
		fmt.Fprintf(&sheets, `<sheet name="%s" sheetId="%d"%s r:id="rId%d"/>`, s.name, i+1, state, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%sworksheet" Target="worksheets/sheet%d.xml"/>`, i+1, rel, i+1)
		part := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<worksheet ` + ns + `><sheetData>` + s.rows + `</sheetData></worksheet>`
		if s.xml != "" {
			part = s.xml
		}
		w, err := z.Create(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1))
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(part))
	}
	fmt.Fprintf(&rels, `<Relationship Id="rIdS" Type="%ssharedStrings" Target="sharedStrings.xml"/>`, rel)
	fmt.Fprintf(&rels, `<Relationship Id="rIdT" Type="%sstyles" Target="/xl/styles.xml"/>`, rel)
	pr := ""
	if b.date1904 {
		pr = `<workbookPr date1904="1"/>`
	}
	put("xl/workbook.xml", `<workbook `+ns+`>`+pr+`<sheets>`+sheets.String()+`</sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+rels.String()+`</Relationships>`)
	var sst strings.Builder
	for _, s := range b.strings {
		sst.WriteString("<si>" + s + "</si>")
	}
	put("xl/sharedStrings.xml", `<sst `+ns+`>`+sst.String()+`</sst>`)
	var xfs strings.Builder
	for _, id := range b.xfs {
		fmt.Fprintf(&xfs, `<xf numFmtId="%d" fontId="0"/>`, id)
	}
	// A cell style's xf before the cell formats: not one of them.
	put("xl/styles.xml", `<styleSheet `+ns+`><numFmts>`+b.formats+`</numFmts><cellStyleXfs><xf numFmtId="14"/></cellStyleXfs><cellXfs>`+xfs.String()+`</cellXfs></styleSheet>`)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// headerRow is row 1 naming the columns by shared strings 0, 1, ...
func headerRow(n int) string {
	var b strings.Builder
	b.WriteString(`<row r="1">`)
	for i := range n {
		fmt.Fprintf(&b, `<c r="%c1" t="s"><v>%d</v></c>`, 'A'+i, i)
	}
	return b.String() + `</row>`
}

// sheetCSV is the CSV the engine reads for the workbook at path, read as
// opts say; the copy written while its types are read must be that CSV.
func sheetCSV(t *testing.T, path string, opts source.CSVOptions) string {
	t.Helper()
	opts.CopyDir = t.TempDir()
	s, err := source.CSVSchema(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Stamps) != 0 {
		t.Errorf("stamps %v: the engine reads the copy, not the workbook", s.Stamps)
	}
	return checkCopy(t, path, s.CSV)
}

// checkCopy checks that the copy of the sheet that l's Copy names holds
// what RewriteCSV writes of it, and returns that.
func checkCopy(t *testing.T, path string, l source.CSVLayout) string {
	t.Helper()
	var out bytes.Buffer
	written, _, err := source.RewriteCSV(path, l, &out)
	if err != nil {
		t.Fatal(err)
	}
	if l.Copy == nil {
		t.Fatalf("no copy of %s", path)
	}
	if b, err := os.ReadFile(l.Copy.Path); err != nil || string(b) != out.String() || l.Copy.LongestRecord != written.LongestRecord {
		t.Errorf("copy %q (%v), longest record %d; want %q, %d", b, err, l.Copy.LongestRecord, out.String(), written.LongestRecord)
	}
	return out.String()
}

// rewritten is the CSV the engine reads for the workbook at path.
func rewritten(t *testing.T, path string, l source.CSVLayout) string {
	t.Helper()
	var out bytes.Buffer
	if _, _, err := source.RewriteCSV(path, l, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestWorkbook: a sheet reads as the CSV file of its values as Excel shows
// them, whatever way each cell is saved in.
func TestWorkbook(t *testing.T) {
	t.Parallel()
	// Styles: 0 General, 1 a date (built-in 14), 2 a custom date and
	// time, 3 a time of day, 4 an elapsed time (a number), 5 a number
	// with quoted letters, 6 a date in a locale's brackets.
	b := book{
		strings: []string{"<t>id</t>", "<t>booked</t>", "<t>at</t>", "<t>amount</t>", "<t>memo</t>", "<t>paid</t>", "<t>code</t>",
			`<r><t>ACME, </t></r><r><rPr><b/></rPr><t xml:space="preserve">Inc. </t></r><rPh><t>ignored</t></rPh>`, `<t>two_x000D_` + "\n" + `lines "quoted"</t>`},
		formats: `<numFmt numFmtId="164" formatCode="yyyy\-mm\-dd\ hh:mm"/><numFmt numFmtId="165" formatCode="h:mm:ss"/>` +
			`<numFmt numFmtId="166" formatCode="[h]:mm"/><numFmt numFmtId="167" formatCode="0.00 &quot;days&quot;"/><numFmt numFmtId="168" formatCode="[$-409]d\-mmm\-yy;@"/>` +
			`<numFmt numFmtId="169" formatCode="mm&quot;s&quot;"/><numFmt numFmtId="170" formatCode="[$-x-sysdate]mmmm"/>`,
		xfs: []int{0, 14, 164, 165, 166, 167, 168, 169, 170},
	}
	b.sheets = []sheet{{name: "Statement", rows: headerRow(7) +
		`<row r="2"><c r="A2"><v>1</v></c><c r="B2" s="1"><v>45306</v></c><c r="C2" s="2"><v>45306.5729166667</v></c>` +
		`<c r="D2"><v>1234.5</v></c><c r="E2" t="s"><v>7</v></c><c r="F2" t="b"><v>1</v></c><c r="G2" t="inlineStr"><is><t>007</t></is></c></row>` +
		`<row r="3"><c r="A3"><v>2</v></c><c r="B3" s="6"><v>45307</v></c><c r="C3" s="2"><v>45307</v></c>` +
		`<c r="D3"><f>0.1+0.2</f><v>0.30000000000000004</v></c><c r="E3" t="s"><v>8</v></c><c r="F3" t="b"><v>0</v></c><c r="G3" t="str"><f>"A"&amp;"1"</f><v>A1</v></c></row>` +
		// Row 4 blank; row 5 sparse, without cell names, ending early.
		`<row r="4"/><row r="5"><c><v>3</v></c><c s="1"/><c s="2"><v>45308.25</v></c><c><v>-1.0E-3</v></c></row>` +
		`<row r="6"><c r="A6"><v>4</v></c><c r="D6"><v>10.25</v></c><c r="E6" t="e"><v>#N/A</v></c></row>`},
		{name: "Other", rows: `<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row><row r="2"><c r="A2" s="3"><v>0.75</v></c></row>` +
			`<row r="3"><c r="A3" s="4"><v>1.5</v></c></row><row r="4"><c r="A4" s="5"><v>2</v></c></row>` +
			// Months alone, whatever the quoted text and brackets hold.
			`<row r="5"><c r="A5" s="7"><v>45306</v></c></row><row r="6"><c r="A6" s="8"><v>45306</v></c></row>`}}
	path := b.write(t, "statement.xlsx")

	t.Run("types_and_values", func(t *testing.T) {
		t.Parallel()
		s, err := source.CSVSchema(path, source.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]source.Type{"id": source.Integer, "booked": source.Date, "at": source.Timestamp, "amount": source.Decimal,
			"memo": source.Text, "paid": source.Text, "code": source.Text}
		for _, c := range s.Columns {
			if c.Type != want[c.Name] {
				t.Errorf("column %s is %v, want %v", c.Name, c.Type, want[c.Name])
			}
		}
		if s.Rows != 4 || s.CSV.Sheet != "Statement" || s.CSV.FirstLine != 1 || !s.CSV.NeedsRewrite() {
			t.Errorf("%d rows, layout %+v; want 4 rows of sheet Statement from row 1, rewritten", s.Rows, s.CSV)
		}
		if c := s.Columns[3]; c.Scale != 3 {
			t.Errorf("amount's scale is %d, want 3 (-0.001)", c.Scale)
		}
		got := rewritten(t, path, s.CSV)
		want2 := "id,booked,at,amount,memo,paid,code\n" +
			"1,2024-01-15,2024-01-15 13:45:00,1234.5,\"ACME, Inc. \",TRUE,007\n" +
			"2,2024-01-16,2024-01-16 00:00:00,0.3,\"two\r\nlines \"\"quoted\"\"\",FALSE,A1\n" +
			"3,,2024-01-17 06:00:00,-0.001,,,\n" +
			"4,,,10.25,#N/A,,\n"
		if got != want2 {
			t.Errorf("rewrite\n%s\nwant\n%s", got, want2)
		}
		if lines, err := source.CSVLines(path, s.CSV, []int64{1, 3, 4}); err != nil || lines[1] != 2 || lines[3] != 5 || lines[4] != 6 {
			t.Errorf("rows %v (%v), want records 1, 3 and 4 on rows 2, 5 and 6", lines, err)
		}
	})
	t.Run("formats", func(t *testing.T) {
		t.Parallel()
		// A time of day, an elapsed time, a number with quoted letters and
		// two months.
		if got, want := sheetCSV(t, path, source.CSVOptions{Sheet: "Other"}), "x\n18:00:00\n1.5\n2\n2024-01-15\n2024-01-15\n"; got != want {
			t.Errorf("rewrite %q, want %q", got, want)
		}
	})
	t.Run("xml_as_other_writers_save_it", func(t *testing.T) {
		t.Parallel()
		// Comments, CDATA, character references, prefixed names and a '>'
		// in an attribute's value.
		b := book{strings: []string{"<t>a</t>", `<t xml:space="preserve">b</t>`},
			sheets: []sheet{{name: "S", rows: headerRow(2) +
				`<row r="2"><!-- a note > here --><c r="A2" t="inlineStr"><is><t><![CDATA[a<b & c]]></t></is></c><c r="B2" t="str"><v>&#x41;&amp;&lt;&#66;</v></c></row>` +
				`<x:row r="3" spans="1:2" xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:c r="A3" t="inlineStr"><x:is><x:t>it's "q"</x:t></x:is></x:c></x:row>` +
				`<row r="4"><c note='a>b "c"' r="B4" t="inlineStr"><is><t>x</t></is></c></row>` +
				// Elements that close themselves inside a cell (a shared
				// formula, an extension) before its value.
				`<row r="5"><c r="A5"><f t="shared" si="0"/><v>4</v></c><c r="B5"><x><y/></x><v>7</v></c></row>` +
				// Line ends as XML reads them: a raw carriage return is a line
				// feed, one written &#13; stays.
				"<row r=\"6\"><c r=\"A6\" t=\"inlineStr\"><is><t>l1\r\nl2\rl3</t></is></c><c r=\"B6\" t=\"inlineStr\"><is><t>x&#13;y</t></is></c></row>"}}}
		path := b.write(t, "others.xlsx")
		if got, want := sheetCSV(t, path, source.CSVOptions{}), "a,b\na<b & c,A&<B\n\"it's \"\"q\"\"\",\n,x\n4,7\n\"l1\nl2\nl3\",\"x\ry\"\n"; got != want {
			t.Errorf("rewrite %q, want %q", got, want)
		}
	})
	t.Run("date1904", func(t *testing.T) {
		t.Parallel()
		b := book{strings: []string{"<t>day</t>"}, xfs: []int{0, 14}, date1904: true,
			sheets: []sheet{{name: "S", rows: headerRow(1) + `<row r="2"><c r="A2" s="1"><v>43844</v></c></row><row r="3"><c r="A3" s="1"><v>0</v></c></row>`}}}
		path := b.write(t, "mac.xlsx")
		if got, want := sheetCSV(t, path, source.CSVOptions{}), "day\n2024-01-15\n1904-01-01\n"; got != want {
			t.Errorf("rewrite %q, want %q", got, want)
		}
	})
	t.Run("early_1900_dates", func(t *testing.T) {
		t.Parallel()
		// Serial 59 is 1900-02-28, 61 is 1900-03-01: Excel counts a 29
		// February between them, serial 60.
		b := book{strings: []string{"<t>day</t>"}, xfs: []int{0, 14},
			sheets: []sheet{{name: "S", rows: headerRow(1) + `<row r="2"><c r="A2" s="1"><v>1</v></c></row><row r="3"><c r="A3" s="1"><v>59</v></c></row><row r="4"><c r="A4" s="1"><v>61</v></c></row>`}}}
		path := b.write(t, "old.xlsx")
		if got, want := sheetCSV(t, path, source.CSVOptions{}), "day\n1900-01-01\n1900-02-28\n1900-03-01\n"; got != want {
			t.Errorf("rewrite %q, want %q", got, want)
		}
	})
	t.Run("numbers_as_excel_shows_them", func(t *testing.T) {
		t.Parallel()
		// Whole numbers keep every digit saved: ids a program saved as
		// numbers stay apart.
		values := map[string]string{"1E-3": "0.001", "1.2345678901234567E+20": "123456789012345670000", "-0": "0",
			"123456789.12345679": "123456789.123457", "4.9999999999999996E-2": "0.05", "100": "100", "2.5E+2": "250",
			"1234567890123456": "1234567890123456", "1234567890123457": "1234567890123457", "-9007199254740993": "-9007199254740992"}
		var rows strings.Builder
		var want strings.Builder
		want.WriteString("n\n")
		r := 2
		for stored, shown := range values {
			fmt.Fprintf(&rows, `<row r="%d"><c r="A%d"><v>%s</v></c></row>`, r, r, stored)
			want.WriteString(shown + "\n")
			r++
		}
		path := book{strings: []string{"<t>n</t>"}, sheets: []sheet{{name: "S", rows: headerRow(1) + rows.String()}}}.write(t, "n.xlsx")
		s, err := source.CSVSchema(path, source.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := rewritten(t, path, s.CSV); got != want.String() {
			t.Errorf("rewrite %q, want %q", got, want.String())
		}
	})
	t.Run("title_rows_skipped", func(t *testing.T) {
		t.Parallel()
		b := book{strings: []string{"<t>Bank statement</t>", "<t>day</t>", "<t>amount</t>"}, xfs: []int{0, 14},
			sheets: []sheet{{name: "S", rows: `<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="C2"><v>2024</v></c></row>` +
				`<row r="4"><c r="A4" t="s"><v>1</v></c><c r="B4" t="s"><v>2</v></c></row><row r="5"><c r="A5" s="1"><v>45306</v></c><c r="B5"><v>-12.5</v></c></row>`}}}
		path := b.write(t, "titled.xlsx")
		s, err := source.CSVSchema(path, source.CSVOptions{SkipLines: 2})
		if err != nil {
			t.Fatal(err)
		}
		if s.Names() != "day, amount" || s.Rows != 1 || s.CSV.FirstLine != 4 {
			t.Errorf("columns %s, %d rows, layout %+v; want day and amount from row 4, 1 row", s.Names(), s.Rows, s.CSV)
		}
		if got, want := rewritten(t, path, s.CSV), "day,amount\n2024-01-15,-12.5\n"; got != want {
			t.Errorf("rewrite %q, want %q", got, want)
		}
	})
	t.Run("headerless", func(t *testing.T) {
		t.Parallel()
		s, err := source.CSVSchema(path, source.CSVOptions{Sheet: "OTHER", Columns: []string{"when"}}) // as Excel, ignoring case
		if err != nil {
			t.Fatal(err)
		}
		if s.Rows != 6 || s.CSV.FirstLine != 1 || s.Columns[0].Type != source.Text || s.CSV.Sheet != "Other" {
			t.Errorf("%d rows, layout %+v, columns %+v; want 6 text rows from row 1 of sheet Other", s.Rows, s.CSV, s.Columns)
		}
		if got, want := rewritten(t, path, s.CSV), "x\n18:00:00\n1.5\n2\n2024-01-15\n2024-01-15\n"; got != want {
			t.Errorf("rewrite %q, want %q", got, want)
		}
	})
}

// TestWorkbookErrors: a workbook Kalla cannot read as the recipe says is
// refused with the sheet, row and cell at fault.
func TestWorkbookErrors(t *testing.T) {
	t.Parallel()
	one := func(rows string) book {
		return book{strings: []string{"<t>id</t>", "<t>amount</t>"}, xfs: []int{0},
			sheets: []sheet{{name: "Data", rows: headerRow(2) + rows}, {name: "Chart"}}}
	}
	saved := func(b book) func(*testing.T) string {
		return func(t *testing.T) string { return b.write(t, "data.xlsx") }
	}
	for _, tt := range []struct {
		name string
		path func(t *testing.T) string
		opts source.CSVOptions
		want string
	}{
		{name: "formula_without_value", path: saved(one(`<row r="2"><c r="A2"><v>1</v></c><c r="B2"><f>SUM(C1:C9)</f></c></row>`)),
			want: `sheet "Data", row 2, cell B2: the formula =SUM(C1:C9) has no saved value`},
		{name: "shared_formula_without_value", path: saved(one(`<row r="2"><c r="A2"><v>1</v></c><c r="B2"><f t="shared" si="0"/><v></v></c></row>`)),
			want: `sheet "Data", row 2, cell B2: a formula shared with the cells above it has no saved value`},
		{name: "value_beyond_header", path: saved(one(`<row r="2"><c r="A2"><v>1</v></c><c r="D2"><v>5</v></c></row>`)),
			want: `sheet "Data", row 2: cell D2 holds a value beyond the 2 columns the header (row 1) names`},
		{name: "not_a_number", path: saved(one(`<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>1,5</v></c></row>`)),
			want: `sheet "Data", row 2, cell B2: "1,5" is not a number, though the cell says it holds one`},
		{name: "nan", path: saved(one(`<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>NaN</v></c></row>`)),
			want: `sheet "Data", row 2, cell B2: "NaN" is not a number, though the cell says it holds one`},
		{name: "type_set_by_recipe", path: saved(one(`<row r="3"><c r="A3" t="inlineStr"><is><t>x</t></is></c></row>`)),
			opts: source.CSVOptions{Types: map[string]source.Setting{"id": {Type: source.Integer}}}, want: `row 3, column id: "x" is not an integer`},
		{name: "unknown_sheet", path: saved(one("")), opts: source.CSVOptions{Sheet: "Summary"},
			want: `it has no sheet named "Summary"; its sheets are "Data", "Chart"`},
		{name: "header_named_twice", path: saved(book{strings: []string{"<t>id</t>"}, sheets: []sheet{{name: "S",
			rows: `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>0</v></c></row>`}}}), want: `header names column "id" twice`},
		{name: "header_with_a_gap", path: saved(book{strings: []string{"<t>id</t>"}, sheets: []sheet{{name: "S",
			rows: `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>0</v></c></row>`}}}), want: `header column 2 has no name`},
		{name: "empty_sheet", path: saved(book{sheets: []sheet{{name: "S"}}}), want: `sheet "S" has no row with a value`},
		{name: "utf16_xml", path: saved(book{sheets: []sheet{{name: "S", xml: "\xff\xfe<\x00?\x00x\x00m\x00l\x00"}}}), want: `sheet "S": it is written in UTF-16, which Kalla does not read`},
		{name: "separator", path: saved(one("")), opts: source.CSVOptions{Separator: ";"}, want: "separator applies to delimited text files only"},
		{name: "encoding", path: saved(one("")), opts: source.CSVOptions{Encoding: "latin1"}, want: "encoding applies to delimited text files only"},
		{name: "not_a_zip", path: func(t *testing.T) string { return csvFileNamed(t, "x.xlsx", "id,amount\n1,2\n") },
			want: "is not an Excel workbook (.xlsx, a zip of XML parts)"},
		{name: "encrypted", path: func(t *testing.T) string {
			return csvFileNamed(t, "x.xlsx", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 rest of an OLE file")
		},
			want: "is a workbook protected by a password, or an Excel 97-2003 file (.xls) named otherwise: save it as .xlsx without a password"},
		{name: "sheet_of_a_csv_file", path: func(t *testing.T) string { return csvFileNamed(t, "x.csv", "id,amount\n1,2\n") },
			opts: source.CSVOptions{Sheet: "Data"}, want: "sheet applies to Excel workbooks (.xlsx, .xlsm) only"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path(t)
			ref, err := source.Parse("file://" + path)
			if err != nil {
				t.Fatal(err)
			}
			tt.opts.CopyDir = t.TempDir()
			_, err = source.ReadSchema(t.Context(), ref, path, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %s", err, tt.want)
			}
			if left, _ := os.ReadDir(tt.opts.CopyDir); len(left) > 0 {
				t.Errorf("a copy left behind: %v", left)
			}
		})
	}
}

// TestSheetPattern: a sheet pattern reads the sheets it matches in the
// workbook's order, ignoring case, each a part named as Excel names a
// sheet of another workbook; their headers must agree.
func TestSheetPattern(t *testing.T) {
	t.Parallel()
	month := func(day int, amount string) string {
		return headerRow(2) + fmt.Sprintf(`<row r="2"><c r="A2" s="1"><v>%d</v></c><c r="B2"><v>%s</v></c></row>`, day, amount)
	}
	path := book{strings: []string{"<t>day</t>", "<t>amount</t>"}, xfs: []int{0, 14}, sheets: []sheet{
		{name: "Notes", rows: `<row r="1"><c r="A1" t="inlineStr"><is><t>one sheet a month</t></is></c></row>`},
		{name: "2024-01", rows: month(45306, "1.5")}, {name: "2024-02", rows: month(45337, "2.25") + `<row r="3"><c r="B3"><v>3</v></c></row>`},
		{name: "2024-old", rows: month(45306, "1.5"), hidden: true}, // a copy the workbook hides
	}}.write(t, "ledger.xlsx")
	s, err := source.CSVSchema(path, source.CSVOptions{Sheet: "2024-*"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	wantFiles := []string{filepath.Join(dir, "[ledger.xlsx]2024-01"), filepath.Join(dir, "[ledger.xlsx]2024-02")}
	if s.Rows != 3 || len(s.Parts) != 2 || !slices.Equal(s.Files, wantFiles) || !slices.Equal(s.FileRows, []int64{1, 2}) ||
		s.Parts[1].Path != path || s.Parts[1].Layout.Sheet != "2024-02" || s.Columns[1].Scale != 2 {
		t.Fatalf("%d rows, files %q of %v rows, parts %+v; want 3 rows, sheets 2024-01 and 2024-02 of ledger.xlsx", s.Rows, s.Files, s.FileRows, s.Parts)
	}
	for _, tt := range []struct{ sheet, want string }{
		{"2023-*", `it has no sheet matching "2023-*"; its sheets are "Notes", "2024-01", "2024-02"`},
		{"*", `its header names the columns day, amount, and [ledger.xlsx]Notes's names one sheet a month`},
	} {
		copies := t.TempDir()
		if _, err := source.CSVSchema(path, source.CSVOptions{Sheet: tt.sheet, CopyDir: copies}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("sheet %q: err = %v, want one saying %s", tt.sheet, err, tt.want)
		}
		if left, _ := os.ReadDir(copies); len(left) > 0 {
			t.Errorf("sheet %q: copies of the sheets read before the one at fault left behind: %v", tt.sheet, left)
		}
	}
	if s, err := source.CSVSchema(path, source.CSVOptions{Sheet: "NOTES*"}); err != nil || len(s.Files) != 1 || s.Rows != 0 {
		t.Errorf("NOTES* (case aside): files %q, %d rows (%v), want Notes alone, without records", s.Files, s.Rows, err)
	}
	if s, err := source.CSVSchema(path, source.CSVOptions{Sheet: "2024-old"}); err != nil || s.Rows != 1 {
		t.Errorf("the hidden sheet named: %d rows (%v), want 1", s.Rows, err)
	}
	// A value at fault is named with its sheet.
	_, err = source.CSVSchema(path, source.CSVOptions{Sheet: "2024-*", Types: map[string]source.Setting{"amount": {Type: source.Integer}}})
	if want := "[ledger.xlsx]2024-01: row 2, column amount: \"1.5\" is not an integer"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want one saying %s", err, want)
	}
}

// TestWorkbookCopy: the CSV copy of a sheet stands for the workbook as it
// was read; a workbook saved again since gives no row numbers, and a copy
// that cannot be written is the machine's failure.
func TestWorkbookCopy(t *testing.T) {
	t.Parallel()
	rows := func(ids ...int) string {
		var b strings.Builder
		for i, id := range ids {
			fmt.Fprintf(&b, `<row r="%d"><c r="A%d"><v>%d</v></c></row>`, i+3, i+3, id)
		}
		return `<row r="1"><c r="A1" t="s"><v>0</v></c></row>` + b.String() // row 2 is blank
	}
	path := book{strings: []string{"<t>id</t>"}, sheets: []sheet{{name: "S", rows: rows(7, 8)}}}.write(t, "ids.xlsx")
	s, err := source.CSVSchema(path, source.CSVOptions{CopyDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if lines, err := source.CSVLines(path, s.CSV, []int64{2}); err != nil || lines[2] != 4 {
		t.Errorf("record 2 on row %v (%v), want 4", lines, err)
	}
	// Saved again with a record inserted before: record 2 is now on row 4
	// of a workbook that is not the one copied.
	again, err := os.ReadFile(book{strings: []string{"<t>id</t>"}, sheets: []sheet{{name: "S", rows: rows(6, 7, 8)}}}.write(t, "ids.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, again, 0o644); err != nil {
		t.Fatal(err)
	}
	if lines, err := source.CSVLines(path, s.CSV, []int64{2}); !errors.Is(err, source.ErrChanged) {
		t.Errorf("saved again: record 2 on row %v (%v), want ErrChanged", lines, err)
	}
	_, err = source.CSVSchema(path, source.CSVOptions{CopyDir: filepath.Join(t.TempDir(), "gone")})
	var copyErr *source.CopyError
	if !errors.As(err, &copyErr) {
		t.Errorf("a copy that cannot be written: %v, want a CopyError", err)
	}
}

// TestWorkbookFromOpenpyxl: a workbook another program wrote
// (testdata/make_workbooks.py, openpyxl) reads as the values it was given.
func TestWorkbookFromOpenpyxl(t *testing.T) {
	t.Parallel()
	const path = "testdata/cells.xlsx"
	s, err := source.CSVSchema(path, source.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		typ   source.Type
		scale int
	}{{"id", source.Integer, 0}, {"booked", source.Date, 0}, {"at", source.Timestamp, 0}, {"amount", source.Decimal, 3},
		{"memo", source.Text, 0}, {"code", source.Text, 0}, {"flag", source.Text, 0}}
	for i, c := range s.Columns {
		if w := want[i]; c.Name != w.name || c.Type != w.typ || c.Scale != w.scale {
			t.Errorf("column %d: %s %v scale %d, want %s %v scale %d", i+1, c.Name, c.Type, c.Scale, w.name, w.typ, w.scale)
		}
	}
	if s.Rows != 4 || s.CSV.Sheet != "Cells" {
		t.Errorf("%d rows of sheet %q, want 4 of the first sheet, Cells", s.Rows, s.CSV.Sheet)
	}
	// Python's 0.1 + 0.2, 1e-3 and a time of 23:59:59 saved as a
	// fraction of a day, as the script gave them.
	const csv = "id,booked,at,amount,memo,code,flag\n" +
		"1,2024-01-15,2024-01-15 13:45:00,1234.5,\"ACME, Inc.\",007,TRUE\n" +
		"2,2024-02-29,2024-02-29 00:00:30,0.3,  padded  ,0042,FALSE\n" +
		"3,,,-12,Grüße ✓,,\n" +
		"4,1999-12-31,2024-12-31 23:59:59,0.001,\"say \"\"hi\"\"\nbye\",A-1,TRUE\n"
	if got := rewritten(t, path, s.CSV); got != csv {
		t.Errorf("rewrite\n%s\nwant\n%s", got, csv)
	}
	_, err = source.CSVSchema(path, source.CSVOptions{Sheet: "Formulas"})
	if want := `sheet "Formulas", row 2, cell B2: the formula =A2*2 has no saved value`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want one saying %s", err, want)
	}
}

// TestWorkbookPattern: a pattern names workbooks as it names CSV files:
// each is a part, read from the sheet the recipe names, and their headers
// must agree.
func TestWorkbookPattern(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	week := func(name string, rows string) {
		b := book{strings: []string{"<t>day</t>", "<t>amount</t>"}, xfs: []int{0, 14},
			sheets: []sheet{{name: "Cover"}, {name: "Lines", rows: headerRow(2) + rows}}}
		if err := os.Rename(b.write(t, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	week("week-01.xlsx", `<row r="2"><c r="A2" s="1"><v>45306</v></c><c r="B2"><v>1.5</v></c></row>`)
	week("week-02.xlsx", `<row r="3"><c r="A3" s="1"><v>45313</v></c><c r="B3"><v>2.25</v></c></row><row r="4"><c r="A4" s="1"><v>45314</v></c></row>`)
	s, err := source.CSVSchema(filepath.Join(dir, "week-*.xlsx"), source.CSVOptions{Sheet: "Lines"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 3 || len(s.Parts) != 2 || s.Parts[1].Rows != 2 || s.Parts[1].Layout.Sheet != "Lines" || s.Columns[1].Scale != 2 {
		t.Fatalf("%d rows, parts %+v, columns %+v; want 3 rows in 2 parts of sheet Lines, amounts of scale 2", s.Rows, s.Parts, s.Columns)
	}
	if got, want := rewritten(t, s.Parts[1].Path, s.Parts[1].Layout), "day,amount\n2024-01-22,2.25\n2024-01-23,\n"; got != want {
		t.Errorf("rewrite %q, want %q", got, want)
	}
	_, err = source.CSVSchema(filepath.Join(dir, "week-*.xlsx"), source.CSVOptions{})
	if want := `sheet "Cover" has no row with a value, where a header row naming the columns is required; the workbook's sheets are "Cover", "Lines"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v reading the first sheets, Cover, want one saying %s", err, want)
	}
}

// FuzzSheet: whatever a sheet's XML holds, reading it ends, with records
// or an error, and never panics.
func FuzzSheet(f *testing.F) {
	f.Add(headerRow(2) + `<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>x</t></is></c></row>`)
	f.Add(`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row><c><f>A1</f></c></row><!-- c --><![CDATA[x]]>`)
	f.Add(`<row r="1"><c r='A1' t="inlineStr"><is><r><t>a</t></r><rPh><t>b</t></rPh></is></c></row><row r="2"><c r="A2" s="1"><v>45306.5</v></c></row>`)
	f.Fuzz(func(t *testing.T, rows string) {
		b := book{strings: []string{"<t>id</t>", "<t>amount</t>"}, xfs: []int{0, 22}, sheets: []sheet{{name: "S", rows: rows}}}
		path := b.write(t, "fuzz.xlsx")
		s, err := source.CSVSchema(path, source.CSVOptions{})
		if err != nil {
			return
		}
		var out bytes.Buffer
		if _, n, err := source.RewriteCSV(path, s.CSV, &out); err != nil || n != s.Rows {
			t.Errorf("rewrite: %d records (%v), the schema counted %d", n, err, s.Rows)
		}
	})
}

// TestWorkbookAgainstCSV: random values saved as a workbook's typed cells
// and written as a CSV file read alike: the same types, records and
// values (numbers compared as numbers: a cell holds 1234.5 where the CSV
// file writes 1234.50).
func TestWorkbookAgainstCSV(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 7))
			csvText, rows := randomTable(rng)
			xlsx := book{strings: []string{"<t>id</t>", "<t>amount</t>", "<t>day</t>", "<t>at</t>", "<t>memo</t>", "<t>paid</t>"},
				xfs: []int{0, 14, 22}, sheets: []sheet{{name: "S", rows: headerRow(6) + rows}}}.write(t, "random.xlsx")
			want, err := source.CSVSchema(csvFileNamed(t, "random.csv", csvText), source.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := source.CSVSchema(xlsx, source.CSVOptions{CopyDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			checkCopy(t, xlsx, got.CSV)
			for i, c := range got.Columns {
				if w := want.Columns[i]; c.Name != w.Name || c.Type != w.Type || c.Scale != w.Scale {
					t.Errorf("column %s: %v scale %d from the workbook, %v scale %d from CSV", c.Name, c.Type, c.Scale, w.Type, w.Scale)
				}
			}
			if got.Rows != want.Rows {
				t.Fatalf("%d records from the workbook, %d from CSV", got.Rows, want.Rows)
			}
			fromCSV := parsedCSV(t, rewritten(t, csvFileNamed(t, "again.csv", csvText), want.CSV))
			fromSheet := parsedCSV(t, rewritten(t, xlsx, got.CSV))
			for r := range fromCSV {
				for i := range fromCSV[r] {
					a, b := fromSheet[r][i], fromCSV[r][i]
					x, okA := new(big.Rat).SetString(a)
					y, okB := new(big.Rat).SetString(b)
					if a != b && !(okA && okB && x.Cmp(y) == 0) {
						t.Errorf("record %d, column %d: %q from the workbook, %q from CSV", r, i+1, a, b)
					}
				}
			}
		})
	}
}

// randomTable is a CSV file of random records and the same values as a
// sheet's rows of typed cells (from row 2, under headerRow): an integer,
// an amount of two places, a date (style 1), a timestamp to the second
// (style 2), text of every kind and a boolean; any of them may be empty.
func randomTable(rng *rand.Rand) (string, string) {
	var csvText, rows strings.Builder
	csvText.WriteString("id,amount,day,at,memo,paid\n")
	texts := []string{"ACME, Inc.", `say "hi"`, "two\nlines", "  padded  ", "007", "12.50", "Grüße ✓", "a<b & c>d", "_x000D_ literal", "-", "2024-13-45"}
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	n := 1 + rng.IntN(30)
	for i := range n {
		r := i + 2
		fields := make([]string, 6)
		fmt.Fprintf(&rows, `<row r="%d">`, r)
		cell := func(col int, attrs, inner, text string) {
			if rng.IntN(8) == 0 {
				return // empty
			}
			fmt.Fprintf(&rows, `<c r="%c%d"%s>%s</c>`, 'A'+col, r, attrs, inner)
			fields[col] = text
		}
		id := rng.Int64N(1_000_000) - 1000
		cell(0, "", fmt.Sprintf("<v>%d</v>", id), fmt.Sprint(id))
		cents := rng.Int64N(2_000_000_000) - 1_000_000_000
		amount := fmt.Sprintf("%d.%02d", cents/100, abs(cents%100))
		if cents < 0 && cents > -100 {
			amount = "-" + amount
		}
		cell(1, "", "<v>"+strconv.FormatFloat(float64(cents)/100, 'g', -1, 64)+"</v>", amount)
		day := epoch.AddDate(0, 0, 20000+rng.IntN(60000))
		cell(2, ` s="1"`, fmt.Sprintf("<v>%d</v>", int(day.Sub(epoch).Hours()/24)), day.Format("2006-01-02"))
		secs := rng.IntN(86400)
		at := day.Add(time.Duration(secs) * time.Second)
		serial := strconv.FormatFloat(float64(int(day.Sub(epoch).Hours()/24))+float64(secs)/86400, 'g', -1, 64)
		cell(3, ` s="2"`, "<v>"+serial+"</v>", at.Format("2006-01-02 15:04:05"))
		memo := texts[rng.IntN(len(texts))]
		var esc bytes.Buffer
		xml.EscapeText(&esc, []byte(strings.ReplaceAll(memo, "_x", "_x005F_x")))
		cell(4, ` t="inlineStr"`, `<is><t xml:space="preserve">`+esc.String()+`</t></is>`, memo)
		paid := rng.IntN(2)
		cell(5, ` t="b"`, fmt.Sprintf("<v>%d</v>", paid), []string{"FALSE", "TRUE"}[paid])
		rows.WriteString("</row>")
		w := csv.NewWriter(&csvText)
		w.Write(fields)
		w.Flush()
	}
	return csvText.String(), rows.String()
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// parsedCSV reads the records of text after its header.
func parsedCSV(t *testing.T, text string) [][]string {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records[1:]
}
