package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// Type is a column's type as the engine sees it.
type Type = kallav1.ColumnType

// MaxDigits is the widest exact decimal the engines hold.
const MaxDigits = 38

// MaxIntegerDigits is the most digits an integer column holds: every one
// fits a BIGINT (CSV integers wider are decimals).
const MaxIntegerDigits = 18

// Setting is what a recipe's types set for a CSV column instead of
// inferring it: its type, and for a date or decimal column the layout its
// values are written in, if not Kalla's own (YYYY-MM-DD, -1234.56).
type Setting struct {
	Type   Type
	Date   DateLayout
	Number NumberLayout
}

const (
	Integer   = kallav1.ColumnType_COLUMN_TYPE_INTEGER
	Decimal   = kallav1.ColumnType_COLUMN_TYPE_DECIMAL
	Date      = kallav1.ColumnType_COLUMN_TYPE_DATE
	Timestamp = kallav1.ColumnType_COLUMN_TYPE_TIMESTAMP
	Text      = kallav1.ColumnType_COLUMN_TYPE_TEXT
	Boolean   = kallav1.ColumnType_COLUMN_TYPE_BOOLEAN
)

// Column is one column of a source.
type Column struct {
	Name string
	Type Type
	// Precision and Scale of a Decimal column (Precision counts all digits).
	Precision, Scale int
	// Padded says that some of a CSV column's numbers or dates have spaces
	// or tabs around them, which must be trimmed before parsing.
	Padded bool `json:",omitempty"`
	// LeadingZeros is, for a CSV column read as text only because some of
	// its numbers are written with leading zeros, the first of those.
	LeadingZeros string `json:",omitempty"`
	// Exponent is, for a CSV column of numbers some of which are written
	// with an exponent (1e-05, as pandas writes small floats), the first of
	// those: the column is text unless a recipe sets it to decimal.
	Exponent string `json:",omitempty"`
	// Odd is, for a CSV column some of whose values are numbers, dates or
	// timestamps but read as text, the first value that made it so ("N/A").
	Odd string `json:",omitempty"`
	// OddLine is Odd's line in the file, and OddFile the file's name
	// where a pattern names several.
	OddLine int    `json:",omitempty"`
	OddFile string `json:",omitempty"`
	// OddRow says that OddLine is a row of a workbook's sheet (see
	// OddPlace).
	OddRow bool `json:",omitempty"`
	// Sample is, for a CSV column of text none of whose values is a number
	// or a date (02/01/2024, "1,234.56"), or of integers (20240102), its
	// first value: a message about comparing it with numbers or dates
	// shows what it holds. It is for messages only and kept out of saved
	// schemas.
	Sample string `json:"-"`
	// NegativeSample is, for such a column of text, its first value that
	// looks negative as accounting writes it, in parentheses or with a
	// trailing minus ("(12.50)"), when the sample does not: a suggested
	// layout must read both.
	NegativeSample string `json:"-"`
	// DateLayout is how a CSV date or timestamp column writes its values,
	// when a recipe's types set one other than ISO ("date DD/MM/YYYY",
	// "timestamp DD.MM.YYYY hh:mm"), and NumberLayout how a decimal
	// column writes its numbers, when they set one other than -1234.56
	// ("decimal 1.234,56", "decimal ($1,234.56)").
	DateLayout   DateLayout   `json:",omitzero"`
	NumberLayout NumberLayout `json:",omitzero"`
	// Empty says that a CSV column holds no value at all (a file of a
	// header only, or every field empty): it has no type of its own, and a
	// plan gives it the type of the column it is compared with.
	Empty bool `json:",omitempty"`
	// Printed says that a PostgreSQL column of text is selected as it
	// prints: its type's cast to text writes it otherwise (inet's adds the
	// mask a single host prints without).
	Printed bool `json:",omitempty"`
	// Float says that a Decimal column is stored as floating point (a
	// Parquet FLOAT or DOUBLE): each value is the decimal it prints as,
	// shortest round trip (1.1, not 1.100000000000000088...), as a CSV
	// export of it would read.
	Float bool `json:",omitempty"`
	// Measured says that a Decimal column's precision and scale were
	// measured from its values (a CSV column, a float, an undeclared
	// PostgreSQL numeric), not declared by the source.
	Measured bool `json:",omitempty"`
	// Unfit says why a database column is read as text though its type is
	// a number or a date: some of its values (NaN, 45 digits, a BC date) no
	// engine type compares as the database does. A rule or key that uses
	// it is refused with this reason.
	Unfit string `json:",omitempty"`
	// Zoned says that some of a CSV timestamp column's values carry a zone
	// offset (2024-01-05T10:00:00+02:00): each is read as its time in UTC,
	// as one without an offset is taken to be.
	Zoned bool `json:",omitempty"`
	// Nanos says that a timestamp column holds nanoseconds (a Parquet
	// timestamp[ns]), which the engine keeps; other timestamps hold
	// microseconds.
	Nanos bool `json:",omitempty"`
}

