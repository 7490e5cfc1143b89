// Package source names where a reconciliation's data comes from, reads its
// schema and tells native sources (files the engine reads as they are) from
// staged ones (databases extracted to Parquet first).
package source

import (
	"cmp"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Format is how a source's data is stored.
type Format int

const (
	FormatCSV Format = iota + 1
	FormatParquet
	FormatPostgres
)

func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatParquet:
		return "parquet"
	case FormatPostgres:
		return "postgres"
	}
	return "unknown"
}

// Ref is a parsed source URI.
type Ref struct {
	Format Format
	// Path is a local file or directory for file:// sources.
	Path string
	// Object is set for s3:// sources, which have no local path.
	Object bool
	// DSN and Table locate a PostgreSQL table; DSN may hold credentials.
	DSN   string
	Table string
	uri   string
}

// Native reports whether the engine reads the source as it is.
func (r Ref) Native() bool { return r.Format != FormatPostgres }

// String is the URI with any password removed: safe for logs and errors.
func (r Ref) String() string { return Redact(r.uri) }

// Parse reads a source URI: file:///path/x.csv (or .tsv, .csv.gz,
// .tsv.gz; a workbook, .xlsx or .xlsm), file:///path/x.parquet, a
// directory of Parquet parts, a pattern naming
// several files of one kind (file:///path/2024-*.csv, see Pattern), the
// same names in s3://bucket/key, or
// postgres://user:pass@host:port/db?table=schema.table.
func Parse(uri string) (Ref, error) {
	switch {
	case strings.HasPrefix(uri, "file://"):
		return parseFile(uri)
	case strings.HasPrefix(uri, "s3://"):
		return parseObject(uri)
	case strings.HasPrefix(uri, "postgres://"), strings.HasPrefix(uri, "postgresql://"):
		return parsePostgres(uri)
	}
	return Ref{}, fmt.Errorf("source %q: unsupported URI; use file:///path/data.csv, file:///path/data.parquet, s3://bucket/data.csv or postgres://user:pass@host:port/db?table=schema.table", Redact(uri))
}

// parseObject reads an s3:// URI: a native source the pipeline's executor
// downloads before reading it.
func parseObject(uri string) (Ref, error) {
	ref := Ref{Object: true, uri: uri}
	if err := checkPattern(uri); err != nil {
		return Ref{}, fmt.Errorf("source %q: %w", Redact(uri), err)
	}
	switch ext := FileExt(uri); ext {
	case ".parquet":
		ref.Format = FormatParquet
	case "":
		return Ref{}, fmt.Errorf("source %q: an object source must end in %s", Redact(uri), allowedExts)
	default:
		ref.Format = FormatCSV
	}
	return ref, nil
}

// fileExts are the endings of the files Kalla reads: Parquet, delimited
// text read as CSV (a .tsv file's fields separated by tabs), through gzip
// when it ends in .gz, and Excel workbooks, a sheet read as CSV.
var fileExts = []string{".csv", ".tsv", ".csv.gz", ".tsv.gz", ".xlsx", ".xlsm", ".parquet"}

// FileExt is the ending of name that says it is a file Kalla reads, in
// lower case (".csv", ".csv.gz", ".parquet"), or "" for another name. A
// copy of a source keeps it, so that it is read as the source is.
func FileExt(name string) string {
	lower := strings.ToLower(name)
	for _, ext := range fileExts {
		if strings.HasSuffix(lower, ext) && len(lower) > len(ext) {
			return ext
		}
	}
	return ""
}

// allowedExts lists fileExts for messages.
var allowedExts = strings.Join(fileExts[:len(fileExts)-1], ", ") + " or " + fileExts[len(fileExts)-1]

// Gzipped says whether the file at path is read through gzip.
func Gzipped(path string) bool { return strings.HasSuffix(strings.ToLower(path), ".gz") }

func parseFile(uri string) (Ref, error) {
	path := strings.TrimPrefix(uri, "file://")
	if !filepath.IsAbs(path) {
		return Ref{}, fmt.Errorf("source %q: the file path must be absolute here (a recipe file's relative paths are resolved when it is loaded)", uri)
	}
	ref := Ref{Path: path, uri: uri}
	if err := checkPattern(path); err != nil {
		return Ref{}, fmt.Errorf("source %q: %w", uri, err)
	}
	switch ext := FileExt(path); {
	case ext == ".parquet", filepath.Ext(path) == "":
		// No extension: a directory of Parquet parts.
		ref.Format = FormatParquet
	case strings.EqualFold(filepath.Ext(path), ".xls"):
		return Ref{}, fmt.Errorf("source %q: Kalla reads Excel workbooks saved as .xlsx, not in the Excel 97-2003 format (.xls): save it as .xlsx or CSV", uri)
	case ext == "":
		return Ref{}, fmt.Errorf("source %q: unknown file type %q; allowed: %s, or a directory of .parquet parts", uri, filepath.Ext(path), allowedExts)
	default:
		ref.Format = FormatCSV
	}
	return ref, nil
}

