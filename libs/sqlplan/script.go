package sqlplan

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
)

// Tables of the script. Each side is loaded with __id numbering its records
// in primary key order.
const (
	Left       = "kalla_left"
	Right      = "kalla_right"
	Rules      = "kalla_rules"
	Pairs      = "kalla_pairs"
	Candidates = "kalla_candidates"
	Near       = "kalla_near"
	// AggMisses holds the members of groups that failed a rule's aggregate
	// check, with the sentence that says by how much.
	AggMisses = "kalla_agg_misses"
	// Counts holds each rule's groups and matched records.
	Counts = "kalla_counts"
)

// RowColumn holds the 1-based row number of a source without a primary key.
// Read from several files, its records in the evidence also name their file
// (FileColumn) and their row number there (FileRowColumn), and so do the
// other side's near misses among them (NearFileColumn, NearFileRowColumn).
const (
	RowColumn         = "kalla_row"
	FileColumn        = "kalla_file"
	FileRowColumn     = "kalla_file_row"
	NearFileColumn    = "kalla_near_file"
	NearFileRowColumn = "kalla_near_file_row"
)

// ReadCSVParts is a query reading a CSV source's files
// (source.Schema.CSVParts) as one table with each column's inferred type:
// numbers and dates ignore surrounding spaces, text is kept as written, and
// an empty field, quoted or not, is NULL. The files are read in order, each
// by its own layout: a run of files laid out alike is read by one read_csv
// of their list, and the runs are joined by UNION ALL. Both keep the order,
// so a record's place in the table is its place in the files read in turn.
func ReadCSVParts(parts []source.CSVPart, s source.Schema) string {
	var reads []string
	for i := 0; i < len(parts); {
		files := []string{parts[i].Path}
		j := i + 1
		for ; j < len(parts) && alike(parts[i], parts[j]); j++ {
			files = append(files, parts[j].Path)
		}
		s.CSV = parts[i].Layout
		reads = append(reads, readCSV(files, s, ""))
		i = j
	}
	if len(reads) == 1 {
		return reads[0]
	}
	return "SELECT * FROM (" + strings.Join(reads, " UNION ALL ") + ")"
}

// alike says whether two CSV files are read with the same options.
func alike(a, b source.CSVPart) bool {
	return layoutOptions(a.Layout) == layoutOptions(b.Layout) && a.Layout.Delimiter == b.Layout.Delimiter &&
		a.Layout.BlankLines == b.Layout.BlankLines && a.Layout.Headerless() == b.Layout.Headerless() && source.Gzipped(a.Path) == source.Gzipped(b.Path)
}

// ReadCopy is ReadCSVParts for a PostgreSQL table's COPY: there an empty text is
// written quoted ("") and NULL as an empty field, and they stay apart.
func ReadCopy(path string, s source.Schema) string {
	return readCSV([]string{path}, s, ", allow_quoted_nulls = false")
}

// readCSV reads files, laid out alike, as s has them.
func readCSV(files []string, s source.Schema, options string) string {
	options += layoutOptions(s.CSV)
	if source.Gzipped(files[0]) {
		options += ", compression = 'gzip'"
	}
	// In a file of one column DuckDB reads a blank line as an empty value,
	// where Kalla's reader skips it as in any file. An empty value there
	// is written "", which allow_quoted_nulls = false reads as '' apart
	// from the NULL of a blank line.
	blanks := len(s.Columns) == 1 && s.CSV.BlankLines
	where := ""
	if blanks {
		options += ", allow_quoted_nulls = false"
		where = " WHERE " + Ident(s.Columns[0].Name) + " IS NOT NULL"
	}
	spec := make([]string, len(s.Columns))
	casts := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		typ, text := "VARCHAR", Ident(c.Name)
		if blanks {
			text = fmt.Sprintf("nullif(%s, '')", text)
		}
		casts[i] = castText(text, c) + " AS " + Ident(c.Name)
		if parsedByReader(c) && !blanks {
			typ, casts[i] = Type(c), Ident(c.Name)
		}
		spec[i] = fmt.Sprintf("%s: %s", String(c.Name), String(typ))
	}
	return fmt.Sprintf("SELECT %s FROM read_csv(%s, header = %t, auto_detect = false, delim = %s, quote = '\"', escape = '\"'%s, columns = {%s})%s",
		strings.Join(casts, ", "), fileList(files), !s.CSV.Headerless(), String(cmp.Or(s.CSV.Delimiter, ",")), options, strings.Join(spec, ", "), where)
}

// defaultMaxLineSize is DuckDB's default limit on a CSV record's size.
const defaultMaxLineSize = 2_000_000

// layoutOptions tells DuckDB's CSV reader how a file is laid out where its
// defaults would read it otherwise than Kalla's reader did: blank lines
// before the header (or the first record, without one), records longer
// than its limit, and lines that end both in "\r\n" and "\n" (which its
// strict mode refuses; the file's structure was checked by Kalla's reader
// already).
func layoutOptions(l source.CSVLayout) string {
	var b strings.Builder
	if l.FirstLine > 1 {
		fmt.Fprintf(&b, ", skip = %d", l.FirstLine-1)
	}
	if l.LongestRecord >= defaultMaxLineSize/2 {
		fmt.Fprintf(&b, ", max_line_size = %d", max(defaultMaxLineSize, 2*l.LongestRecord))
	}
	if l.MixedEnds {
		b.WriteString(", strict_mode = false")
	}
	return b.String()
}

// parsedByReader says whether DuckDB's CSV reader may parse the column
// itself, which is faster than reading text and casting it: integers,
// decimals and dates without surrounding spaces, whose text the reader and a
// cast read alike (timestamps may carry a zone from PostgreSQL, so they are
// cast).
func parsedByReader(c source.Column) bool {
	return !c.Padded && c.Exponent == "" && c.DateLayout.IsZero() && c.NumberLayout.IsZero() && (c.Type == source.Integer || c.Type == source.Date || c.Type == source.Decimal && !wideDecimal(c))
}

func castText(expr string, c source.Column) string {
	if c.Type == source.Text {
		return expr
	}
	trimmed := fmt.Sprintf("trim(%s, chr(32)||chr(9))", expr)
	if c.Exponent != "" {
		trimmed = withoutExponent(trimmed)
	}
	if !c.NumberLayout.IsZero() {
		trimmed = numberFromLayout(trimmed, c.NumberLayout)
	}
	if wideDecimal(c) {
		return castWideDecimal(trimmed, c)
	}
	if !c.DateLayout.IsZero() {
		return castLayoutDate(trimmed, c.DateLayout)
	}
	if c.Zoned {
		// The session's time zone is UTC: an offset moves the time there,
		// and a time without one stays as it is.
		return fmt.Sprintf("CAST(CAST(%s AS TIMESTAMPTZ) AS TIMESTAMP)", trimmed)
	}
	return fmt.Sprintf("CAST(%s AS %s)", trimmed, Type(c))
}

