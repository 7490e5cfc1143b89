package source

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// CSVSchema reads a whole CSV file once and infers each column's type over
// all its values, not a sample: integer, exact decimal (with the largest
// scale seen), ISO date, ISO timestamp, else text. An empty field is NULL.
// Numbers written with leading zeros (007) are codes: their column is text,
// so they are compared and written as they are. types sets columns' types by
// name instead; every value of such a column must be of its type, written
// in its layout if the setting has one. Files without a header row have
// the columns opts names. A pattern's files are read in turn as one table:
// each may be laid out in its own way, but all have the same header, and a
// column's type is inferred over the values of all of them.
func CSVSchema(path string, opts CSVOptions) (Schema, error) {
	files, named := []string{path}, Pattern(path)
	if named {
		var err error
		if files, err = patternFiles(path); err != nil {
			return Schema{}, err
		}
	}
	inputs, err := sheetsOf(files, opts.Sheet)
	if err != nil {
		return Schema{}, err
	}
	named = named || SheetPattern(opts.Sheet)
	ci := csvInference{opts: opts, named: named}
	var s Schema
	for _, in := range inputs {
		part, st, err := ci.readFile(in)
		if err != nil {
			for _, p := range s.Parts {
				if p.Layout.Copy != nil {
					os.Remove(p.Layout.Copy.Path)
				}
			}
			return Schema{}, err
		}
		s.Parts = append(s.Parts, part)
		if st.Path != "" {
			s.Stamps = append(s.Stamps, st)
		}
		s.Files = append(s.Files, in.name)
	}
	s.Columns, s.Rows = ci.columns(), ci.rows
	if !named {
		s.CSV, s.Parts, s.Files = s.Parts[0].Layout, nil, nil
		return s, nil
	}
	for _, p := range s.Parts {
		s.FileRows = append(s.FileRows, p.Rows)
	}
	return s, nil
}

// csvInput is one file of a CSV source, or one sheet of a workbook when
// the recipe's sheet is a pattern: its path, its sheet, and the name
// messages and the evidence give it.
type csvInput struct{ path, sheet, name string }

// sheetsOf lists the inputs of files: each file as itself, or, where sheet
// is a pattern (see SheetPattern), each of its sheets that it matches, in
// the workbook's order, named as Excel names a sheet of another workbook:
// [ledger.xlsx]2024-01.
func sheetsOf(files []string, sheet string) ([]csvInput, error) {
	var inputs []csvInput
	for _, f := range files {
		if !SheetPattern(sheet) || !Workbook(f) {
			inputs = append(inputs, csvInput{path: f, sheet: sheet, name: f})
			continue
		}
		names, err := worksheets(f, sheet)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			inputs = append(inputs, csvInput{path: f, sheet: n, name: filepath.Join(filepath.Dir(f), "["+filepath.Base(f)+"]"+n)})
		}
	}
	return inputs, nil
}

// csvInference infers the columns of CSV files read in turn, whose headers
// must agree.
type csvInference struct {
	// opts are the recipe's settings for every file.
	opts CSVOptions
	// named says that a value's line is named with its file (the files a
	// pattern names).
	named bool
	// names are the header's, as the file first read (header) has them.
	names  []string
	header string
	cols   []inference
	rows   int64
}