func parsePostgres(uri string) (Ref, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return Ref{}, fmt.Errorf("source %q: not a valid URI", Redact(uri))
	}
	q := u.Query()
	table := q.Get("table")
	if table == "" {
		return Ref{}, fmt.Errorf("source %q: a postgres source needs ?table=schema.table", Redact(uri))
	}
	if _, _, err := splitTable(table); err != nil {
		return Ref{}, fmt.Errorf("source %q: %w", Redact(uri), err)
	}
	u.RawQuery = withoutParam(u.RawQuery, "table")
	return Ref{Format: FormatPostgres, DSN: u.String(), Table: table, uri: uri}, nil
}

// withoutParam is the query raw without the parameter key, the others as
// written: url.Values would write a space as "+", which libpq and pgx read
// as a plus ("-c timezone=UTC" in options).
func withoutParam(raw, key string) string {
	var kept []string
	for _, pair := range strings.Split(raw, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(name); pair == "" || err == nil && k == key {
			continue
		}
		kept = append(kept, pair)
	}
	return strings.Join(kept, "&")
}

// Redact removes secrets from a source URI so it can be shown: the password
// of its user part and the value of any password or sslpassword parameter
// (pgx reads either). A keyword/value DSN (host=db password=...) has its
// password values masked. File URIs hold no secrets and are shown as they
// are.
func Redact(uri string) string {
	var b strings.Builder
	last := 0
	for _, s := range secretSpans(uri) {
		b.WriteString(uri[last:s[0]])
		b.WriteString("REDACTED")
		last = s[1]
	}
	b.WriteString(uri[last:])
	return b.String()
}

// Secrets returns the values Redact masks in uri, each as written and
// unescaped: a caller that shows a text holding the URI, or a driver's
// message about it, checks with them that no copy of a password is left.
func Secrets(uri string) []string {
	var out []string
	for _, s := range secretSpans(uri) {
		raw := uri[s[0]:s[1]]
		out = append(out, raw)
		for _, unescape := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
			if v, err := unescape(raw); err == nil {
				out = append(out, v)
			}
		}
	}
	// Longest first, so that replacing them in turn leaves no tail of a
	// longer one that a shorter one begins.
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	out = slices.Compact(out)
	if n := len(out); n > 0 && out[n-1] == "" {
		out = out[:n-1]
	}
	return out
}

// secretSpans returns the byte ranges of uri's secrets in order, ranges that
// overlap merged.
func secretSpans(uri string) [][2]int {
	var spans [][2]int
	switch {
	case strings.HasPrefix(uri, "file://"):
		return nil
	case !strings.Contains(uri, "://"):
		spans = valueSpans(keywordPassword, uri)
	default:
		if s, ok := userPassword(uri); ok {
			spans = append(spans, s)
		}
		spans = append(spans, valueSpans(queryPassword, uri)...)
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var merged [][2]int
	for _, s := range spans {
		if n := len(merged); n > 0 && s[0] <= merged[n-1][1] {
			merged[n-1][1] = max(merged[n-1][1], s[1])
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// valueSpans returns the ranges of re's second group (the value) in uri.
func valueSpans(re *regexp.Regexp, uri string) [][2]int {
	var spans [][2]int
	for _, m := range re.FindAllStringSubmatchIndex(uri, -1) {
		spans = append(spans, [2]int{m[4], m[5]})
	}
	return spans
}

// queryPassword is a password given as a URI parameter, up to the next
// parameter (spaces included: the URI may not be escaped).
var queryPassword = regexp.MustCompile(`(?i)([?&](?:ssl)?password=)([^&#]*)`)

// keywordPassword is a password in a keyword/value DSN, quoted (with
// backslash escapes) or up to the next space.
var keywordPassword = regexp.MustCompile(`(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// userPassword finds the password of a URI's user part, up to the last @: a
// password may hold @, / or ? unescaped, which would cut url.Parse's
// reading of it short. A later @ (in a path or a parameter) makes it mask
// more than the password, never less. A "user" holding / is a path, not a
// user part.
func userPassword(uri string) ([2]int, bool) {
	start := strings.Index(uri, "://") + 3
	at := strings.LastIndex(uri[start:], "@")
	if at < 0 {
		return [2]int{}, false
	}
	user, _, hasPassword := strings.Cut(uri[start:start+at], ":")
	if !hasPassword || strings.Contains(user, "/") {
		return [2]int{}, false
	}
	return [2]int{start + len(user) + 1, start + at}, true
}