// castLayoutDate reads a date or timestamp written in layout as the
// YYYY-MM-DD (hh:mm:ss) it stands for, rewritten as
// source.DateLayout.AppendISO rewrites it: the inference checked that
// every value of the column is such a date.
func castLayoutDate(text string, layout source.DateLayout) string {
	if !layout.HasTime() {
		return fmt.Sprintf("CAST(%s AS DATE)", isoDate(text, layout))
	}
	// The date before the last space (or T), then hours, minutes, the
	// seconds the layout may have and, on a 12-hour clock, AM or PM.
	re := String("^(.*)" + layout.TimeSeparator() + "([0-9]+):([0-9]+)(?::([0-9.]+))? ?([AaPp]?)[Mm]?$")
	part := func(i int) string { return fmt.Sprintf("regexp_extract(%s, %s, %d)", text, re, i) }
	hour := part(2)
	if layout.TwelveHour() {
		// 12 AM is 00, 12 PM is 12, 1 PM is 13.
		hour = fmt.Sprintf("CAST(CAST(%s AS INTEGER) %% 12 + CASE WHEN lower(%s) = 'p' THEN 12 ELSE 0 END AS VARCHAR)", hour, part(5))
	}
	return fmt.Sprintf("CAST(%s || ' ' || lpad(%s, 2, '0') || ':' || %s || ':' || coalesce(nullif(%s, ''), '00') AS TIMESTAMP)",
		isoDate(part(1), layout), hour, part(3), part(4))
}

// isoDate rewrites the date text holds in layout as YYYY-MM-DD.
func isoDate(text string, layout source.DateLayout) string {
	parts := map[byte]string{}
	start := 1
	for i := range len(layout.Order()) {
		p := layout.Order()[i]
		if layout.Separator() == "" {
			parts[p] = fmt.Sprintf("substr(%s, %d, %d)", text, start, layout.Width(p))
			start += layout.Width(p)
			continue
		}
		parts[p] = fmt.Sprintf("string_split(%s, %s)[%d]", text, String(layout.Separator()), i+1)
	}
	if layout.ShortYear() {
		parts['Y'] = "'20' || " + parts['Y']
	}
	if layout.NamedMonth() {
		parts['M'] = fmt.Sprintf("CAST(list_position([%s], lower(%s)) AS VARCHAR)", strings.Join(quoted(layout.MonthNames()), ", "), parts['M'])
	}
	return fmt.Sprintf("%s || '-' || lpad(%s, 2, '0') || '-' || lpad(%s, 2, '0')", parts['Y'], parts['M'], parts['D'])
}

// numberFromLayout rewrites a number written in layout as -1234.56, as
// source.NumberLayout.AppendPlain does: the inference checked that every
// value of the column is such a number, so the currency stands once at an
// edge, spaces only beside it or between groups, and a value says at most
// once that it is negative.
func numberFromLayout(text string, layout source.NumberLayout) string {
	for _, r := range layout.Removed() {
		text = fmt.Sprintf("replace(%s, %s, '')", text, String(r))
	}
	if layout.Negative() != "" {
		text = fmt.Sprintf("(CASE WHEN contains(%[1]s, '(') OR ends_with(%[1]s, '-') THEN '-' || replace(replace(replace(%[1]s, '(', ''), ')', ''), '-', '') ELSE %[1]s END)", text)
	}
	if layout.Point() != "." {
		text = fmt.Sprintf("replace(%s, %s, '.')", text, String(layout.Point()))
	}
	return text
}

// withoutExponent rewrites a number written with an exponent as the same
// number without one, moving the point (-1.5e-3 is -0.0015, 1.5E3 is 1500),
// and leaves other text as it is. DuckDB's own cast of 1.5e-3 to a decimal
// reads the digits at the column's precision first, and so loses digits of
// a value that fits: -0.09083e+4 as DECIMAL(4,1) is -908.0, not -908.3.
func withoutExponent(text string) string {
	sign := fmt.Sprintf("regexp_extract(%s, '^[+-]?')", text)
	whole := fmt.Sprintf("regexp_extract(%s, '^[+-]?([0-9]+)', 1)", text)
	frac := fmt.Sprintf(`regexp_extract(%s, '^[+-]?[0-9]+\.([0-9]+)', 1)`, text)
	exp := fmt.Sprintf("CAST(regexp_extract(%s, '[eE]([+-]?[0-9]+)$', 1) AS INTEGER)", text)
	all := "(" + whole + " || " + frac + ")"
	point := fmt.Sprintf("(length(%s) + %s)", whole, exp) // the point's place among all the digits
	return fmt.Sprintf("CASE WHEN NOT regexp_matches(%[1]s, '[eE]') THEN %[1]s "+
		"WHEN %[3]s <= 0 THEN %[2]s || '0.' || repeat('0', -%[3]s) || %[4]s "+
		"WHEN %[3]s >= length(%[4]s) THEN %[2]s || %[4]s || repeat('0', %[3]s - length(%[4]s)) "+
		"ELSE %[2]s || %[4]s[1:%[3]s] || '.' || %[4]s[%[3]s + 1:] END", text, sign, point, all)
}

// wideDecimal says whether a decimal column is wider than 18 digits, which
// DuckDB holds in a 128-bit integer.
func wideDecimal(c source.Column) bool {
	return c.Type == source.Decimal && c.Precision > 18
}

// castWideDecimal converts text the inference read as a decimal ([+-]digits
// [.digits], at most the column's scale after the point) to the column's
// type. DuckDB's own cast of text to a wide decimal takes microseconds a
// value, 10-20x the rest of reading a file (PostgreSQL's numeric arithmetic
// easily yields scales of 20); its digits read as one HUGEINT and shifted by
// the scale give the same value exactly, far faster.
func castWideDecimal(text string, c source.Column) string {
	shift := Decimal(new(big.Rat).Inv(pow10(c.Scale)))
	return fmt.Sprintf("CAST(CAST(CAST(split_part(%[1]s, '.', 1) || rpad(split_part(%[1]s, '.', 2), %[2]d, '0') AS HUGEINT) AS DECIMAL(38,0)) * %[3]s AS %[4]s)",
		text, c.Scale, shift, Type(c))
}

// FloatText is the engine function that prints a FLOAT or DOUBLE as the
// schema reader measured it: the shortest text that reads back as the same
// float of its width, without an exponent (strconv's 'f', -1). DuckDB's own
// cast prints a FLOAT's binary value when that is short (3237370.25 for
// the float32 3237370.2) and small values with an exponent (1e-05).
const FloatText = "kalla_float_text"

// ReadParquet is a query reading Parquet files (a file, or the parts of a
// directory, as source.ParquetSchema listed them) in the order given, parts
// matched by column name. Each column is cast to its type in s, which
// source.ParquetSchema made fit every part: integers of any width are
// BIGINT (a difference of two TINYINTs would overflow), decimals take the
// parts' widest type, and other types (UUID, TIME, BLOB, structs) are
// VARCHAR, compared as the text they print as. A float column becomes the
// exact decimal its values print as (FloatText), not its binary value:
// 1.1, not 1.100000000000000088. Timestamps and booleans are read as they
// are.
func ReadParquet(files []string, s source.Schema) string {
	return readParquet(files, s, "")
}

