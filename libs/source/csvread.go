package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// csvReader reads RFC 4180 records as encoding/csv does with its defaults
// (the same fields, blank lines skipped, CRLF read as LF, a bare or stray
// quote refused, every record as wide as the first), refusing a line that is
// not UTF-8 (which encoding/csv lets through), and without allocating
// per record: inference reads every value of a file, and encoding/csv took
// most of that time. The fields it returns are valid until the next call.
type csvReader struct {
	r      *bufio.Reader
	delim  byte   // the field separator, found on the first line
	line   int    // lines read so far
	start  int    // the line the last record read starts on
	width  int    // fields per record, set by the first record
	long   []byte // a line longer than the reader's buffer
	rec    []byte // a quoted record's unescaped fields
	ends   []int
	fields [][]byte
	// What another reader of the file must be told (see Layout): the
	// recipe's settings it was opened with (lines to skip, columns of a file
	// without a header, separator, encoding), and what it found.
	layout   CSVLayout
	crlf, lf bool // some line ends in "\r\n", some in "\n"
	size     int  // bytes of the record being read
	// tabs says the fields are separated by tabs, as a .tsv file's name
	// says, whatever the header holds (a "sep=" line still names another).
	tabs bool
	// quotedCRLF keeps a quoted field's "\r\n" as written, where
	// encoding/csv reads "\n" (see RewriteCSV); lastCRLF says the line
	// read last ended in "\r\n".
	quotedCRLF, lastCRLF bool
}

// CSVLayout is what the engine's CSV reader must be told to read a file as
// csvReader did.
type CSVLayout struct {
	// FirstLine is the header's line, after any blank lines; in a file
	// without a header (see Columns), its first record's.
	FirstLine int `json:",omitempty"`
	// LongestRecord is the longest record's size in bytes.
	LongestRecord int `json:",omitempty"`
	// MixedEnds says that some lines end in "\r\n" and others in "\n".
	MixedEnds bool `json:",omitempty"`
	// BlankLines says that blank lines come after the header, which in a
	// file of one column another reader takes for empty values.
	BlankLines bool `json:",omitempty"`
	// Delimiter separates the fields, when not a comma (see delimiter).
	Delimiter string `json:",omitempty"`
	// SkipLines is how many lines the recipe says come before the header,
	// passed over as they are.
	SkipLines int `json:",omitempty"`
	// Columns is, for a file without a header row, how many columns the
	// recipe names for it; 0 when the file's first record names them.
	Columns int `json:",omitempty"`
	// Separator is the field separator the recipe sets for every file,
	// which no file's text overrides; empty when each file's is found.
	Separator string `json:",omitempty"`
	// Encoding is the character encoding the recipe sets (see IsEncoding),
	// read as UTF-8; empty for UTF-8.
	Encoding string `json:",omitempty"`
	// Sheet is the sheet read of a workbook (see Workbook): the recipe's,
	// or the workbook's first. Lines are then the sheet's rows.
	Sheet string `json:",omitempty"`
	// Copy is the sheet as RewriteCSV writes it, written while it was
	// read for its types (see CSVOptions.CopyDir); nil when none was.
	Copy *CSVCopy `json:"-"`
}

// CSVCopy is a CSV file written of a source's file as RewriteCSV writes
// it, laid out as its layout's Rewritten; Stamp is the source's file as it
// was when copied, which a later reading of it must find (see CSVLines).
type CSVCopy struct {
	Path          string
	LongestRecord int
	Stamp         Stamp
}

// CopyError is a failure to write a CSVCopy: the machine's (its disk),
// not the source's.
type CopyError struct{ Err error }

func (e *CopyError) Error() string { return "write a CSV copy of a workbook's sheet: " + e.Err.Error() }
func (e *CopyError) Unwrap() error { return e.Err }

// Headerless says that the file has no header row: every record is data.
func (l CSVLayout) Headerless() bool { return l.Columns > 0 }

// separator is the separator the recipe sets, 0 for none.
func (l CSVLayout) separator() byte {
	if l.Separator == "" {
		return 0
	}
	return l.Separator[0]
}

