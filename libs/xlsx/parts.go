package xlsx

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// The cell formats (cellXfs) every workbook has, by index; a decimal
// scale's follow them.
const (
	styleGeneral = iota
	styleHeader  // bold
	styleDate    // yyyy-mm-dd
	styleDateTime
	styleScales // the first decimal scale's
)

// styles are the cell formats of a sheet's columns: of, by column, and
// scales, the decimal scales shown, in the order of their formats.
type styles struct {
	of     []int
	scales []int32
}

func newStyles(fields []arrow.Field) styles {
	st := styles{of: make([]int, len(fields))}
	index := map[int32]int{}
	for i, f := range fields {
		switch t := f.Type.(type) {
		case *arrow.Date32Type, *arrow.Date64Type:
			st.of[i] = styleDate
		case *arrow.TimestampType:
			st.of[i] = styleDateTime
		case *arrow.Decimal128Type:
			n, ok := index[t.Scale]
			if !ok {
				n = styleScales + len(st.scales)
				index[t.Scale], st.scales = n, append(st.scales, t.Scale)
			}
			st.of[i] = n
		}
	}
	return st
}

// xml is the styles part: ISO dates and timestamps, and each decimal
// scale shown with its places (1200.00, not 1200).
func (st styles) xml() string {
	var fmts, xfs strings.Builder
	fmt.Fprintf(&fmts, `<numFmts count="%d"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd"/><numFmt numFmtId="165" formatCode="yyyy\-mm\-dd\ hh:mm:ss"/>`, 2+len(st.scales))
	for i, s := range st.scales {
		code := "0"
		if s > 0 {
			code += "." + strings.Repeat("0", int(s))
		}
		fmt.Fprintf(&fmts, `<numFmt numFmtId="%d" formatCode="%s"/>`, 166+i, code)
		fmt.Fprintf(&xfs, `<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`, 166+i)
	}
	fmts.WriteString(`</numFmts>`)
	return xmlHeader + `<styleSheet xmlns="` + mainNS + `">` + fmts.String() +
		`<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
		`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
		`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		fmt.Sprintf(`<cellXfs count="%d">`, styleScales+len(st.scales)) +
		`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
		`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
		`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		xfs.String() + `</cellXfs>` +
		`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`
}

const (
	xmlHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	mainNS    = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	relNS     = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	pkgRelNS  = "http://schemas.openxmlformats.org/package/2006/relationships"

	contentTypes = xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`</Types>`
	rootRels = xmlHeader + `<Relationships xmlns="` + pkgRelNS + `">` +
		`<Relationship Id="rId1" Type="` + relNS + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	// workbookXML takes the sheet's name, escaped. Its one view is the
	// sheet view's workbookViewId 0.
	workbookXML = xmlHeader + `<workbook xmlns="` + mainNS + `" xmlns:r="` + relNS + `">` +
		`<bookViews><workbookView/></bookViews><sheets><sheet name="%s" sheetId="1" r:id="rId1"/></sheets></workbook>`
	workbookRels = xmlHeader + `<Relationships xmlns="` + pkgRelNS + `">` +
		`<Relationship Id="rId1" Type="` + relNS + `/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="` + relNS + `/styles" Target="styles.xml"/></Relationships>`
)