func readParquet(files []string, s source.Schema, places string) string {
	cols := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		name := Ident(c.Name)
		switch {
		case c.Float:
			cols[i] = fmt.Sprintf("CAST(%s(%s) AS %s) AS %s", FloatText, name, Type(c), name)
		case c.Type == source.Timestamp || c.Type == source.Boolean:
			cols[i] = name
		default:
			cols[i] = fmt.Sprintf("CAST(%s AS %s) AS %s", name, Type(c), name)
		}
	}
	from := fmt.Sprintf("read_parquet(%s)", fileList(files))
	if len(files) > 1 {
		from = fmt.Sprintf("read_parquet(%s, union_by_name = true)", fileList(files))
	}
	return fmt.Sprintf("SELECT %s%s FROM %s", strings.Join(cols, ", "), places, from)
}

// Load stores a side read by the query read, numbering its records by key
// order in __id (numbers numerically, text by bytes): the rows are stored
// in key order, and the side is a view adding their position as __id,
// which is cheaper than a numbering window over the wide rows or a second
// copy of them. A source without a primary key is numbered in file order.
// The columns the source derives are stored beside its own; a filter then
// keeps the records it names.
func Load(table string, in plan.Input, read string, order Order) []string {
	raw := table + "_raw"
	in, read, rowid := stored(in, read)
	rename := "" // the view's columns give a column named rowid its name back
	if rowid != "" {
		rename = fmt.Sprintf(" RENAME (%s AS %s)", storedRowid, Ident(rowid))
	}
	var statements []string
	id := "rowid + 1 AS __id, *" + rename
	switch {
	case len(in.Filters) == 0:
	case keepsWhole(in):
		// Read whole first: the records read are counted (Unfiltered),
		// and one without a key keeps its row number in the file.
		statements = append(statements, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", unfiltered(table), read))
		cols := "*"
		if len(in.Key) == 0 {
			cols, id = "rowid + 1 AS __row, *", "__row AS __id, * EXCLUDE (__row)"+rename
		}
		read = fmt.Sprintf("SELECT %s FROM %s WHERE %s", cols, unfiltered(table), filterWhere(in.Filters))
	default:
		read = fmt.Sprintf("SELECT * FROM (%s) WHERE %s", read, filterWhere(in.Filters))
	}
	if len(in.Key) > 0 && order == KeyOrder {
		read = fmt.Sprintf("SELECT * FROM (%s) ORDER BY %s", read, keyColumns(in))
	}
	return append(statements,
		fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", raw, read),
		fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS SELECT %s FROM %s", table, id, raw),
	)
}

// stored returns the query read with the columns the source derives added
// and its column named rowid, if any, hidden (see hideRowid), and in to
// match.
func stored(in plan.Input, read string) (plan.Input, string, string) {
	if len(in.Extracts)+len(in.Nets)+len(in.Signed) > 0 {
		read = fmt.Sprintf("SELECT %s FROM (%s)", strings.Join(append([]string{"*"}, derived(in)...), ", "), read)
	}
	in, rowid := hideRowid(in)
	if rowid != "" {
		read = fmt.Sprintf("SELECT * RENAME (%s AS %s) FROM (%s)", Ident(rowid), storedRowid, read)
	}
	return in, read, rowid
}

// Order is the order Load stores a side's records in.
type Order int

const (
	// KeyOrder sorts the records by key as they are read.
	KeyOrder Order = iota
	// ReadOrder stores them as read, for a Parquet source whose records
	// come in key order, as an export sorted by its key does
	// (SampleOrderBreaks finds the first SampleRows so): the sort is
	// dearer than the read (1M records of 7 columns: 285-316 ms sorted
	// against 188-239 ms as read, the sample 8-9 ms). Then KeyOrderBreaks
	// tells whether they all were in order, and SortLoaded sorts them where
	// they were not. A CSV source stays sorted as read: DuckDB's reader
	// takes 65-75 ms to give a sample of a thousand records, and even
	// where Kalla's own reader had seen the keys in order, storing them as
	// read saved nothing (the 1M bench invoices: 539-546 ms against 517-553
	// ms sorted; 10M: 4.77 s against 4.76 s), the reader being the cost.
	ReadOrder
)

// SampleRows is how many of a source's first records SampleOrderBreaks
// reads.
const SampleRows = 10_000

// SampleOrderBreaks returns a query counting, among the first SampleRows
// records the query read gives, those whose key is NULL or not greater
// than the key before it; empty for a source without a primary key, or
// not of Parquet.
func SampleOrderBreaks(in plan.Input, read string) string {
	if len(in.Key) == 0 || in.Ref.Format != source.FormatParquet {
		return ""
	}
	return fmt.Sprintf("SELECT count(*) FROM (SELECT %[1]s, %[2]s FROM (SELECT %[1]s FROM (%[3]s) LIMIT %[4]d)) WHERE %[5]s OR %[6]s",
		keyColumns(in), strings.Join(keysBefore(in.Key), ", "), read, SampleRows, anyNull(in.Key), notAfter(in.Key))
}

// SortLoaded sorts a side Load stored in ReadOrder by key.
func SortLoaded(table string, in plan.Input) string {
	in, _ = hideRowid(in)
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %[1]s AS SELECT * FROM %[1]s ORDER BY %[2]s", table+"_raw", keyColumns(in))
}

// storedRowid is the name Load stores a source's column named rowid (in
// any case) under: such a column hides DuckDB's row ids, which number the
// records. The side's view gives the column its name back.
const storedRowid = "__rowid"

// hideRowid returns in with its key and filters reading its column named
// rowid, if any, as storedRowid, and that column's name ("" for none).
func hideRowid(in plan.Input) (plan.Input, string) {
	names := make([]string, 0, len(in.Schema.Columns))
	for _, c := range in.Schema.Columns {
		names = append(names, c.Name)
	}
	for _, c := range in.Derived() {
		names = append(names, c.Name)
	}
	i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, "rowid") })
	if i < 0 {
		return in, ""
	}
	name := names[i]
	hide := func(c source.Column) source.Column {
		if c.Name == name {
			c.Name = storedRowid
		}
		return c
	}
	in.Key = slices.Clone(in.Key)
	for i := range in.Key {
		in.Key[i] = hide(in.Key[i])
	}
	in.Filters = slices.Clone(in.Filters)
	for i := range in.Filters {
		in.Filters[i].Column = hide(in.Filters[i].Column)
	}
	return in, name
}

// Counted is in with Read set to the records its schema's reader counted
// (Kalla's CSV reader, a Parquet source's footers) when no other count was
// given: a filter then needs no copy of the whole side to count the records
// it leaves out.
func Counted(in plan.Input) plan.Input {
	if in.Read == 0 && in.Schema.Rows > 0 {
		in.Read = in.Schema.Rows
	}
	return in
}

// keepsWhole says whether Load reads a side with a filter into a copy of
// the whole side first: to count the records read, unless the source
// counted them (in.Read), and to number records without a key by their
// place in the file.
func keepsWhole(in plan.Input) bool {
	return len(in.Filters) > 0 && (in.Read == 0 || len(in.Key) == 0)
}