// Rewritten is the layout of the file as RewriteCSV writes it, but for its
// longest record, which the rewrite measures.
func (l CSVLayout) Rewritten() CSVLayout {
	return CSVLayout{FirstLine: 1, Columns: l.Columns}
}

// NeedsRewrite says whether another reader must be given the file as
// Kalla's reader rewrites it (see RewriteCSV): where it is a workbook's
// sheet (the rewrite is CSV), where it is not UTF-8 (the rewrite is), where lines to skip come
// before the header, which they would read as CSV (a quote there would
// swallow lines), or where blank lines come among lines ending in "\n" and
// in "\r\n", as DuckDB's reader may take "\n\r\n" for one line's end, which
// loses a blank line it must skip before the header and makes empty
// records of a file of one column.
func (l CSVLayout) NeedsRewrite() bool {
	return l.Sheet != "" || l.Encoding != "" || l.SkipLines > 0 || l.MixedEnds && (l.BlankLines || l.FirstLine > 1)
}

func (c *csvReader) recordStart() int { return c.start }

// Layout is the layout of what has been read so far.
func (c *csvReader) Layout() CSVLayout {
	l := c.layout
	l.MixedEnds = c.crlf && c.lf
	return l
}

// newCSVReader reads r through a buffer of size bytes; a line longer than
// that is copied whole.
func newCSVReader(r io.Reader, size int) *csvReader {
	return &csvReader{r: bufio.NewReaderSize(r, size)}
}

// errQuote and errBareQuote are encoding/csv's words for the two ways a
// quote can be misplaced.
var (
	errQuote     = errors.New(`extraneous or missing " in quoted-field`)
	errBareQuote = errors.New(`bare " in non-quoted-field`)
)

// read returns the next record, or io.EOF after the last.
func (c *csvReader) read() ([][]byte, error) {
	c.size = 0
	if c.layout.FirstLine == 0 {
		if err := c.passOver(); err != nil {
			return nil, err
		}
	}
	line, err := c.nextLine()
	if errors.Is(err, io.EOF) && c.layout.FirstLine == 0 && c.layout.Headerless() {
		// A file of blank lines alone holds no record: another reader
		// must pass over them, as a file of one column reads them.
		c.setStart(c.line + 1)
	}
	if err != nil {
		return nil, err
	}
	if c.layout.FirstLine == 0 {
		if line, err = c.begin(line); err != nil {
			return nil, err
		}
	}
	c.start = c.line
	if bytes.IndexByte(line, '"') < 0 {
		if bytes.IndexByte(line, '\r') >= 0 {
			return nil, c.strayCR()
		}
		c.fields = c.fields[:0]
		for {
			i := bytes.IndexByte(line, c.delim)
			if i < 0 {
				c.fields = append(c.fields, line)
				break
			}
			c.fields = append(c.fields, line[:i])
			line = line[i+1:]
		}
	} else if err := c.quoted(line); err != nil {
		return nil, err
	}
	if c.width == 0 {
		c.width = len(c.fields)
	}
	if len(c.fields) != c.width {
		return nil, c.wrongWidth()
	}
	c.layout.LongestRecord = max(c.layout.LongestRecord, c.size)
	return c.fields, nil
}

// wrongWidth is the error of a record not as wide as the first, or as the
// recipe's columns of a file without a header.
func (c *csvReader) wrongWidth() error {
	want := "the header has"
	if c.layout.Headerless() {
		want = "the recipe's columns name"
	}
	return fmt.Errorf("record on line %d: wrong number of fields (%d, where %s %d)", c.start, len(c.fields), want, c.width)
}