// readFile infers the columns of the CSV file at path, with the files read
// before it, and says how it is laid out and what it was when read.
func (ci *csvInference) readFile(in csvInput) (CSVPart, Stamp, error) {
	path := in.path
	fi, err := os.Stat(path)
	if err != nil {
		return CSVPart{}, Stamp{}, err // names the path
	}
	if fi.IsDir() {
		return CSVPart{}, Stamp{}, fmt.Errorf("%s is a directory; a CSV source names a file, or its files by a pattern (a directory whose name does not end like a CSV file is read as Parquet parts)", path)
	}
	if !fi.Mode().IsRegular() {
		// Opening a pipe would wait for its writer.
		return CSVPart{}, Stamp{}, fmt.Errorf("%s is not a regular file (%s): Kalla reads a CSV file twice, for its types and to reconcile it, and a workbook from a file, so save it to a file first", path, fi.Mode().Type())
	}
	cr, err := openRecords(path, CSVLayout{SkipLines: ci.opts.SkipLines, Columns: len(ci.opts.Columns), Separator: ci.opts.Separator, Encoding: ci.opts.Encoding, Sheet: in.sheet})
	if err != nil {
		return CSVPart{}, Stamp{}, err // names the path
	}
	defer cr.Close()
	var copying *copyingReader
	if ci.opts.CopyDir != "" && Workbook(path) {
		if copying, err = newCopyingReader(cr, ci.opts.CopyDir); err != nil {
			return CSVPart{}, Stamp{}, &CopyError{err}
		}
		cr = copying
	}
	rows, err := ci.infer(cr, in)
	var copied *CSVCopy
	if copying != nil {
		copied, err = copying.finish(err, stamp(path, fi))
	}
	if err != nil {
		if !stamp(path, fi).holds() {
			// A half-written last line, not the file's fault.
			return CSVPart{}, Stamp{}, fmt.Errorf("%s %w: run again once it is written", path, ErrChanged)
		}
		return CSVPart{}, Stamp{}, fmt.Errorf("read %s: %w", in.name, err) // a sheet's: [book.xlsx]sheet
	}
	part := CSVPart{Path: path, Layout: cr.Layout(), Rows: rows}
	if copied != nil {
		// The engine reads the copy: the workbook may change from now on.
		part.Layout.Copy = copied
		return part, Stamp{}, nil
	}
	return part, stamp(path, fi), nil
}

// recordReader reads a file's records, as csvReader reads a text file's
// and sheetReader a workbook's sheet.
type recordReader interface {
	// read returns the next record, or io.EOF after the last; its fields
	// are valid until the next call.
	read() ([][]byte, error)
	// recordStart is the line (a sheet's row) the last record read starts on.
	recordStart() int
	// Layout is what another reader must be told to read the file alike.
	Layout() CSVLayout
	Close() error
}

// openRecords opens a reader of the records of the file at path, laid out
// as l says: a workbook's sheet (see openSheet) or delimited text (see
// openCSV).
func openRecords(path string, l CSVLayout) (recordReader, error) {
	if Workbook(path) {
		return openSheet(path, l)
	}
	cr, f, err := openCSV(path, l)
	if err != nil {
		return nil, err
	}
	return csvFile{cr, f}, nil
}

// csvFile is a csvReader that closes its file.
type csvFile struct {
	*csvReader
	f io.Closer
}

func (c csvFile) Close() error { return c.f.Close() }

// openCSV opens a reader of the delimited text file at path, through gzip
// when its name ends in .gz (Gzipped), decoded to UTF-8 from the layout's
// encoding if it sets one, its fields separated by tabs when its name says
// .tsv (or by the layout's separator, if it sets one), passing over the
// lines the layout says come before its header, its records as wide as the
// layout's columns if it has no header; closing the file is the caller's.
func openCSV(path string, l CSVLayout) (*csvReader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err // names the path
	}
	var r io.ReadCloser = f
	if Gzipped(path) {
		switch z, err := gzip.NewReader(f); {
		case errors.Is(err, io.EOF):
			// An empty file: empty as text too.
		case err != nil:
			f.Close()
			return nil, nil, fmt.Errorf("%s is not gzip data, though its name ends in .gz (%w)", path, err)
		default:
			r = gzipFile{z, f}
		}
	}
	cr := newCSVReader(decoded(r, l.Encoding), bufferSize(f, path))
	cr.tabs, cr.width = strings.HasPrefix(FileExt(path), ".tsv"), l.Columns
	cr.layout = CSVLayout{SkipLines: l.SkipLines, Columns: l.Columns, Separator: l.Separator, Encoding: l.Encoding}
	return cr, r, nil
}