// unfiltered is the table a side with a filter is read into whole, before
// the filter keeps its records.
func unfiltered(table string) string { return table + "_unfiltered" }

// Unfiltered is, for a side Load read whole before its filter, the query
// counting the records read (those kept and those left out) and the
// statement dropping the copy; both empty when Load made none.
func Unfiltered(table string, in plan.Input) (count, drop string) {
	if !keepsWhole(in) {
		return "", ""
	}
	return Count(unfiltered(table)), "DROP TABLE " + unfiltered(table)
}

// CheckPattern is a statement that fails when the engine cannot run an
// extract's pattern, before any file is read with it.
func CheckPattern(e plan.Extract) string {
	return fmt.Sprintf("SELECT regexp_extract('', %s, %d)", String(e.Pattern), e.Group)
}

// derived computes the columns a source's extract, net and signed derive.
func derived(in plan.Input) []string {
	var cols []string
	for _, e := range in.Extracts {
		// No match is '', which is no key: NULL, as an empty CSV field.
		value := fmt.Sprintf("nullif(regexp_extract(%s, %s, %d), '')", Ident(e.From.Name), String(e.Pattern), e.Group)
		if e.Column.Type == source.Integer {
			// Not DuckDB's cast alone, which reads 1e3, 1_000 and 0x1F.
			value = fmt.Sprintf("CAST(CASE WHEN regexp_full_match(%[1]s, '[+-]?0*[0-9]{1,%[2]d}') THEN %[1]s END AS BIGINT)", value, source.MaxIntegerDigits)
		}
		cols = append(cols, value+" AS "+Ident(e.Column.Name))
	}
	for _, n := range in.Nets {
		cols = append(cols, fmt.Sprintf("CASE WHEN %[1]s IS NULL AND %[2]s IS NULL THEN NULL ELSE CAST(coalesce(CAST(%[1]s AS %[3]s), 0) - coalesce(CAST(%[2]s AS %[3]s), 0) AS %[3]s) END AS %[4]s",
			Ident(n.Plus.Name), Ident(n.Minus.Name), Type(n.Column), Ident(n.Column.Name)))
	}
	for _, g := range in.Signed {
		cols = append(cols, fmt.Sprintf("CASE WHEN %[1]s IN (%[2]s) THEN CAST(%[3]s AS %[4]s) WHEN %[1]s IN (%[5]s) THEN -CAST(%[3]s AS %[4]s) END AS %[6]s",
			Ident(g.By.Name), strings.Join(quoted(g.Positive), ", "), Ident(g.Value.Name), Type(g.Column), strings.Join(quoted(g.Negative), ", "), Ident(g.Column.Name)))
	}
	return cols
}

// KeyOrderBreaks returns a query counting the records of a loaded side whose
// key is NULL or not greater than the key stored before it, in one pass
// over the stored order. It is 0 when the keys are unique and not NULL and
// __id follows them, as Load means it to; otherwise KeyProblems names the
// keys at fault. It is empty for a source without a primary key.
func KeyOrderBreaks(table string, in plan.Input) string {
	if len(in.Key) == 0 {
		return ""
	}
	prev := append([]string{"lag(__id) OVER () AS __prev_id"}, keysBefore(in.Key)...)
	return fmt.Sprintf("SELECT count(*) FROM (SELECT __id, %s, %s FROM %s) WHERE %s OR __prev_id >= __id OR %s",
		keyColumns(in), strings.Join(prev, ", "), table, anyNull(in.Key), notAfter(in.Key))
}

// keysBefore are the key columns of the record stored before, as
// __prev_<i>, which notAfter compares.
func keysBefore(key []source.Column) []string {
	out := make([]string, len(key))
	for i, c := range key {
		out[i] = fmt.Sprintf("lag(%s) OVER () AS __prev_%d", Ident(c.Name), i)
	}
	return out
}

// notAfter tests that a key is not strictly greater than the key before it
// (its columns as __prev_<i>), compared column by column.
func notAfter(key []source.Column) string {
	out := ""
	for i := len(key) - 1; i >= 0; i-- {
		c, p := Ident(key[i].Name), fmt.Sprintf("__prev_%d", i)
		if out == "" {
			out = fmt.Sprintf("%s >= %s", p, c)
			continue
		}
		out = fmt.Sprintf("%s > %s OR (%s = %s AND (%s))", p, c, p, c, out)
	}
	return out
}

func keyColumns(in plan.Input) string {
	cols := make([]string, len(in.Key))
	for i, c := range in.Key {
		cols[i] = Ident(c.Name)
	}
	return strings.Join(cols, ", ")
}

// KeyProblems returns a query listing up to five keys that are NULL or not
// unique, with how often each appears: text quoted, so that the text "NULL"
// is not taken for an empty key, an empty column as empty, and a composite
// key's columns in parentheses.
func KeyProblems(table string, in plan.Input) string {
	if len(in.Key) == 0 {
		return ""
	}
	return fmt.Sprintf("SELECT %s AS key, count(*) AS n FROM %s GROUP BY %s HAVING count(*) > 1 OR %s ORDER BY n DESC, key LIMIT 5",
		keyShown(in.Key), table, keyColumns(in), anyNull(in.Key))
}

// keyShown renders a key as a text that tells keys apart, as KeyProblems
// shows them.
func keyShown(key []source.Column) string {
	parts := make([]string, len(key))
	for i, c := range key {
		parts[i] = fmt.Sprintf("coalesce(%s, 'empty')", shown(Ident(c.Name), c))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "'(' || " + strings.Join(parts, " || ', ' || ") + " || ')'"
}

// placesShown is how many records of a key KeyPlaces places.
const placesShown = 3

// KeyPlaces returns, for a side read from a file, a statement storing the
// file's records as read and a query saying where the first placesShown
// records of each of keys (as KeyProblems shows them) are among those the
// side's filter keeps: the key, the Parquet file (NULL for CSV) and the
// record's number in it, from 1 (CSV: the header not counted; the CSV
// reader knows the record's line). A CSV side is read by csvRead, the query
// Load was given; a Parquet side is read again with DuckDB's columns of
// place. Both are empty for a side of another source or without a key.
func KeyPlaces(table string, in plan.Input, csvRead string, keys []string) (store, query string) {
	var read, file, record string
	var placeCols []string
	switch in.Ref.Format {
	case source.FormatCSV:
		read, file, record = csvRead, "NULL", "rowid + 1" // stored as read: the rows' order is the file's
	case source.FormatParquet:
		if !slices.ContainsFunc(in.Schema.Columns, shadowsPlace) {
			file, record, placeCols = placeFile, placeRecord, []string{placeFile, placeRecord}
			read = readParquet(in.Schema.Files, in.Schema, fmt.Sprintf(", filename AS %s, file_row_number + 1 AS %s", placeFile, placeRecord))
		}
	}
	if read == "" || len(in.Key) == 0 || len(keys) == 0 {
		return "", ""
	}
	places := table + "_places"
	in, read, _ = stored(in, read)
	// Only the columns the query reads: the side is stored already.
	cols := placeCols
	for _, c := range in.Key {
		cols = append(cols, Ident(c.Name))
	}
	where := ""
	if len(in.Filters) > 0 {
		where = " WHERE " + filterWhere(in.Filters)
		for _, f := range in.Filters {
			cols = append(cols, Ident(f.Column.Name))
		}
	}
	literals := make([]string, len(keys))
	for i, k := range keys {
		literals[i] = String(k)
	}
	slices.Sort(cols)
	store = fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT %s FROM (%s)", places, strings.Join(slices.Compact(cols), ", "), read)
	query = fmt.Sprintf("SELECT key, file, record FROM (SELECT %s AS key, %s AS file, %s AS record FROM %s%s) WHERE key IN (%s) QUALIFY row_number() OVER (PARTITION BY key ORDER BY file, record) <= %d ORDER BY key, file, record",
		keyShown(in.Key), file, record, places, where, strings.Join(literals, ", "), placesShown)
	return store, query
}

// The columns KeyPlaces reads a Parquet side with.
const (
	placeFile   = "__file"
	placeRecord = "__record"
)

// shadowsPlace says whether a Parquet column takes the name of a column
// DuckDB's reader adds, which KeyPlaces reads.
func shadowsPlace(c source.Column) bool {
	return strings.EqualFold(c.Name, "filename") || strings.EqualFold(c.Name, "file_row_number")
}

func anyNull(cols []source.Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = Ident(c.Name) + " IS NULL"
	}
	return strings.Join(parts, " OR ")
}

