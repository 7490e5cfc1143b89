package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgresSchema reads a table's columns and maps PostgreSQL types onto
// Kalla's: integers, numeric (its declared scale, or the largest scale in the
// data when undeclared), dates, timestamps, booleans; everything else text.
func PostgresSchema(ctx context.Context, ref Ref) (Schema, error) {
	conn, err := Connect(ctx, ref.DSN)
	if err != nil {
		return Schema{}, fmt.Errorf("connect to %s: %w", ref, RedactError(err, ref.DSN))
	}
	defer conn.Close(ctx)
	return TableSchema(ctx, conn, ref.Table)
}

// Querier reads from PostgreSQL: a connection (see Connect) or one of its
// transactions.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// TableSchema is PostgresSchema read with q, so that a transaction's reads
// measure the data in its own snapshot.
func TableSchema(ctx context.Context, q Querier, tableName string) (Schema, error) {
	schema, table, err := splitTable(tableName)
	if err != nil {
		return Schema{}, err
	}
	rows, err := q.Query(ctx, columnsQuery, schema, table)
	if err != nil {
		return Schema{}, fmt.Errorf("read columns of %s: %w", tableName, err)
	}
	s := Schema{Rows: -1}
	for rows.Next() {
		var name, typ string
		var precision, scale *int32
		if err := rows.Scan(&name, &typ, &precision, &scale); err != nil {
			return Schema{}, err
		}
		s.Columns = append(s.Columns, postgresColumn(name, typ, precision, scale))
	}
	if err := rows.Err(); err != nil {
		return Schema{}, err
	}
	if len(s.Columns) == 0 {
		return Schema{}, fmt.Errorf("table %s not found (or it has no columns)", tableName)
	}
	if err := measure(ctx, q, tableName, s.Columns); err != nil {
		return Schema{}, err
	}
	return s, nil
}

// columnsQuery lists a table's columns in order with the type each holds: a
// domain's base type (through domains over domains) with the domain's
// modifier, so a domain over numeric(12,2) is numeric(12,2).
const columnsQuery = `WITH RECURSIVE col AS (
		SELECT a.attnum, a.attname, a.atttypid AS typid, a.atttypmod AS typmod
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
		SELECT col.attnum, col.attname, t.typbasetype, CASE WHEN t.typtypmod >= 0 THEN t.typtypmod ELSE col.typmod END
		FROM col JOIN pg_type t ON t.oid = col.typid WHERE t.typtype = 'd'
	)
	SELECT col.attname, t.typname, information_schema._pg_numeric_precision(col.typid, col.typmod), information_schema._pg_numeric_scale(col.typid, col.typmod)
	FROM col JOIN pg_type t ON t.oid = col.typid WHERE t.typtype <> 'd' ORDER BY col.attnum`

func postgresColumn(name, typ string, precision, scale *int32) Column {
	c := Column{Name: name, Type: Text}
	switch typ {
	case "int2", "int4", "int8":
		c.Type = Integer
	case "numeric":
		c.Type, c.Precision = Decimal, -1 // undeclared: measured from the data
		// A declared width Kalla cannot hold (numeric(50,10)), or one
		// PostgreSQL 15 allows and decimals do not (numeric(5,-2),
		// numeric(3,5)), is measured from the data too.
		if precision != nil && scale != nil && *precision <= MaxDigits && *scale >= 0 && *scale <= *precision {
			c.Precision, c.Scale = int(*precision), int(*scale)
		}
	case "float4", "float8":
		// The exact decimal each value prints as, measured from the data.
		c.Type, c.Float, c.Precision = Decimal, true, -1
	case "date":
		c.Type = Date
	case "timestamp", "timestamptz":
		c.Type = Timestamp
	case "bool":
		c.Type = Boolean
	case "inet", "cidr":
		c.Printed = true
	}
	return c
}