// begin notes the line the records begin on (the header's, or the first
// record's in a file without one) and the field separator: the one the
// recipe sets, else the one a first line such as "sep=;" names, as Excel
// writes it for itself (the records then begin on the next line), else a
// tab in a .tsv file, else the one the header shows (see delimiter) or,
// without a header, the one that splits the records into the recipe's
// columns (see recordDelimiter). It returns the first record's first line.
func (c *csvReader) begin(line []byte) ([]byte, error) {
	if sep, ok := bytes.CutPrefix(line, []byte("sep=")); ok && len(sep) == 1 && strings.IndexByte(separators, sep[0]) >= 0 {
		if set := c.layout.separator(); set != 0 && sep[0] != set {
			return nil, fmt.Errorf("its first line %s names %s as the separator, and the recipe's separator is %s", line, strconv.QuoteRune(rune(sep[0])), strconv.QuoteRune(rune(set)))
		}
		c.delim = sep[0]
		next, err := c.nextLine()
		switch {
		case errors.Is(err, io.EOF) && !c.layout.Headerless():
			return nil, errors.New("the file holds only the line " + string(line) + ": a header row naming the columns is required after it")
		case errors.Is(err, io.EOF):
			// No record: another reader must pass over the line too.
			c.setStart(c.line + 1)
			return nil, err
		case err != nil:
			return nil, err
		}
		line = next
	} else if set := c.layout.separator(); set != 0 {
		c.delim = set
	} else if c.tabs {
		c.delim = '\t'
	} else {
		// A quoted name may go on past the line: what follows is looked
		// at, not read.
		next, _ := c.r.Peek(c.r.Buffered())
		var err error
		if c.layout.Headerless() {
			c.delim, err = recordDelimiter(line, next, c.layout.Columns, c.line)
		} else {
			c.delim, err = delimiter(line, next)
		}
		if err != nil {
			return nil, err
		}
	}
	c.setStart(c.line)
	return line, nil
}

// setStart notes the records' first line and the separator found.
func (c *csvReader) setStart(line int) {
	c.layout.FirstLine = line
	if c.delim != ',' && c.delim != 0 {
		c.layout.Delimiter = string(c.delim)
	}
}

// separators are the field separators Kalla reads, the comma first.
const separators = ",;\t|"

// IsSeparator says whether s is one of the field separators Kalla reads.
func IsSeparator(s string) bool { return len(s) == 1 && strings.Contains(separators, s) }

// SeparatorNames names the field separators Kalla reads.
func SeparatorNames() string { return separatorNames([]int{0, 1, 2, 3}) }