// bufferSize is the size of the buffer that reads the file f at path: a
// small plain file needs no more than its size, which counts where a
// pattern names thousands of them.
func bufferSize(f *os.File, path string) int {
	const most = 1 << 20
	if fi, err := f.Stat(); err == nil && !Gzipped(path) && fi.Size() < most {
		return max(int(fi.Size())+1, 4096)
	}
	return most
}

// gzipFile reads a file through gzip, saying so when the data ends early.
type gzipFile struct {
	z *gzip.Reader
	f *os.File
}

func (g gzipFile) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = errors.New("its gzip data ends early: the file is cut short")
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		err = fmt.Errorf("its gzip data is damaged (%w)", err)
	}
	return n, err
}

func (g gzipFile) Close() error {
	g.z.Close()
	return g.f.Close()
}

// CSVLines returns the line each of records starts on in the CSV file at
// path, laid out as layout says, records numbered from 1 after the header
// (if it has one) as Kalla's reader reads them: a quoted field may hold
// line ends, and blank lines are skipped, so a record's line is not its
// number plus one.
func CSVLines(path string, layout CSVLayout, records []int64) (map[int64]int, error) {
	if c := layout.Copy; c != nil && !c.Stamp.holds() {
		// The engine read the copy: the file now may not be the one copied.
		return nil, fmt.Errorf("%s %w", path, ErrChanged)
	}
	cr, err := openRecords(path, layout)
	if err != nil {
		return nil, err // names the path
	}
	defer cr.Close()
	want := map[int64]bool{}
	var last int64
	for _, n := range records {
		want[n], last = true, max(last, n)
	}
	lines := make(map[int64]int, len(want))
	first := int64(0) // record 0 is the header
	if layout.Headerless() {
		first = 1
	}
	for n := first; n <= last; n++ {
		if _, err := cr.read(); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if want[n] {
			lines[n] = cr.recordStart()
		}
	}
	if c := layout.Copy; c != nil && !c.Stamp.holds() {
		return nil, fmt.Errorf("%s %w", path, ErrChanged)
	}
	return lines, nil
}

// infer reads the records of cr, reading in, into the columns'
// inference, and returns how many there were.
func (ci *csvInference) infer(cr recordReader, in csvInput) (int64, error) {
	names := ci.opts.Columns
	if len(names) == 0 {
		header, err := cr.read()
		if errors.Is(err, io.EOF) {
			return 0, errors.New("the file is empty: a header row naming the columns is required (or columns in the recipe, for files without one)")
		}
		if err != nil {
			return 0, err
		}
		if names, err = columnNames(header); err != nil {
			return 0, err
		}
	}
	if err := ci.setHeader(names, in); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	var reading sync.WaitGroup
	defer func() {
		close(done)
		reading.Wait() // the file is not closed under the reader
	}()
	batches, free := readAhead(cr, done, &reading)
	cols := ci.cols
	var rows int64
	for b := range batches {
		if rows == 0 && len(ci.opts.Columns) > 0 && len(b.lines) > 0 && b.namesColumns(names) {
			return 0, fmt.Errorf("%s %d names the columns %s, as a header row does, where the recipe's columns say the file has none: "+
				"leave columns out to read that %s as the header", LineWord(in.path), b.lines[0], (Schema{Columns: columnsNamed(names)}).Names(), LineWord(in.path))
		}
		from := 0
		for r, line := range b.lines {
			for i := range cols {
				end := b.ends[r*len(cols)+i]
				v := b.data[from:end]
				from = end
				cols[i].add(v, line)
				if !cols[i].fits() {
					return 0, cols[i].typeError(names[i], line, string(v))
				}
			}
		}
		rows += int64(len(b.lines))
		if b.err != nil {
			return 0, b.err
		}
		free <- b
	}
	ci.rows += rows
	return rows, nil
}