// measure reads, in one pass over the table (more for a very wide one),
// what the catalog does not say: the precision and scale of numerics declared without them (and of
// floats), so they stay exact decimals, and whether a column holds values
// no engine type compares as PostgreSQL does: NaN or infinite numbers,
// numbers of more than 38 digits, dates before year 1 or infinite ones.
// Such a column is read as text, as PostgreSQL prints it, and marked Unfit.
func measure(ctx context.Context, q Querier, table string, cols []Column) error {
	var aggs []string // one entry (four values) a measured column
	var measured []int
	for i, c := range cols {
		v := SelectColumn(c)
		bad := unfitValue(v, c)
		if bad == "" {
			continue
		}
		sizes := "0, 0"
		if c.Type == Decimal && c.Precision == -1 {
			sizes = fmt.Sprintf("coalesce(max(scale(%[1]s)), 0), coalesce(max(length(trunc(abs(%[1]s))::text)) FILTER (WHERE scale(%[1]s) IS NOT NULL), 1)", v)
		}
		aggs = append(aggs, fmt.Sprintf("%s, count(*) FILTER (WHERE %[2]s), min(%[3]s::text) FILTER (WHERE %[2]s)", sizes, bad, quoteIdent(c.Name)))
		measured = append(measured, i)
	}
	if len(measured) == 0 {
		return nil
	}
	found := make([]struct {
		scale, intDigits int
		bad              int64
		example          *string
	}, len(measured))
	// A query's select list holds at most 1664 entries, four a column: a
	// wide table is measured in several passes.
	for from := 0; from < len(measured); from += measureBatch {
		to := min(from+measureBatch, len(measured))
		dest := make([]any, 0, 4*(to-from))
		for j := from; j < to; j++ {
			f := &found[j]
			dest = append(dest, &f.scale, &f.intDigits, &f.bad, &f.example)
		}
		query := fmt.Sprintf("SELECT %s FROM %s", strings.Join(aggs[from:to], ", "), QuoteTable(table))
		if err := q.QueryRow(ctx, query).Scan(dest...); err != nil {
			return fmt.Errorf("measure the columns of %s: %w", table, err)
		}
	}
	for j, i := range measured {
		f, c := found[j], &cols[i]
		var unfit string
		switch {
		case f.bad > 0 && c.Type == Decimal:
			unfit = fmt.Sprintf("holds %s, which is no number to compare exactly, in %s", *f.example, RowCount(f.bad))
		case f.bad > 0:
			unfit = fmt.Sprintf("holds %s, a date before year 1 or an infinite one, which the engines do not compare as PostgreSQL does, in %s", *f.example, RowCount(f.bad))
		case c.Precision == -1 && f.intDigits+f.scale > MaxDigits:
			unfit = tooWide(f.intDigits + f.scale)
		case c.Precision == -1:
			c.Precision, c.Scale, c.Measured = f.intDigits+f.scale, f.scale, true
		}
		if unfit != "" {
			*c = Column{Name: c.Name, Type: Text, Unfit: unfit}
		}
	}
	return nil
}

// unfitValue is the SQL test of a value of column c, selected as expr, that
// no engine type compares as PostgreSQL does: a NaN or an infinite number,
// a date or timestamp before year 1 or an infinite one. It is "" for a
// column of another type.
func unfitValue(expr string, c Column) string {
	switch c.Type {
	case Decimal:
		return fmt.Sprintf("%[1]s IS NOT NULL AND scale(%[1]s) IS NULL", expr) // NaN and infinities have no scale
	case Date, Timestamp:
		return fmt.Sprintf("(NOT isfinite(%[1]s) OR %[1]s < '0001-01-01')", expr)
	}
	return ""
}

// measureBatch is how many columns one pass of measure reads.
const measureBatch = 400

// RowCount is n rows in words, for messages: 1 row, 2 rows.
func RowCount(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// ConnectTimeout bounds connecting to a PostgreSQL source, the handshake
// included, unless its URI sets connect_timeout.
var ConnectTimeout = 30 * time.Second

// Connect opens a connection to a PostgreSQL source in the session settings
// Kalla reads values in: text in UTF-8 (converted by the server from its
// own encoding; pgx does not ask for it), ISO dates, UTC timestamps, and
// floats printed as the shortest text that reads back as the same number
// (PostgreSQL's default since version 12, set in case a server or role
// changed it). They are SET after connecting rather than sent as startup
// parameters, which PgBouncer refuses for extra_float_digits unless told
// to ignore it.
func Connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		// A server that takes the connection but never answers would
		// otherwise hold the run forever; connect_timeout in the URI wins.
		cfg.ConnectTimeout = ConnectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO'; SET TimeZone = 'UTC'; SET extra_float_digits = 1"); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("set the session's text encoding, date, time zone and float formats: %w", err)
	}
	return conn, nil
}