// keyText renders a record's key as text, as evidence.KeyText does: a
// composite key's columns joined by "|", each with "\" and "|" escaped; the
// row number for a source without a primary key. Keys are never NULL, so a
// NULL result means no record (an outer join found none).
func keyText(table string, in plan.Input) string {
	if len(in.Key) == 0 {
		return fmt.Sprintf("CAST(%s AS VARCHAR)", qualified(table, "__id"))
	}
	if len(in.Key) == 1 {
		return fmt.Sprintf("CAST(%s AS VARCHAR)", qualified(table, in.Key[0].Name))
	}
	parts := make([]string, len(in.Key))
	for i, c := range in.Key {
		parts[i] = fmt.Sprintf(`replace(replace(CAST(%s AS VARCHAR), '\', '\\'), '|', '\|')`, qualified(table, c.Name))
	}
	return strings.Join(parts, " || '|' || ")
}

func qualified(table, name string) string {
	if table == "" {
		return Ident(name)
	}
	return table + "." + Ident(name)
}

// Setup creates the tables that collect matches and near misses. Rule names
// and patterns are ENUMs: the evidence repeats them on every row, and the
// Parquet writer encodes an ENUM far faster than the same text (it reads
// back as text).
func Setup(p *plan.Plan) []string {
	values := make([]string, len(p.Rules))
	var names, patterns []string
	for i, r := range p.Rules {
		values[i] = fmt.Sprintf("(%d, %s, %s)", i, String(r.Name), String(r.PatternName()))
		names = append(names, r.Name)
		if !slices.Contains(patterns, r.PatternName()) {
			patterns = append(patterns, r.PatternName())
		}
	}
	return []string{
		fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (rule_idx INTEGER, name %s, pattern %s)", Rules, enum(names...), enum(patterns...)),
		fmt.Sprintf("INSERT INTO %s VALUES %s", Rules, strings.Join(values, ", ")),
		// ord is a pair's rank in its rule's order, by which an M:N member
		// shows its first pair's deltas; NULL for 1:1 (see oneToOne).
		fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (rule_idx INTEGER, grp BIGINT, lid BIGINT, rid BIGINT, ord BIGINT)", Pairs),
		fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (side VARCHAR, id BIGINT, rule_idx INTEGER, other BIGINT, other_key VARCHAR, failed INTEGER, reason VARCHAR)", Near),
		fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (rule_idx INTEGER, side VARCHAR, id BIGINT, reason VARCHAR)", AggMisses),
	}
}

// RuleSteps is one rule as statements. The engine runs Candidates and
// Prepare, then repeats Loop until Probe returns the same value twice or 0,
// then runs Finish.
type RuleSteps struct {
	Candidates string
	Prepare    []string
	Loop       []string
	Probe      string
	// TakesAll says that Loop's first statement inserts pairs, each one of
	// the candidates Probe counts (1:1). When it inserts as many as Probe
	// last counted, every candidate is taken and the loop ends there, which
	// skips dropping them all.
	TakesAll bool
	// Walk, when set (1:1), may end the loop after any round: it takes
	// the rest of the rule's pairs in one pass.
	Walk *Walk
	// Stages, when set (1:1), may stand in for Candidates where keys are
	// coarse: the same pairs taken, their candidates made a distance at a
	// time, each stage's then taken by Loop and Walk.
	Stages *Stages
	Finish []string
	// KeyStats counts, in one row, the records of each side, those of a
	// sample of each (about KeySample a side, chosen by a hash of __id,
	// apart on each side) and the pairs of sampled records sharing keys:
	// left records, left sampled, right records, right sampled, sampled
	// pairs. From it the engine estimates the pairs sharing keys and judges
	// the keys coarse or not. Unlike the distinct keys, the sample sees a
	// key shared by many records among many keys shared by few.
	// Banded, set for a rule with a tolerance on exact numbers or a
	// date_within (or a tolerance_pct below 100%), may stand in for Candidates where keys are coarse (a
	// currency, an account): the same pairs, the records also joined on
	// bands of that condition's values (see cond.band), which spares
	// comparing every pair sharing a key, and where keys are nearly unique
	// costs a fifth more (the right side read three times over).
	KeyStats, Banded string
	// AloneFirst, set for a 1:1 rule, may stand in for Loop's first
	// statement where records share keys with few others (see
	// AloneFirstPairs): the same pairs taken, those alone in their
	// records' candidates found first (see oneToOne).
	AloneFirst string
}

// AloneFirstPairs is how many pairs sharing keys a record may be in, on
// average on each side, for the engine to take a 1:1 rule's rounds by
// AloneFirst (where keys are not coarse). The 1M bench book's invoices and
// payments are in about one (its estimate is 0.8-1.2), and all its
// candidates are alone. Where most are not, seeking those that are costs
// about as much as the round.
const AloneFirstPairs = 2

// KeySample is about how many records of each side KeyStats samples.
const KeySample = 16384