// setHeader takes the names of the header of in: the first file's make
// the columns, and every other file (or sheet) must name the same ones in
// the same order, as the engine reads each file's fields by their place.
func (ci *csvInference) setHeader(names []string, in csvInput) error {
	if ci.cols == nil {
		ci.names, ci.header, ci.cols = names, filepath.Base(in.name), make([]inference, len(names))
		for i, name := range names {
			// A name the file lacks is the plan's to refuse, at its field.
			ci.cols[i].set = ci.opts.Types[name]
		}
	}
	if !slices.Equal(names, ci.names) {
		return fmt.Errorf("its header names the columns %s, and %s's names %s: the files a pattern names are read as one table, so their headers must name the same columns in the same order",
			(Schema{Columns: columnsNamed(names)}).Names(), ci.header, (Schema{Columns: columnsNamed(ci.names)}).Names())
	}
	for i := range ci.cols {
		ci.cols[i].rows = Workbook(in.path)
		if ci.named {
			ci.cols[i].file = filepath.Base(in.name)
		}
	}
	return nil
}

// columnsNamed are columns of names, for Schema.Names.
func columnsNamed(names []string) []Column {
	cols := make([]Column, len(names))
	for i, name := range names {
		cols[i].Name = name
	}
	return cols
}

// columns are the columns as inferred over every file read.
func (ci *csvInference) columns() []Column {
	cols := make([]Column, len(ci.names))
	for i, name := range ci.names {
		cols[i] = ci.cols[i].column(name)
	}
	return cols
}

// recordBatch is records read ahead of the inference: their fields end to
// end in data, where each field ends in ends, and the line each record
// starts on.
type recordBatch struct {
	data  []byte
	ends  []int
	lines []int
	// err is the reader's, after the records.
	err error
}

// A recordBatch holds up to batchRecords records, and stops at the record
// that takes it past batchBytes: large enough that handing batches over
// costs nothing next to reading and checking them, and small enough that
// the batches in flight of a file of long records hold little memory.
const (
	batchRecords = 4096
	batchBytes   = 1 << 20
)

// namesColumns says whether the batch's first record is names, as a header
// row would name them (spaces and case aside).
func (b *recordBatch) namesColumns(names []string) bool {
	from := 0
	for i, name := range names {
		if !strings.EqualFold(strings.TrimSpace(string(b.data[from:b.ends[i]])), name) {
			return false
		}
		from = b.ends[i]
	}
	return true
}

// readAhead reads cr's records into batches on a goroutine of its own, so
// that reading a file and checking its values take a core each. It stops
// after an error, at the end of the file, or when done closes. Batches
// sent back on free are filled again.
func readAhead(cr recordReader, done <-chan struct{}, reading *sync.WaitGroup) (batches <-chan *recordBatch, free chan<- *recordBatch) {
	out := make(chan *recordBatch, 2)
	// Room for every batch there is: sending one back never waits.
	spare := make(chan *recordBatch, cap(out)+2)
	reading.Go(func() {
		defer close(out)
		made := 0
		for {
			var b *recordBatch
			select {
			case b = <-spare:
			default:
				if made < cap(spare) {
					b, made = &recordBatch{}, made+1
					break
				}
				select { // every batch is out: wait for one
				case b = <-spare:
				case <-done:
					return
				}
			}
			b.data, b.ends, b.lines, b.err = b.data[:0], b.ends[:0], b.lines[:0], nil
			for len(b.lines) < batchRecords && len(b.data) < batchBytes && b.err == nil {
				rec, err := cr.read()
				if err != nil {
					b.err = err
					break
				}
				b.lines = append(b.lines, cr.recordStart())
				for _, f := range rec {
					b.data = append(b.data, f...)
					b.ends = append(b.ends, len(b.data))
				}
			}
			end := errors.Is(b.err, io.EOF)
			if end {
				b.err = nil
			}
			select {
			case out <- b:
			case <-done:
				return
			}
			if end || b.err != nil {
				return
			}
		}
	})
	return out, spare
}