// delimiter is the field separator of a file whose header record starts
// with line, next being the text after it: a comma, unless the header
// holds none outside quotes but one of semicolon, tab and bar, as European
// spreadsheets write (a comma is their decimal point). A header holding
// more than one of those and no comma is refused: either may separate.
func delimiter(line, next []byte) (byte, error) {
	var seen [len(separators)]bool
	quoted := false
	scan := func(text []byte) {
		for _, b := range text {
			switch {
			case b == '"':
				quoted = !quoted
			case !quoted && b == '\n':
				return
			case !quoted:
				if i := strings.IndexByte(separators, b); i >= 0 {
					seen[i] = true
				}
			}
		}
	}
	scan(line)
	if quoted {
		scan(next)
	}
	if seen[0] {
		return ',', nil
	}
	var found []int
	for i, s := range seen {
		if s {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 0:
		return ',', nil
	case 1:
		return separators[found[0]], nil
	}
	return 0, fmt.Errorf("the header holds %s outside quotes and no comma: Kalla reads fields separated by a comma, "+
		"or by the one of ';', tab and '|' the header holds, and cannot tell which of those separates these: set the source's separator in the recipe", separatorNames(found))
}

// recordDelimiter is the field separator of a file without a header, whose
// first record starts on line n with line, next being the text after it:
// the one of separators under which that record is the width fields the
// recipe's columns name, read as csvReader reads. Where several are (a
// European "1,5;2,5;x" is three fields by either), the records after it
// in next narrow them; where several still are, it is refused (the recipe
// may set it), unless width is 1 (none of them is in the file).
func recordDelimiter(line, next []byte, width, n int) (byte, error) {
	text := append(append(slices.Clip(line), '\n'), next...)
	var first [len(separators)]int
	var fit, fitLater []int
	for i := range separators {
		fields, rest, _, valid := recordWidth(text, separators[i])
		if !valid || fields != width {
			first[i] = fields
			continue
		}
		fit = append(fit, i)
		if laterFit(rest, separators[i], width) {
			fitLater = append(fitLater, i)
		}
	}
	switch {
	case len(fit) == 0:
		return 0, fmt.Errorf("line %d does not split into the %d fields the recipe's columns name: %s", n, width, splits(first))
	case len(fitLater) > 0:
		fit = fitLater // with none, a record after the first is wrong: named where it is read
	}
	if len(fit) > 1 && width > 1 {
		return 0, fmt.Errorf("its records split into the %d fields the recipe's columns name by %s alike: Kalla cannot tell which separates them; "+
			"set the source's separator in the recipe", width, separatorNames(fit))
	}
	return separators[fit[0]], nil
}

// laterFit says whether the whole records text holds, up to 100 of them,
// are width fields each under the separator sep.
func laterFit(text []byte, sep byte, width int) bool {
	for range 100 {
		fields, rest, whole, valid := recordWidth(text, sep)
		switch {
		case !valid:
			return false
		case !whole:
			return true
		case fields != width:
			return false
		}
		text = rest
	}
	return true
}

// recordWidth reads the record text starts with as csvReader would with the
// separator sep: its fields, what follows it, whether it ends in a line
// end (whole), and whether its quotes stand where a field allows them
// (valid: a field's opening and closing quotes only). Blank lines before it
// are passed over; a record cut short by the end of text is valid.
func recordWidth(text []byte, sep byte) (fields int, rest []byte, whole, valid bool) {
	for {
		if t, ok := bytes.CutPrefix(text, []byte("\n")); ok {
			text = t
		} else if t, ok := bytes.CutPrefix(text, []byte("\r\n")); ok {
			text = t
		} else {
			break
		}
	}
	fields = 1
	for i := 0; ; {
		if i < len(text) && text[i] == '"' {
			for i++; ; i++ {
				j := bytes.IndexByte(text[i:], '"')
				if j < 0 {
					return fields, nil, false, true
				}
				i += j + 1
				if i == len(text) || text[i] != '"' {
					break
				}
			}
		} else {
			for i < len(text) && text[i] != sep && text[i] != '\n' {
				if text[i] == '"' {
					return fields, nil, false, false
				}
				i++
			}
		}
		switch {
		case i == len(text):
			return fields, nil, false, true
		case text[i] == sep:
			fields++
			i++
		case text[i] == '\n':
			return fields, text[i+1:], true, true
		case text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n':
			return fields, text[i+2:], true, true
		default:
			return fields, nil, false, false
		}
	}
}

// splits says how many fields a record splits into by each separator it
// holds.
func splits(counts [len(separators)]int) string {
	var by []string
	for i, count := range counts {
		if count > 1 {
			by = append(by, fmt.Sprintf("%d by %s", count, strconv.QuoteRune(rune(separators[i]))))
		}
	}
	if len(by) == 0 {
		return "it holds none of the separators " + SeparatorNames() + ", so it is one field"
	}
	return "it splits into " + strings.Join(by, ", ")
}

// separatorNames names separators by their places in separators.
func separatorNames(places []int) string {
	names := make([]string, len(places))
	for i, p := range places {
		names[i] = strconv.QuoteRune(rune(separators[p]))
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// strayCR refuses a carriage return outside quotes that ends no line: other
// readers take it for a line's end, as files from old Macs use it.
func (c *csvReader) strayCR() error {
	return fmt.Errorf("line %d holds %w", c.line, errStrayCR)
}

var errStrayCR = errors.New(`a carriage return (\r) outside quotes: lines that end in \r alone are not read; convert them to \n (for example with tr '\r' '\n')`)

// quoted parses a record holding quotes into c.rec, reading further lines
// while a quoted field goes on.
func (c *csvReader) quoted(line []byte) error {
	c.rec, c.ends = c.rec[:0], c.ends[:0]
	for {
		if len(line) > 0 && line[0] == '"' {
			opened := c.line
			line = line[1:]
			for {
				i := bytes.IndexByte(line, '"')
				if i < 0 {
					// The field goes on past the line's end.
					c.rec = append(c.rec, line...)
					if c.quotedCRLF && c.lastCRLF {
						c.rec = append(c.rec, '\r')
					}
					c.rec = append(c.rec, '\n')
					next, err := c.rawLine()
					if err == io.EOF {
						return fmt.Errorf("line %d: %w: the quote opening a field there is not closed by the end of the file (line %d)", opened, errQuote, c.line)
					}
					if err != nil {
						return err
					}
					line = next
					continue
				}
				c.rec = append(c.rec, line[:i]...)
				line = line[i+1:]
				if len(line) > 0 && line[0] == '"' {
					c.rec = append(c.rec, '"')
					line = line[1:]
					continue
				}
				break
			}
			c.ends = append(c.ends, len(c.rec))
			switch {
			case len(line) > 0 && line[0] == c.delim:
				line = line[1:]
			case len(line) == 0:
				c.split()
				return nil
			default:
				return fmt.Errorf("line %d: %w", c.line, errQuote)
			}
			continue
		}
		i := bytes.IndexByte(line, c.delim)
		last := i < 0
		if last {
			i = len(line)
		}
		if bytes.IndexByte(line[:i], '"') >= 0 {
			return fmt.Errorf("line %d: %w", c.line, errBareQuote)
		}
		if bytes.IndexByte(line[:i], '\r') >= 0 {
			return c.strayCR()
		}
		c.rec = append(c.rec, line[:i]...)
		c.ends = append(c.ends, len(c.rec))
		if last {
			c.split()
			return nil
		}
		line = line[i+1:]
	}
}

func (c *csvReader) split() {
	c.fields = c.fields[:0]
	from := 0
	for _, end := range c.ends {
		c.fields = append(c.fields, c.rec[from:end])
		from = end
	}
}

// passOver reads the lines before the header that the recipe says to skip,
// as they are: an export's title or account lines, in any encoding.
func (c *csvReader) passOver() error {
	for c.line < c.layout.SkipLines {
		line, err := c.r.ReadSlice('\n')
		n := len(line)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = c.r.ReadSlice('\n')
			n += len(line)
		}
		switch {
		case errors.Is(err, io.EOF) && n == 0:
			before := "its header"
			if c.layout.Headerless() {
				before = "its records"
			}
			return fmt.Errorf("the file ends after %d lines, before the %d lines that skip_lines says come before %s", c.line, c.layout.SkipLines, before)
		case err != nil && !errors.Is(err, io.EOF):
			return err
		}
		c.line++
	}
	return nil
}

// nextLine returns the next line that is not blank.
func (c *csvReader) nextLine() ([]byte, error) {
	for {
		line, err := c.rawLine()
		if err != nil || len(line) > 0 {
			return line, err
		}
		c.layout.BlankLines = c.layout.BlankLines || c.layout.FirstLine > 0
	}
}

// rawLine returns the next line without its "\n" or "\r\n", or io.EOF when
// none is left. A "\r" ending the file is dropped, as encoding/csv does.
func (c *csvReader) rawLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.long = append(c.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = c.r.ReadSlice('\n')
			c.long = append(c.long, line...)
		}
		line = c.long
	}
	if err == io.EOF && len(line) > 0 {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	c.line++
	c.size += len(line)
	c.lastCRLF = bytes.HasSuffix(line, []byte("\r\n"))
	switch {
	case c.lastCRLF:
		c.crlf = true
	case bytes.HasSuffix(line, []byte("\n")):
		c.lf = true
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if c.line == 1 {
		// A byte order mark, as spreadsheets write UTF-8: not data.
		line = bytes.TrimPrefix(line, []byte("\ufeff"))
	}
	if c.line == 1 && (bytes.HasPrefix(line, []byte("\xff\xfe")) || bytes.HasPrefix(line, []byte("\xfe\xff"))) {
		return nil, errors.New(`the file is UTF-16 (it starts with a UTF-16 byte order mark); Kalla reads CSV files as UTF-8: set the source's "encoding": "utf-16" in the recipe, or convert it first, for example with iconv -f UTF-16 -t UTF-8`)
	}
	if !utf8.Valid(line) {
		return nil, fmt.Errorf("line %d is not UTF-8: %q; %s", c.line, line[:min(len(line), 80)], convertHint)
	}
	return line, nil
}

// convertHint says what to do with a file in another encoding, such as a
// spreadsheet's Latin-1 or UTF-16 export.
const convertHint = `Kalla reads CSV files as UTF-8: set the source's encoding in the recipe ("encoding": "latin1", "windows-1252" or "utf-16"), or convert the file first, for example with iconv -f LATIN1 -t UTF-8`