// keyStats is RuleSteps.KeyStats. The pairs of sampled records sharing keys
// come from each sample's count per key, never from the pairs themselves.
// A NULL key is a group of its own that joins nothing, as in the rule.
func keyStats(r plan.Rule) string {
	var lkeys, rkeys, on []string
	for i, c := range r.Conditions {
		if c.Join() {
			l, rt := newCond(c, "l", "r").keys()
			lkeys = append(lkeys, fmt.Sprintf("%s AS k%d", l, i))
			rkeys = append(rkeys, fmt.Sprintf("%s AS k%d", rt, i))
			on = append(on, fmt.Sprintf("ls.k%[1]d = rs.k%[1]d", i))
		}
	}
	sample := func(table, alias, count string, keys []string, salt int) string {
		// A record is sampled when its hash, in [0, buckets), falls below
		// buckets x KeySample / records.
		const buckets = 1 << 20
		return fmt.Sprintf("SELECT %[3]s, count(*) AS n FROM %[1]s %[2]s WHERE hash(%[2]s.__id * 2 + %[4]d) %% %[5]d < %[6]d / greatest((SELECT n FROM %[7]s), 1) GROUP BY ALL",
			table, alias, strings.Join(keys, ", "), salt, buckets, buckets*KeySample, count)
	}
	return fmt.Sprintf("WITH lc AS (SELECT count(*) AS n FROM %s), rc AS (SELECT count(*) AS n FROM %s), ls AS (%s), rs AS (%s) "+
		"SELECT (SELECT n FROM lc), (SELECT coalesce(sum(n), 0)::BIGINT FROM ls), (SELECT n FROM rc), (SELECT coalesce(sum(n), 0)::BIGINT FROM rs), (SELECT coalesce(sum(ls.n * rs.n), 0)::BIGINT FROM ls JOIN rs ON %s)",
		Left, Right, sample(Left, "l", "lc", lkeys, 0), sample(Right, "r", "rc", rkeys, 1), strings.Join(on, " AND "))
}

// Walk is the greedy walk down the total order, done by the engine over
// the candidates a 1:1 rule's rounds have left: it reads Read (each
// candidate's lid and rid, in order), keeps each pair whose records no
// pair kept before holds, puts the kept pairs' lid and rid in Table
// (created by Create), then runs Insert. A round takes only the pairs that
// are the first choice of both their records, so it can take as few as
// one pair of a customer's records: where they tie (50 payments of one fee
// against 50 invoices, paired in key order: 50 rounds), or where each
// record's first choice is taken by the one before (a path: 1,000 invoices
// and payments, 1,000 rounds). The walk takes the rest in one pass, on one
// core.
type Walk struct {
	Read, Create, Table, Insert string
}

// walked holds the pairs a Walk kept.
const walked = "kalla_walked"

// Rule renders the rule at execution index k.
func Rule(k int, r plan.Rule) RuleSteps {
	var steps RuleSteps
	steps.Banded, steps.KeyStats = candidates(r, k > 0, true), keyStats(r)
	switch r.Pattern {
	case kallav1.Pattern_PATTERN_ONE_TO_ONE:
		ranks := costs(r)
		steps.Loop, steps.AloneFirst, steps.Probe = oneToOne(k, ranks)
		steps.TakesAll = true
		steps.Walk = walk(k, ranks)
		steps.Stages = stages(r)
	case kallav1.Pattern_PATTERN_ONE_TO_MANY:
		steps.Finish = oneToMany(k, r, "rid", "lid")
	case kallav1.Pattern_PATTERN_MANY_TO_ONE:
		steps.Finish = oneToMany(k, r, "lid", "rid")
	case kallav1.Pattern_PATTERN_MANY_TO_MANY:
		steps.Prepare, steps.Loop, steps.Probe, steps.Finish = manyToMany(k)
	}
	if joinsOnly(r) {
		// Every candidate ranks 0: a few pairs of each block decide.
		left, right := Left, Right // their free records, after earlier rules
		if k > 0 {
			left, right = free(Left, "lid"), free(Right, "rid")
		}
		steps.Candidates = blockPairs(r, left, right, r.Pattern)
	} else {
		steps.Candidates = candidates(r, k > 0, false)
	}
	return steps
}

// joinsOnly says whether every condition of the rule is a join key.
func joinsOnly(r plan.Rule) bool {
	for _, c := range r.Conditions {
		if !c.Join() {
			return false
		}
	}
	return true
}

// candidates creates the rule's candidate pairs among free records: a 1:1
// rule's with the conditions' costs (see oneToOne), the others' with their
// rank (ord) in the total order: the conditions' costs in the order
// written, then the left key, then the right key. The deltas of a pair are
// worked out only for the pairs matched, by the evidence (Matched). Records
// already matched are left out when earlier rules ran (afterEarlier): the
// first rule's filter against no pairs would still cost a join. A fuzzy
// condition's edit distance, the dearest measure, is computed once a pair
// (d<i>, beside the longer length n<i>) in a subquery, then tested and
// ranked on those columns. Banded, the records are also joined on the
// bands of the first condition that bands (see RuleSteps.Banded); "" when
// none does.
func candidates(r plan.Rule, afterEarlier, banded bool) string {
	w := candidateWay{left: Left, right: Right, afterEarlier: afterEarlier, band: -1, within: -1}
	if banded {
		bands := banding(r)
		if len(bands) == 0 {
			return ""
		}
		w.band = bands[0]
	}
	statement, _ := candidatesOf(r, w)
	return statement
}

// banding lists the indexes of the rule's conditions that band (see
// cond.band).
func banding(r plan.Rule) []int {
	var out []int
	for i, c := range r.Conditions {
		if _, _, ok := newCond(c, "l", "r").band(); ok && !c.Join() {
			out = append(out, i)
		}
	}
	return out
}

// candidateWay is which of a rule's candidates a statement makes: from
// the tables left and right (the sides, or their free records), leaving
// out those already matched (afterEarlier), joined on the bands of the
// condition at index band (where 0 or more) or, where within is 0 or more,
// on those of the first condition that ranks, keeping only the pairs at
// most within units apart there (see Stages).
type candidateWay struct {
	left, right  string
	afterEarlier bool
	band         int
	within       int64
}