// TypeError is a CSV value that is not of the type a recipe sets for its
// column.
type TypeError struct {
	Column string
	Line   int
	// Row says that Line is a workbook sheet's row.
	Row   bool
	Value string
	Setting
	// IntDigits and Scale are, when the value is a decimal that makes the
	// column's numbers together wider than 38 digits, what they need.
	IntDigits, Scale int
}

func (in *inference) typeError(column string, line int, value string) *TypeError {
	e := &TypeError{Column: column, Line: line, Row: in.rows, Value: value, Setting: in.set}
	if in.set.Type == Decimal && !in.notNumber && in.narrow {
		e.IntDigits, e.Scale = in.intDigits, in.scale
	}
	return e
}

func (e *TypeError) Error() string {
	if e.IntDigits+e.Scale > 0 {
		return fmt.Sprintf("%s %d, column %s: with %q the column's numbers need %d digits (%d before the point, %d after), and Kalla computes with at most %d",
			lineWord(e.Row), e.Line, e.Column, e.Value, e.IntDigits+e.Scale, e.IntDigits, e.Scale, MaxDigits)
	}
	words := typeWords[e.Type]
	switch {
	case e.Date.HasTime():
		words = "a timestamp written " + e.Date.String()
	case !e.Date.IsZero():
		words = "a date written " + e.Date.String()
	case !e.Number.IsZero():
		words = "a decimal number written like " + e.Number.String()
		if _, ok := e.Number.AppendPlain(nil, []byte(e.Value)); ok {
			words = typeWords[Decimal] // written so, but too wide
		}
	}
	msg := fmt.Sprintf("%s %d, column %s: %q is not %s, the type the recipe sets for it", lineWord(e.Row), e.Line, e.Column, e.Value, words)
	if l, ok := e.Number.negativeReading(e.Value); ok {
		msg += fmt.Sprintf(`; its negative numbers are written otherwise: "decimal %s" reads it`, l)
	}
	if cur := e.Number.otherCurrency(e.Value); cur != "" {
		msg += fmt.Sprintf("; its currency is %s, the column's %s", cur, e.Number.Currency())
	}
	if _, scale, ok := parseDecimal(trimSpace([]byte(e.Value))); e.Type == Integer && ok && scale == 0 {
		msg += " (decimal holds whole numbers of up to 38 digits)"
	}
	return msg
}

var typeWords = map[Type]string{Integer: "an integer of at most 18 digits", Decimal: "a decimal number of at most 38 digits", Date: "an ISO date (YYYY-MM-DD)",
	Timestamp: "an ISO date or timestamp (YYYY-MM-DD HH:MM:SS)"}

func columnNames(header [][]byte) ([]string, error) {
	names := make([]string, len(header))
	seen := map[string]bool{}
	for i, field := range header {
		h := string(field)
		if h == "" {
			return nil, fmt.Errorf("header column %d has no name", i+1)
		}
		if seen[h] {
			return nil, fmt.Errorf("header names column %q twice", h)
		}
		seen[h] = true
		names[i] = h
	}
	return names, nil
}

// inference narrows a column's possible types as values arrive.
type inference struct {
	seen, padded                   bool
	notInt, notDec, notDate, notTS bool
	intDigits, scale               int
	// zoned says some timestamp has a zone offset (Z, +02:00).
	zoned bool
	// zeros is the first number seen written with leading zeros and
	// exponent the first written with an exponent (1e-05), while every
	// value is a number. Both set notInt and notDec: such a column is text
	// unless the recipe sets its type. notNumber is set by values that are
	// no numbers at all.
	zeros, exponent string
	notNumber       bool
	// typed says some value was of a type other than text; odd is the
	// first value that is of none (hasOdd: there is one).
	typed, hasOdd bool
	odd           string
	oddLine       int // the line of odd in the file
	// file is the name of the file being read, and oddFile odd's, where
	// a source's values come from several files.
	file, oddFile string
	// rows says that lines are a workbook sheet's rows.
	rows bool
	// set is what the recipe sets: Type 0 when the column is inferred.
	set Setting
	// narrow says the last number read has at most 38 digits by itself.
	narrow bool
	// first is the first value, as written, and negative the first that
	// looks negative as accounting writes it: (12.50) or 12.50-.
	first, negative string
	// buf holds a value rewritten from the layout set, one at a time.
	buf []byte
}