// tooWide is the Unfit reason of numbers of n digits.
func tooWide(n int) string {
	return fmt.Sprintf("holds numbers of %d digits, and Kalla computes with at most %d", n, MaxDigits)
}

// TypeName is the column's type in words, for messages.
func (c Column) TypeName() string {
	switch c.Type {
	case Integer:
		return "integer"
	case Decimal:
		return fmt.Sprintf("decimal(%d,%d)", c.Precision, c.Scale)
	case Date:
		return "date"
	case Timestamp:
		return "timestamp"
	case Boolean:
		return "boolean"
	}
	return "text"
}

// Schema is a source's columns in order, with how many records it holds
// when its reader counted them (a CSV file's records, a Parquet source's
// rows as its footers count them; -1 when not counted).
type Schema struct {
	Columns []Column
	Rows    int64
	// Files are the files a Parquet source's schema was read from, in
	// order: the engine reads these, so a part that appears later is
	// neither read nor left unchecked.
	Files []string `json:"-"`
	// FileRows are the records each of Files holds, as its reader counted
	// them.
	FileRows []int64 `json:"-"`
	// CSV is how a CSV source's file is laid out, for the engine's reader.
	CSV CSVLayout
	// Parts are the files of a CSV source that a pattern names, each laid
	// out in its own way, in the order read (Files lists them too).
	Parts []CSVPart `json:"-"`
	// Stamps are the files read, as they were when read: the engine,
	// reading them again, must find them so (see Unchanged).
	Stamps []Stamp `json:"-"`
}

// CSVPart is one file of a CSV source: where it is, how it is laid out,
// and the records it holds.
type CSVPart struct {
	Path   string
	Layout CSVLayout
	Rows   int64
}

// CSVParts are the files a CSV source's engine reads: its parts, or the
// one file at path.
func (s Schema) CSVParts(path string) []CSVPart {
	if len(s.Parts) > 0 {
		return s.Parts
	}
	return []CSVPart{{Path: path, Layout: s.CSV, Rows: s.Rows}}
}

// Stamp is a file's size and time of change.
type Stamp struct {
	Path    string
	Size    int64
	ModTime time.Time
}

func stamp(path string, fi os.FileInfo) Stamp {
	return Stamp{Path: path, Size: fi.Size(), ModTime: fi.ModTime()}
}

// ErrChanged is a file that changed while Kalla read it, as a file still
// being written does: running again once it is written mends it.
var ErrChanged = errors.New("changed while Kalla read it")

// Unchanged fails with ErrChanged, naming the first file whose size or time
// of change is no longer what it was when the schema was read, or that is
// gone: its records may not be those read, nor of the types read.
func (s Schema) Unchanged() error {
	for _, st := range s.Stamps {
		if !st.holds() {
			return fmt.Errorf("%s %w (its size or time of change is not what it was when its columns were read): run again once it is written", st.Path, ErrChanged)
		}
	}
	return nil
}

// holds says whether the file is still as stamped.
func (st Stamp) holds() bool {
	fi, err := os.Stat(st.Path)
	return err == nil && fi.Size() == st.Size && fi.ModTime().Equal(st.ModTime)
}

// Column finds a column by its exact name.
func (s Schema) Column(name string) (Column, bool) {
	for _, c := range s.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Names lists the column names, for messages: quoted where they hold
// surrounding spaces, a comma or a quote, or are empty.
func (s Schema) Names() string {
	names := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		names[i] = c.Name
		if c.Name == "" || strings.TrimSpace(c.Name) != c.Name || strings.ContainsAny(c.Name, ",\"") {
			// Quoted where a list would hide what the name holds.
			names[i] = strconv.Quote(c.Name)
		}
	}
	return strings.Join(names, ", ")
}