// candidatesOf is the statement making the candidates the way w says
// (candidates), and the count of the pairs it compares: those sharing
// keys and any band it joins on.
func candidatesOf(r plan.Rule, w candidateWay) (statement, count string) {
	var joins, filters, measured []string
	var eqs [][2]string // what the statement joins on, for the count
	right := w.right
	inner := []string{"l.__id AS lid", "r.__id AS rid"}
	outer := []string{"lid", "rid"}
	ranked := false // a condition before this one ranks pairs
	join := func(l, r string) {
		joins = append(joins, l+" = "+r)
		eqs = append(eqs, [2]string{l, r})
	}
	for i, c := range r.Conditions {
		sc := newCond(c, "l", "r")
		ci := fmt.Sprintf("c%d", i)
		switch {
		case c.Join():
			joins = append(joins, sc.Test())
			l, r := sc.keys()
			eqs = append(eqs, [2]string{l, r})
		case c.Op == kallav1.Operator_OPERATOR_FUZZY:
			d, n := fmt.Sprintf("d%d", i), fmt.Sprintf("n%d", i)
			inner = append(inner, sc.distance()+" AS "+d, sc.longest()+" AS "+n)
			measured = append(measured, sc.fuzzyTest(d, n))
			outer = append(outer, fuzzyCost(d, n)+" AS "+ci)
			ranked = true
			continue
		default:
			filters = append(filters, sc.Test())
			if lb, rb, ok := sc.band(); ok && i == w.band {
				right = inBands(w.right, "r", rb)
				join(lb, "r.__band")
			}
		}
		cost := sc.Cost()
		if cost == "" {
			continue
		}
		if w.within >= 0 && !ranked {
			ul, ur, _, unit, _ := sc.inUnits(true)
			filters = append(filters, fmt.Sprintf("%s <= %s", cost, Decimal(new(big.Rat).Mul(big.NewRat(w.within, 1), unit))))
			if w.within == 0 {
				join(ul, ur)
			} else {
				banded, eq := radiusBands(right, "r", ul, ur, w.within)
				right = banded
				join(eq[0], eq[1])
			}
		}
		inner = append(inner, cost+" AS "+ci)
		outer = append(outer, ci)
		ranked = true
	}
	count = countJoined(w.left, "l", right, "r", eqs)
	if w.afterEarlier {
		filters = append(filters,
			fmt.Sprintf("l.__id NOT IN (SELECT lid FROM %s)", Pairs),
			fmt.Sprintf("r.__id NOT IN (SELECT rid FROM %s)", Pairs))
	}
	from := fmt.Sprintf("SELECT %s FROM %s l JOIN %s r ON %s%s",
		strings.Join(inner, ", "), w.left, right, strings.Join(joins, " AND "), where(filters))
	if len(measured) > 0 {
		from = fmt.Sprintf("SELECT %s FROM (%s)%s", strings.Join(outer, ", "), from, where(measured))
	}
	if r.Pattern == kallav1.Pattern_PATTERN_ONE_TO_ONE {
		// Its rounds compare the costs themselves (see oneToOne).
		return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", Candidates, from), count
	}
	ord := fmt.Sprintf("row_number() OVER (ORDER BY %s)", ruleOrder(costs(r)))
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT lid, rid, %s AS ord FROM (%s)", Candidates, ord, from), count
}

// costs names the columns a rule's candidates hold its conditions' costs
// in, in the order written (see candidatesOf).
func costs(r plan.Rule) []string {
	var out []string
	for i, c := range r.Conditions {
		if newCond(c, "l", "r").Cost() != "" {
			out = append(out, fmt.Sprintf("c%d", i))
		}
	}
	return out
}

// ruleOrder is the total order of a rule's candidates holding the cost
// columns named costs: the costs in the order written, then the left and
// the right record (numbered in key order).
func ruleOrder(costs []string) string {
	return strings.Join(append(slices.Clone(costs), "lid", "rid"), ", ")
}

// where is a WHERE clause of conds joined by AND, "" when there are none.
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// deltas is the text of how far apart a pair's records (aliased l and r)
// are in each of the rule's conditions that measure a difference.
func deltas(r plan.Rule) string {
	var parts []string
	for _, c := range r.Conditions {
		if d := newCond(c, "l", "r").Delta(); d != "" {
			parts = append(parts, d)
		}
	}
	if a := r.Aggregate; a != nil {
		parts = append(parts, aggregateDelta(a, r.Pattern == kallav1.Pattern_PATTERN_MANY_TO_ONE))
	}
	if len(parts) == 0 {
		return "''"
	}
	return "concat_ws('; ', " + strings.Join(parts, ", ") + ")"
}

// aggregateDelta is the signed difference an aggregate check passed with,
// the "one" record's value less the sum over its group (the left's, or the
// right's in an M:1 rule), in the order the columns are written: a group
// matched within a tolerance says what it wrote off. It reads the pair's
// records (l, r) and its place in Pairs (p).
func aggregateDelta(a *plan.Aggregate, manyToOne bool) string {
	group := "OVER (PARTITION BY p.rule_idx, p.grp)"
	l, r := operand("l", a.Left, a.LeftReversed), operand("r", a.Right, a.RightReversed)
	label, diff := a.LeftLabel+"-sum("+a.RightLabel+")", fmt.Sprintf("%s - sum(%s) %s", l, r, group)
	if manyToOne {
		label, diff = "sum("+a.LeftLabel+")-"+subtrahend(a.RightLabel, a.RightReversed), fmt.Sprintf("sum(%s) %s - %s", l, group, r)
	}
	return fmt.Sprintf("%s || CAST(%s AS VARCHAR)", String(label+": "), diff)
}