// add notes the value v, read on line.
func (in *inference) add(v []byte, line int) {
	if len(v) == 0 {
		return
	}
	if !in.seen {
		in.seen, in.first = true, string(v)
	}
	if !in.set.Date.IsZero() {
		var ok bool
		in.buf, ok = in.set.Date.AppendISO(in.buf[:0], v)
		in.notDate, in.notTS = in.notDate || !ok, in.notTS || !ok
		return
	}
	if !in.set.Number.IsZero() {
		var ok bool
		if in.buf, ok = in.set.Number.AppendPlain(in.buf[:0], v); !ok {
			in.notNumber = true
			return
		}
		v = in.buf
	}
	t := trimSpace(v)
	in.padded = in.padded || len(t) != len(v)
	if in.negative == "" && !in.typed && looksNegative(t) {
		in.negative = string(v)
	}
	// A column read as text for how its numbers are written is still
	// parsed, so that zeros and exponent name one only while every value
	// is a number. Until a value of no type is found, each is parsed.
	number := false
	switch {
	case !in.notNumber:
		number = in.addNumber(t)
	case !in.typed:
		number = plainNumber(t)
	}
	temporal := false
	if !in.notTS || !in.hasOdd || !in.typed {
		isDate, isTS, zoned := parseDateTime(t)
		in.notDate = in.notDate || !isDate
		in.notTS = in.notTS || !isDate && !isTS
		in.zoned = in.zoned || zoned
		temporal = isDate || isTS
	}
	in.typed = in.typed || number || temporal
	if !number && !temporal && !in.hasOdd {
		in.odd, in.oddLine, in.oddFile, in.hasOdd = string(v), line, in.file, true
	}
}

// addNumber notes t's digits and says whether it is a number as a number
// column holds them (not a code such as 007 or 1E5).
func (in *inference) addNumber(t []byte) bool {
	intDigits, scale, ok := parseDecimal(t)
	exponent := false
	if !ok {
		intDigits, scale, ok = parseExponent(t)
		exponent = ok
	}
	switch {
	case !ok:
		in.notInt, in.notDec, in.zeros, in.exponent, in.notNumber = true, true, "", "", true
		return false
	case exponent:
		// 1e-05, as pandas writes small floats: the column may as well be
		// codes such as 1E5, so only a recipe makes it a decimal.
		in.notInt, in.notDec = true, true
		if in.exponent == "" {
			in.exponent = string(t)
		}
		ok = false
	case leadingZeros(t):
		// A code such as 007: as a number it would lose its zeros.
		in.notInt, in.notDec = true, true
		if in.zeros == "" {
			in.zeros = string(t)
		}
		ok = false
	case scale > 0 || intDigits > MaxIntegerDigits:
		// Wider than int64: keep it as an exact decimal instead.
		in.notInt = true
	}
	in.intDigits = max(in.intDigits, intDigits)
	in.scale = max(in.scale, scale)
	in.narrow = intDigits+scale <= MaxDigits
	if in.intDigits+in.scale > MaxDigits {
		in.notDec = true
	}
	return ok
}

// fits says whether every value so far is of the type set, if one is:
// numbers may have leading zeros here, as a column set to a number reads
// them.
func (in *inference) fits() bool {
	switch in.set.Type {
	case Integer:
		return !in.notNumber && in.exponent == "" && in.scale == 0 && in.intDigits <= MaxIntegerDigits
	case Decimal:
		return !in.notNumber && in.intDigits+in.scale <= MaxDigits
	case Date:
		return !in.notDate
	case Timestamp:
		return !in.notTS
	}
	return true
}