// NotCSVError refuses a setting of CSV sources (Field, the recipe's name for
// it) given for a source of another format.
type NotCSVError struct {
	Field  string
	Format Format
}

func (e *NotCSVError) Error() string {
	verb := "applies"
	if e.Field == "types" {
		verb = "apply"
	}
	return fmt.Sprintf("%s %s to CSV sources only; a %s source declares its own layout and types", e.Field, verb, e.Format)
}

// setting names the first setting opts gives, by the recipe's name for it;
// empty when it gives none.
func (opts CSVOptions) setting() string {
	switch {
	case len(opts.Types) > 0:
		return "types"
	case opts.SkipLines > 0:
		return "skip_lines"
	case len(opts.Columns) > 0:
		return "columns"
	case opts.Separator != "":
		return "separator"
	case opts.Encoding != "":
		return "encoding"
	case opts.Sheet != "":
		return "sheet"
	}
	return ""
}

// workbookSettings refuses a sheet for a text file, and a text file's
// settings for a workbook (see Workbook), which holds its own.
func (opts CSVOptions) workbookSettings(path string) error {
	switch {
	case opts.Sheet != "" && !Workbook(path):
		return errors.New("sheet applies to Excel workbooks (.xlsx, .xlsm) only")
	case !Workbook(path):
	case opts.Separator != "":
		return errors.New("separator applies to delimited text files only: a workbook's cells are its fields")
	case opts.Encoding != "":
		return errors.New("encoding applies to delimited text files only: a workbook's text is Unicode")
	}
	return nil
}

// CSVOptions is what a recipe sets for reading a CSV source: columns'
// types by name instead of inferring them, how many lines come before the
// header, and the columns of files without a header row.
type CSVOptions struct {
	Types     map[string]Setting
	SkipLines int
	// Columns names the columns, in order, of files whose every line is a
	// record; empty when each file's first record names them.
	Columns []string
	// Separator is the field separator of every file (see IsSeparator);
	// empty when each file's is found from its text.
	Separator string
	// Encoding is the character encoding of every file (see IsEncoding);
	// empty for UTF-8.
	Encoding string
	// Sheet is the sheet read of every workbook; empty for its first.
	Sheet string
	// CopyDir, when set, receives the CSV file of each workbook sheet
	// read, written as RewriteCSV writes it while the sheet is read for
	// its types (see CSVLayout.Copy): the engine reads it in place of a
	// second reading of the workbook. The caller removes the folder.
	CopyDir string
}

// ReadSchema reads the schema of ref: a CSV or Parquet source from the local
// file or directory at path (ref's own, or a download of its object), a
// PostgreSQL source from its catalog. opts says how to read a CSV source;
// other sources declare their types.
func ReadSchema(ctx context.Context, ref Ref, path string, opts CSVOptions) (Schema, error) {
	if ref.Format == FormatParquet && filepath.Ext(path) == "" {
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
			// Taken for a directory of parts by its name: say what it is.
			return Schema{}, fmt.Errorf("%s is a file without an extension: Kalla reads a %s file, or a directory of .parquet parts; name the file by its type", path, allowedExts)
		}
	}
	if field := opts.setting(); field != "" && ref.Format != FormatCSV {
		return Schema{}, &NotCSVError{Field: field, Format: ref.Format}
	}
	if opts.Encoding != "" && !IsEncoding(opts.Encoding) {
		return Schema{}, fmt.Errorf("encoding %q is none of %s", opts.Encoding, EncodingNames())
	}
	if opts.Separator != "" && !IsSeparator(opts.Separator) {
		return Schema{}, fmt.Errorf("separator %q is none of %s", opts.Separator, SeparatorNames())
	}
	if err := opts.workbookSettings(path); err != nil {
		return Schema{}, err
	}
	switch ref.Format {
	case FormatCSV:
		return CSVSchema(path, opts)
	case FormatParquet:
		return ParquetSchema(path)
	case FormatPostgres:
		return PostgresSchema(ctx, ref)
	}
	return Schema{}, fmt.Errorf("unsupported source format %s", ref.Format)
}