// floatDecimal is the exact decimal a float column's value prints as (see
// Connect); numeric's text never uses an exponent, so parsers of plain
// decimals read it.
func floatDecimal(column string) string { return column + "::text::numeric" }

// SelectColumn is how a staged or copied column is selected: a float as the
// decimal it prints as, text as PostgreSQL's text of the value (a char(n)
// without the padding PostgreSQL itself ignores, an inet as it prints), the
// rest as it is.
func SelectColumn(c Column) string {
	switch {
	case c.Float:
		return floatDecimal(quoteIdent(c.Name))
	case c.Printed:
		return "format('%s', " + quoteIdent(c.Name) + ")"
	case c.Type == Text:
		return quoteIdent(c.Name) + "::text"
	}
	return quoteIdent(c.Name)
}

// ServerUTF8 says whether the server keeps its text in UTF-8, whose byte
// order is the engine's (see Where).
func ServerUTF8(conn *pgx.Conn) bool {
	return conn.PgConn().ParameterStatus("server_encoding") == "UTF8"
}

// Where is the condition PostgreSQL checks before CopyCSV copies a row,
// given whether the server's text is UTF-8 (whose byte order is the
// engine's): "" copies every row.
type Where func(utf8 bool) string

// CopyCSV streams the table or view as CSV with a header row into w, with
// COPY, so it is never held whole in memory: the rows where (if any) keeps.
// cols are the source's columns, as PostgresSchema read them. It returns
// the rows of the table or view, in the snapshot the copy read: more than
// it copied when where left some out.
func CopyCSV(ctx context.Context, ref Ref, cols []Column, where Where, w io.Writer) (read int64, err error) {
	conn, err := Connect(ctx, ref.DSN)
	if err != nil {
		return 0, fmt.Errorf("connect to %s: %w", ref, RedactError(err, ref.DSN))
	}
	defer conn.Close(ctx)
	list := make([]string, len(cols))
	for i, c := range cols {
		list[i] = measured(SelectColumn(c), c) + " AS " + quoteIdent(c.Name)
	}
	// COPY of a query, not of the table: a view cannot be copied directly.
	query := fmt.Sprintf("SELECT %s FROM %s", strings.Join(list, ", "), QuoteTable(ref.Table))
	cond := ""
	if where != nil {
		cond = where(ServerUTF8(conn))
	}
	if cond == "" {
		return copyTo(ctx, conn, query, w, ref)
	}
	// The rows left out are counted in the snapshot the copy reads.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", ref.Table, err)
	}
	defer tx.Rollback(ctx)
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+QuoteTable(ref.Table)).Scan(&read); err != nil {
		return 0, fmt.Errorf("count the rows of %s: %w", ref.Table, err)
	}
	if _, err := copyTo(ctx, conn, query+" WHERE "+cond, w, ref); err != nil {
		return 0, err
	}
	return read, tx.Commit(ctx)
}

func copyTo(ctx context.Context, conn *pgx.Conn, query string, w io.Writer, ref Ref) (int64, error) {
	tag, err := conn.PgConn().CopyTo(ctx, w, "COPY ("+query+") TO STDOUT (FORMAT csv, HEADER true)")
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", ref.Table, err)
	}
	return tag.RowsAffected(), nil
}