// column is the column's type: set, when the recipe sets one, else inferred.
func (in *inference) column(name string) Column {
	if in.set.Type != 0 {
		c := Column{Name: name, Type: in.set.Type, Padded: in.padded && in.set.Type != Text, DateLayout: in.set.Date, NumberLayout: in.set.Number}
		if in.set.Type == Decimal {
			c.Precision, c.Scale, c.Exponent, c.Measured = max(in.intDigits+in.scale, 1), in.scale, in.exponent, true
		}
		return c
	}
	c := Column{Name: name, Type: Text, Empty: !in.seen}
	switch {
	case !in.seen:
	case !in.notInt:
		// Its digits, as measured, bound the arithmetic with thresholds.
		c.Type, c.Precision, c.Measured = Integer, max(in.intDigits, 1), true
	case !in.notDec:
		c.Type, c.Precision, c.Scale, c.Measured = Decimal, max(in.intDigits+in.scale, 1), in.scale, true
	case !in.notDate:
		c.Type = Date
	case !in.notTS:
		c.Type, c.Zoned = Timestamp, in.zoned
	}
	c.Padded = in.padded && c.Type != Text
	if c.Type == Integer {
		c.Sample = in.first // 20240102 may be a date
	}
	if c.Type != Text {
		return c
	}
	c.LeadingZeros, c.Exponent = in.zeros, in.exponent
	switch {
	case in.zeros != "" || in.exponent != "":
		// Numbers written as codes are named by zeros and exponent.
	case in.typed:
		c.Odd, c.OddLine, c.OddFile, c.OddRow = in.odd, in.oddLine, in.oddFile, in.rows
	default:
		c.Sample = in.first
		if in.negative != in.first {
			c.NegativeSample = in.negative
		}
	}
	if in.intDigits+in.scale > MaxDigits {
		// No number type holds the column: no note may suggest one.
		c.LeadingZeros, c.Exponent = "", ""
		if !in.notNumber && in.zeros == "" && in.exponent == "" {
			// Numbers all, which compared as text would be wrong (9 > 10).
			c.Unfit = tooWide(in.intDigits+in.scale) + "; set its type to text in the recipe's types to compare it as text"
		}
	}
	return c
}

func trimSpace(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseDecimal accepts [+-]digits[.digits] and returns the number of
// significant integer digits and of fraction digits.
func parseDecimal(s []byte) (intDigits, scale int, ok bool) {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if intDigits > 0 || s[i] != '0' {
			intDigits++
		}
		i++
	}
	if i == 0 {
		return 0, 0, false
	}
	if i == len(s) {
		return intDigits, 0, true
	}
	if s[i] != '.' || i+1 == len(s) {
		return 0, 0, false
	}
	for j := i + 1; j < len(s); j++ {
		if s[j] < '0' || s[j] > '9' {
			return 0, 0, false
		}
	}
	return intDigits, len(s) - i - 1, true
}

// plainNumber says whether s is a number as addNumber counts one.
func plainNumber(s []byte) bool {
	_, _, ok := parseDecimal(s)
	return ok && !leadingZeros(s)
}

// parseExponent accepts a number parseDecimal accepts followed by an
// exponent, [eE][+-]digits, and returns the digits of the value it stands
// for, as parseDecimal does: 1.5e3 is 1500, 4 integer digits; 15e-4 is
// 0.0015, a scale of 4.
func parseExponent(s []byte) (intDigits, scale int, ok bool) {
	e := bytes.IndexAny(s, "eE")
	if e < 0 {
		return 0, 0, false
	}
	mantissa, exp := s[:e], s[e+1:]
	if _, _, ok := parseDecimal(mantissa); !ok {
		return 0, 0, false
	}
	negative := len(exp) > 0 && exp[0] == '-'
	if len(exp) > 0 && (exp[0] == '+' || exp[0] == '-') {
		exp = exp[1:]
	}
	if _, ok := digits(exp); !ok {
		return 0, 0, false
	}
	exp = bytes.TrimLeft(exp, "0")
	if len(exp) > 3 {
		// Far wider than any decimal, yet a number; the engine, which
		// writes the value out in full, is never given such a one.
		return MaxDigits + 1, 0, true
	}
	whole, frac, _ := bytes.Cut(bytes.TrimLeft(mantissa, "+-"), []byte("."))
	all := len(whole) + len(frac)
	zeros := all - len(bytes.TrimLeft(append(append([]byte{}, whole...), frac...), "0"))
	if zeros == all {
		// Zero whatever the exponent: its scale as written before it.
		return 0, len(frac), true
	}
	n, _ := digits(exp) // 0 when every digit was a zero
	if negative {
		n = -n
	}
	point := len(whole) + n // the point's place among all the digits
	return max(point-zeros, 0), max(all-point, 0), true
}