// oneToOne accepts every pair that is the first choice of both its records,
// then drops the pairs those records were in, until none are left: this is
// exactly the greedy walk down the total order. A record's first choice is
// the least of its pairs' costs (the columns named costs) and the other
// record's key, an aggregate of a struct: no rank over every candidate,
// whose sort took 4.3-4.7 s of 15 million pairs where the aggregates take
// 0.9 s. Where records share keys with few others, aloneFirst takes the
// same pairs: those alone in their records' candidates, whatever their
// costs (the 1M bench book's all are), then the first choices among the
// rest, sparing an aggregate's state per record (350-400 ms against
// 700-870 ms with the candidates on the bench book).
func oneToOne(k int, costs []string) (loop []string, aloneFirst, probe string) {
	alone := fmt.Sprintf("WITH cl AS (SELECT lid FROM %[1]s GROUP BY lid HAVING count(*) > 1), cr AS (SELECT rid FROM %[1]s GROUP BY rid HAVING count(*) > 1), "+
		"x AS MATERIALIZED (SELECT * FROM %[1]s WHERE lid IN (SELECT lid FROM cl) OR rid IN (SELECT rid FROM cr)) "+
		"SELECT lid, rid FROM %[1]s WHERE lid NOT IN (SELECT lid FROM cl) AND rid NOT IN (SELECT rid FROM cr) UNION ALL %[2]s",
		Candidates, firstChoices("x", costs))
	return []string{
		takeOneToOne(k, "("+firstChoices(Candidates, costs)+")"),
		// Rewritten rather than deleted from: 316 ms against 411 ms for 5
		// million of 6.7 million candidates dropped, and the next round
		// reads a table without deleted rows (165 ms against 259 ms).
		fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %[2]s AS SELECT * FROM %[2]s WHERE lid NOT IN (SELECT lid FROM %[1]s WHERE rule_idx = %[3]d) AND rid NOT IN (SELECT rid FROM %[1]s WHERE rule_idx = %[3]d)`, Pairs, Candidates, k),
	}, takeOneToOne(k, "("+alone+")"), fmt.Sprintf("SELECT count(*) FROM %s", Candidates)
}

// takeOneToOne inserts the pairs (lid, rid) of from into Pairs as those of
// the 1:1 rule at execution index k, each its own group, without a rank.
func takeOneToOne(k int, from string) string {
	return fmt.Sprintf("INSERT INTO %s SELECT %d, lid, lid, rid, NULL FROM %s", Pairs, k, from)
}

// firstChoices are the pairs of candidates (a 1:1 rule's, holding their
// costs) that are the first choice of both their records.
func firstChoices(candidates string, costs []string) string {
	best := func(side, other string) string {
		return fmt.Sprintf("SELECT %[1]s, min(struct_pack(%[2]s)) AS b FROM %[3]s GROUP BY %[1]s",
			side, strings.Join(append(slices.Clone(costs), other), ", "), candidates)
	}
	return fmt.Sprintf("SELECT l.lid, r.rid FROM (%s) l JOIN (%s) r ON l.b.rid = r.rid AND r.b.lid = l.lid", best("lid", "rid"), best("rid", "lid"))
}

func walk(k int, costs []string) *Walk {
	return &Walk{
		Read:   fmt.Sprintf("SELECT lid, rid FROM %s ORDER BY %s", Candidates, ruleOrder(costs)),
		Create: fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (lid BIGINT, rid BIGINT)", walked),
		Table:  walked,
		Insert: takeOneToOne(k, walked),
	}
}

// oneToMany gives each record of the "many" side to its best record of the
// "one" side; with an aggregate check only groups whose sum is within the
// tolerance are matched, and the members of the others are recorded in
// AggMisses with the reason. M:1 is the same with the sides swapped.
func oneToMany(k int, r plan.Rule, many, one string) []string {
	steps := []string{fmt.Sprintf("CREATE OR REPLACE TEMP TABLE kalla_assigned AS SELECT * FROM %s QUALIFY row_number() OVER (PARTITION BY %s ORDER BY ord) = 1", Candidates, many)}
	keep := ""
	if a := r.Aggregate; a != nil {
		agg := newAggregateCheck(a, one)
		keep = fmt.Sprintf(" WHERE %s IN (SELECT gid FROM kalla_checked WHERE pass)", one)
		steps = append(steps, agg.checked(one), agg.misses(k, one, many))
	}
	return append(steps, fmt.Sprintf("INSERT INTO %s SELECT %d, min(lid) OVER (PARTITION BY %s), lid, rid, ord FROM kalla_assigned%s",
		Pairs, k, one, keep))
}

// aggregateCheck is a 1:N or M:1 rule's sum test over the groups of
// kalla_assigned (aliased g, joined to its records l and r).
type aggregateCheck struct {
	from, pass, reason string
}

func newAggregateCheck(a *plan.Aggregate, one string) aggregateCheck {
	lcol, rcol := operand("l", a.Left, a.LeftReversed), operand("r", a.Right, a.RightReversed)
	oneCol, manyCol, oneName, manyName := lcol, rcol, a.LeftLabel, a.RightLabel
	if one == "rid" {
		oneCol, manyCol, oneName, manyName = rcol, lcol, a.RightLabel, a.LeftLabel
	}
	text := func(expr string) string { return "CAST(" + expr + " AS VARCHAR)" }
	sentence := func(parts ...string) string { return strings.Join(parts, " || ") }
	total, diff := "sum("+manyCol+")", fmt.Sprintf("abs(any_value(%s) - sum(%s))", oneCol, manyCol)
	records := "CASE WHEN count(*) = 1 THEN ' record, ' ELSE ' records, ' END"
	return aggregateCheck{
		from: fmt.Sprintf("kalla_assigned g JOIN %s l ON l.__id = g.lid JOIN %s r ON r.__id = g.rid", Left, Right),
		pass: fmt.Sprintf("count(%[2]s) = count(*) AND any_value(%[1]s) IS NOT NULL AND %[3]s <= %[4]s", oneCol, manyCol, diff, Decimal(plan.Tolerance(a.Left, a.Right, a.Tolerance))),
		reason: fmt.Sprintf("CASE WHEN any_value(%s) IS NULL THEN %s WHEN count(%s) < count(*) THEN %s ELSE %s END",
			oneCol, String(oneName+" is empty"), manyCol,
			"CASE WHEN count(*) = 1 THEN "+String(manyName+" is empty in the group's only record")+" ELSE "+
				sentence(String(manyName+" is empty in "), text("count(*) - count("+manyCol+")"), String(" of the group's "), text("count(*)"), String(" records"))+" END",
			sentence(String(oneName+" "), text("any_value("+oneCol+")"), String(" against the sum of "+manyName+" over "), text("count(*)"), records,
				text(total), String(": differs by "), text(diff), String(", tolerance "+a.ToleranceText))),
	}
}

// checked sums every group once into kalla_checked: its "one" record
// (gid), whether it passed, and the reason it failed.
func (c aggregateCheck) checked(one string) string {
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE kalla_checked AS SELECT g.%[1]s AS gid, coalesce(%[2]s, false) AS pass, %[3]s AS reason FROM %[4]s GROUP BY g.%[1]s",
		one, c.pass, c.reason, c.from)
}

// misses records every member of a group that failed the check.
func (c aggregateCheck) misses(k int, one, many string) string {
	code := map[string]string{"lid": "'L'", "rid": "'R'"}
	return fmt.Sprintf("INSERT INTO %[1]s SELECT %[2]d, %[3]s, gid, reason FROM kalla_checked WHERE NOT pass UNION ALL SELECT %[2]d, %[4]s, g.%[6]s, f.reason FROM kalla_assigned g JOIN kalla_checked f ON f.gid = g.%[5]s WHERE NOT f.pass",
		AggMisses, k, code[one], code[many], one, many)
}

// manyToMany matches every candidate pair; a group is a connected set of
// records, labelled by its smallest left id. Labels only fall, and each is
// a left id of the same group. A round gives every left record the
// smallest label two pairs away (through a right record), and gives the
// record its label names the smallest of those its followers found
// (hooking); then every record takes its label's label (jumping). A chain
// of n records takes about log n rounds whatever the order of its ids,
// where passing labels along the pairs alone took a round per two to four
// records.
func manyToMany(k int) (prepare, loop []string, probe string, finish []string) {
	return []string{fmt.Sprintf("CREATE OR REPLACE TEMP TABLE kalla_labels AS SELECT DISTINCT lid, lid AS lab FROM %s", Candidates)},
		[]string{
			fmt.Sprintf("CREATE OR REPLACE TEMP TABLE kalla_labels AS WITH reach AS (SELECT c.lid, min(r.lab) AS lab FROM %[1]s c JOIN (SELECT c.rid, min(g.lab) AS lab FROM %[1]s c JOIN kalla_labels g USING (lid) GROUP BY c.rid) r USING (rid) GROUP BY c.lid), "+
				"hooked AS (SELECT g.lab AS lid, min(n.lab) AS lab FROM kalla_labels g JOIN reach n USING (lid) GROUP BY g.lab) "+
				"SELECT n.lid, least(n.lab, coalesce(h.lab, n.lab)) AS lab FROM reach n LEFT JOIN hooked h USING (lid)", Candidates),
			"CREATE OR REPLACE TEMP TABLE kalla_labels AS SELECT a.lid, b.lab FROM kalla_labels a JOIN kalla_labels b ON b.lid = a.lab",
		},
		"SELECT coalesce(sum(lab), 0) FROM kalla_labels",
		[]string{fmt.Sprintf("INSERT INTO %s SELECT %d, g.lab, c.lid, c.rid, c.ord FROM %s c JOIN kalla_labels g USING (lid)", Pairs, k, Candidates)}
}