// PostgresString is s as a PostgreSQL text literal, read the same whatever
// standard_conforming_strings says: an E'...' literal.
func PostgresString(s string) string {
	return "E'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// measured fails the copy when a value is not what measure found: a decimal
// with more digits after the point than the schema allows for, a NaN, a
// date before year 1 or an infinite one, written between PostgresSchema's
// measurement and the copy. The engine's reader would round the decimal,
// and read a BC date as the same day AD, without a word. The error is
// PostgreSQL's own, reading the sentence as a value of the column's type.
func measured(expr string, c Column) string {
	bad := unfitValue(expr, c)
	var why, cast string
	switch c.Type {
	case Decimal:
		bad = fmt.Sprintf("scale(%s) > %d OR %s", expr, c.Scale, bad)
		why, cast = fmt.Sprintf("has more decimals than the %d Kalla measured, or is NaN or infinite", c.Scale), "numeric"
	case Date:
		why, cast = "is before year 1 or infinite", "date"
	case Timestamp:
		why, cast = "is before year 1 or infinite", "timestamp"
	default:
		return expr
	}
	msg := fmt.Sprintf(" in column %s %s, which it was not when Kalla measured it: the table changed while it was read; run again", c.Name, why)
	return fmt.Sprintf("CASE WHEN %s THEN (%s::text || %s)::%s ELSE %s END", bad, expr, PostgresString(msg), cast, expr)
}

// Refused says whether PostgreSQL refused a read for a reason of the
// source's own, which running again cannot mend: bad credentials (28), a
// missing database (3D) or schema (3F), a missing table or column or a
// missing privilege (42), a feature it lacks (0A).
func Refused(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || len(pg.Code) < 2 {
		return false
	}
	switch pg.Code[:2] {
	case "28", "3D", "3F", "42", "0A":
		return true
	}
	return false
}

// Unavailable says whether err is the server's state rather than the
// source's: a network failure or a timeout (a server being away), a read
// PostgreSQL gave up on (a statement cancelled or timed out, a lack of
// resources, a shutdown, a conflict with another transaction), or a file
// being written (ErrChanged). No change to the recipe mends it; running
// again may. (A missing file's error number is a net.Error too, never a
// timeout.)
func Unavailable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	var ne net.Error
	var pg *pgconn.PgError
	if errors.As(err, &pg) && len(pg.Code) >= 2 {
		switch pg.Code[:2] {
		case "08", "40", "53", "55", "57", "58", "XX":
			return true
		}
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrChanged) || errors.As(err, &op) || errors.As(err, &dns) ||
		errors.As(err, &ne) && ne.Timeout()
}

// splitTable splits "schema.table" into its names, schema public when
// there is none. A name in double quotes is read as PostgreSQL reads a
// quoted name ("My.Schema", "say ""hi"""), so it may hold dots; a name
// without quotes is taken as written, case and spaces too.
func splitTable(t string) (schema, table string, err error) {
	first, rest, dot, err := cutName(t)
	if err != nil || !dot {
		return "public", first, err
	}
	if strings.HasPrefix(rest, `"`) {
		table, rest, dot, err = cutName(rest)
		if err == nil && (dot || rest != "") {
			err = fmt.Errorf("table %q: a quoted table name must end it", t)
		}
		return first, table, err
	}
	return first, rest, nil
}

// cutName reads the name t starts with and returns what follows the dot
// after it, if one does.
func cutName(t string) (name, rest string, dot bool, err error) {
	quoted, ok := strings.CutPrefix(t, `"`)
	if !ok {
		name, rest, dot = strings.Cut(t, ".")
		return name, rest, dot, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(quoted, '"')
		if i < 0 {
			return "", "", false, fmt.Errorf("table %q: a quote is not closed", t)
		}
		b.WriteString(quoted[:i])
		quoted = quoted[i+1:]
		if !strings.HasPrefix(quoted, `"`) {
			break
		}
		b.WriteByte('"') // "" stands for one quote
		quoted = quoted[1:]
	}
	if quoted != "" && quoted[0] != '.' {
		return "", "", false, fmt.Errorf("table %q: a quoted name is followed by %q, not by a dot", t, quoted)
	}
	rest, dot = strings.CutPrefix(quoted, ".")
	return b.String(), rest, dot, nil
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// QuoteTable quotes "schema.table" (schema public when absent) for SQL;
// Parse has refused a table name splitTable cannot read.
func QuoteTable(t string) string {
	s, tb, _ := splitTable(t)
	return pgx.Identifier{s, tb}.Sanitize()
}

// RedactError removes the passwords of a database URL (see Redact) from
// err's message, so a driver error that echoes the connection string is
// safe to show. The chain stays intact for errors.Is and As; an error whose
// message holds no password is returned unchanged.
func RedactError(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := messagePassword.ReplaceAllString(err.Error(), "${1}REDACTED")
	for _, pw := range Secrets(dsn) {
		msg = strings.ReplaceAll(msg, pw, "REDACTED")
	}
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// messagePassword is a password=... a driver's message may show, up to the
// next space or parameter.
var messagePassword = regexp.MustCompile(`(?i)\b((?:ssl)?password\s*=\s*)('[^']*'|[^&\s]*)`)