// leadingZeros says whether a number that parseDecimal accepted has a zero
// before another digit of its integer part, as 007 or -00.5 (not 0 or 0.5).
func leadingZeros(s []byte) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return len(s) > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9'
}

// parseDateTime recognises YYYY-MM-DD and YYYY-MM-DD[T ]HH:MM:SS[.ffffff]
// with an optional zone offset (Z, +02, +02:00, -0530): zoned says the
// timestamp has one.
func parseDateTime(s []byte) (isDate, isTimestamp, zoned bool) {
	if len(s) < 10 || !validDate(s[:10]) {
		return false, false, false
	}
	if len(s) == 10 {
		return true, false, false
	}
	time, zone := cutZone(s[10:])
	return false, validTime(time), len(zone) > 0
}

// cutZone splits a zone offset (Z, or + or - and hours, with minutes after
// them or a colon) off the end of a time.
func cutZone(s []byte) (time, zone []byte) {
	if n := len(s); n > 0 && (s[n-1] == 'Z' || s[n-1] == 'z') {
		return s[:n-1], s[n-1:]
	}
	for _, width := range []int{len("+02:00"), len("+0200"), len("+02")} {
		if len(s) <= width {
			continue
		}
		zone := s[len(s)-width:]
		if zone[0] != '+' && zone[0] != '-' {
			continue
		}
		h, okH := digits(zone[1:3])
		m, okM := 0, true
		switch width {
		case len("+02:00"):
			m, okM = digits(zone[4:6])
			okM = okM && zone[3] == ':'
		case len("+0200"):
			m, okM = digits(zone[3:5])
		}
		if okH && okM && h <= 15 && m <= 59 {
			return s[:len(s)-width], zone
		}
	}
	return s, nil
}

// ISODay says whether v, surrounding spaces aside, begins with a date
// written YYYY-MM-DD (iso), and whether that is a day of the calendar as
// the reader reads dates (valid): 2024-02-30 and year 0 are not.
func ISODay(v string) (iso, valid bool) {
	s := trimSpace([]byte(v))
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false, false
	}
	for _, part := range [][]byte{s[0:4], s[5:7], s[8:10]} {
		if _, ok := digits(part); !ok {
			return false, false
		}
	}
	return true, validDate(s[:10])
}

func validDate(s []byte) bool {
	if s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	// Year 0 is no year of the calendar dates are written in (the engine
	// would print it 0001-01-01 (BC)), as for PostgreSQL's dates before 1.
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// validTime checks "THH:MM:SS" or " HH:MM:SS", with up to 6 fraction digits.
func validTime(s []byte) bool {
	if len(s) < 9 || (s[0] != 'T' && s[0] != ' ') || s[3] != ':' || s[6] != ':' {
		return false
	}
	h, ok1 := digits(s[1:3])
	mi, ok2 := digits(s[4:6])
	sec, ok3 := digits(s[7:9])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return false
	}
	frac := s[9:]
	if len(frac) == 0 {
		return true
	}
	_, ok := digits(frac[1:])
	return frac[0] == '.' && len(frac) >= 2 && len(frac) <= 7 && ok
}

func digits(s []byte) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, len(s) > 0
}
