package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/kallahq/kalla/libs/source"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	for name, uri := range map[string]string{
		"user_part":         "postgres://kalla:s3cret@db:5432/erp?table=public.payments",
		"bad_escape":        "postgres://kalla:s3cret@db:5432/erp?table=a%zz",
		"password_param":    "postgres://kalla@db/erp?table=public.t&password=s3cret",
		"sslpassword_param": "postgres://kalla@db/erp?sslpassword=s3cret&table=public.t",
		"at_in_password":    "postgres://kalla:s3c@ret@db:x/erp?table=public.t",
		"slash_in_password": "postgres://kalla:s3c/ret@db/erp?table=public.t",
		"object_store":      "s3://AKIA:s3cret@bucket/data.txt",
		"keyword_dsn":       "host=db password=s3cret dbname=erp",
		"quoted_keyword":    "host=db password='s3 cret' dbname=erp",
		"question_mark":     "postgres://kalla:s3c?ret@db/erp?table=public.t",
		"ampersand_keyword": "host=db password=s3c&ret dbname=erp",
		"escaped_quote":     `host=db password='s3c\'ret' dbname=erp`,
		"space_in_param":    "postgres://kalla@db/erp?password=s3c ret&table=public.t",
		"upper_case_param":  "postgres://kalla@db/erp?PASSWORD=s3cret&table=public.t",
		"escaped_password":  "postgres://kalla:s3c%40ret@db/erp?table=public.t",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := source.Redact(uri); strings.Contains(got, "s3c") || !strings.Contains(got, "REDACTED") {
				t.Errorf("Redact(%q) = %q, want the password replaced by REDACTED", uri, got)
			}
			if _, err := source.Parse(uri); err != nil && strings.Contains(err.Error(), "s3c") {
				t.Errorf("Parse(%q) error holds the password: %v", uri, err)
			}
			secrets := source.Secrets(uri)
			if len(secrets) == 0 {
				t.Errorf("Secrets(%q) is empty", uri)
			}
			for _, s := range secrets {
				if !strings.Contains(s, "s3") {
					t.Errorf("Secrets(%q) holds %q, which is no password", uri, s)
				}
			}
		})
	}
	if got := source.Secrets("postgres://kalla:s3c%40ret@db/erp?table=public.t"); !slices.Equal(got, []string{"s3c%40ret", "s3c@ret"}) {
		t.Errorf("Secrets of an escaped password = %q, want it as written and unescaped", got)
	}
	for _, uri := range []string{"file:///data/a@b:c.csv", "file:///data/password=2024/x.csv", "postgres://kalla@db/erp?table=public.t", "s3://bucket/2024:01/x@y.csv"} {
		if got := source.Redact(uri); got != uri {
			t.Errorf("Redact(%q) = %q, want it unchanged: it holds no secret", uri, got)
		}
		if got := source.Secrets(uri); len(got) != 0 {
			t.Errorf("Secrets(%q) = %q, want none", uri, got)
		}
	}
	ref, err := source.Parse("postgres://kalla:s3cret@db:5432/erp?table=public.payments&password=s3cret2")
	if err != nil {
		t.Fatal(err)
	}
	if ref.Table != "public.payments" || strings.Contains(ref.String(), "s3cret") || ref.Native() {
		t.Errorf("ref = %+v, String %q", ref, ref.String())
	}
}

func TestTableNames(t *testing.T) {
	t.Parallel()
	for table, want := range map[string]string{
		"ledger":                  `"public"."ledger"`,
		"acc.ledger":              `"acc"."ledger"`,
		"public.My Ledger":        `"public"."My Ledger"`,
		`public."My Ledger"`:      `"public"."My Ledger"`,
		`"my.schema"."a ""b"""`:   `"my.schema"."a ""b"""`,
		`"my.schema".ledger.2024`: `"my.schema"."ledger.2024"`,
		`"Ledger"`:                `"public"."Ledger"`,
	} {
		ref, err := source.Parse("postgres://u:p@h/db?table=" + url.QueryEscape(table))
		if err != nil {
			t.Errorf("%s: %v", table, err)
			continue
		}
		if got := source.QuoteTable(ref.Table); got != want {
			t.Errorf("QuoteTable(%s) = %s, want %s", table, got, want)
		}
	}
}

// TestParseKeepsParameters hands the database the URI's other parameters
// as written: a "+" for a space would reach the server as a plus.
func TestParseKeepsParameters(t *testing.T) {
	t.Parallel()
	for uri, want := range map[string]string{
		"postgres://u@h/db?options=-c%20timezone%3DUTC&table=public.t&application_name=a%2Bb": "postgres://u@h/db?options=-c%20timezone%3DUTC&application_name=a%2Bb",
		"postgres://u@h/db?table=public.t":                      "postgres://u@h/db",
		"postgres://u@h/db?sslmode=disable&table=t&&table%3D=x": "postgres://u@h/db?sslmode=disable&table%3D=x",
	} {
		ref, err := source.Parse(uri)
		if err != nil || ref.DSN != want {
			t.Errorf("Parse(%s): DSN %q (%v), want %q", uri, ref.DSN, err, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"http_scheme":       "http://example.com/x.csv",
		"relative_file":     "file://data/x.csv",
		"unknown_extension": "file:///data/x.ods",
		"old_excel":         "file:///data/x.xls",
		"no_table":          "postgres://u:p@h/db",
		"unclosed_quote":    `postgres://u:p@h/db?table=public."Ledger`,
		"text_after_quote":  `postgres://u:p@h/db?table="acc"x.ledger`,
		"quoted_then_more":  `postgres://u:p@h/db?table=acc."a".b`,
	}
	for name, uri := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := source.Parse(uri); err == nil {
				t.Errorf("Parse(%q) succeeded", uri)
			} else if strings.Contains(err.Error(), ":p@") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestCSVSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.csv")
	text := "\ufeffint,dec,date,ts,text,empty,mixed,big,code,zero,codes_then_text\n" +
		" 1 ,7.5,2024-01-31,2024-01-31T10:00:00,007,,2024-01-01,123456789012345678901,12,0,-01\n" +
		"-2,3.25 ,2024-02-29,2024-02-01 10:00:00.5,x,,5,1, -00.5 ,10.5,x\n" +
		",,,2024-03-01,,,,,0042,-0,02\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := source.CSVSchema(path, source.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"int": "integer", "dec": "decimal(3,2)", "date": "date", "ts": "timestamp", "text": "text", "empty": "text", "mixed": "text", "big": "decimal(21,0)",
		"code": "text", "zero": "decimal(3,1)", "codes_then_text": "text"}
	for _, c := range s.Columns {
		if c.TypeName() != want[c.Name] {
			t.Errorf("column %s: %s, want %s", c.Name, c.TypeName(), want[c.Name])
		}
	}
	padded := map[string]bool{"int": true, "dec": true}
	for _, c := range s.Columns {
		if c.Padded != padded[c.Name] {
			t.Errorf("column %s: padded %v, want %v", c.Name, c.Padded, padded[c.Name])
		}
	}
	// Only a column that would be numbers but for their leading zeros
	// names one: that explains it being text.
	zeros := map[string]string{"code": "-00.5"}
	for _, c := range s.Columns {
		if c.LeadingZeros != zeros[c.Name] {
			t.Errorf("column %s: leading zeros %q, want %q", c.Name, c.LeadingZeros, zeros[c.Name])
		}
	}
	// A column of numbers or dates that one value made text names it; a
	// column without values says so.
	for _, c := range s.Columns {
		if want := map[string]string{"mixed": "5"}[c.Name]; c.Odd != want {
			t.Errorf("column %s: odd value %q, want %q", c.Name, c.Odd, want)
		}
		// A column of text alone or of integers shows its first value, as
		// written.
		if want := map[string]string{"text": "007", "codes_then_text": "-01", "int": " 1 "}[c.Name]; c.Sample != want {
			t.Errorf("column %s: sample %q, want %q", c.Name, c.Sample, want)
		}
		if c.Empty != (c.Name == "empty") {
			t.Errorf("column %s: empty %v", c.Name, c.Empty)
		}
	}
	if s.Rows != 3 || s.Columns[0].Name != "int" {
		t.Errorf("rows = %d, first column %q", s.Rows, s.Columns[0].Name)
	}
}

func TestCSVSchemaTypes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.csv")
	text := "acct,amount,code,day,wide\n00123, 007.50 ,12,2024-01-31,1234567890123456789\n0456,1.2,34,,1\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("set_types_replace_inference", func(t *testing.T) {
		t.Parallel()
		s, err := source.CSVSchema(path, source.CSVOptions{Types: map[string]source.Setting{"acct": {Type: source.Integer}, "amount": {Type: source.Decimal}, "code": {Type: source.Text}, "day": {Type: source.Timestamp}}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"acct": "integer", "amount": "decimal(3,2)", "code": "text", "day": "timestamp", "wide": "decimal(19,0)"}
		for _, c := range s.Columns {
			if c.TypeName() != want[c.Name] {
				t.Errorf("column %s: %s, want %s", c.Name, c.TypeName(), want[c.Name])
			}
		}
		if c, _ := s.Column("amount"); !c.Padded {
			t.Errorf("amount's spaces are not noted")
		}
	})
	for name, tt := range map[string]struct {
		types map[string]source.Setting
		want  string
	}{
		"value_not_of_the_type": {map[string]source.Setting{"amount": {Type: source.Integer}}, `line 2, column amount: " 007.50 " is not an integer`},
		"not_a_date":            {map[string]source.Setting{"code": {Type: source.Date}}, `line 2, column code: "12" is not an ISO date`},
		"too_wide_an_integer":   {map[string]source.Setting{"wide": {Type: source.Integer}}, `line 2, column wide: "1234567890123456789" is not an integer of at most 18 digits, the type the recipe sets for it (decimal holds whole numbers of up to 38 digits)`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := source.CSVSchema(path, source.CSVOptions{Types: tt.types})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %s", err, tt.want)
			}
		})
	}
	t.Run("other_formats_declare_their_own", func(t *testing.T) {
		t.Parallel()
		ref, err := source.Parse("file:///data/x.parquet")
		if err != nil {
			t.Fatal(err)
		}
		_, err = source.ReadSchema(context.Background(), ref, ref.Path, source.CSVOptions{Types: map[string]source.Setting{"acct": {Type: source.Text}}})
		if err == nil || !strings.Contains(err.Error(), "types apply to CSV sources only") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestCSVSchemaErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ text, want string }{
		"empty_file":       {"", "the file is empty"},
		"byte_order_mark":  {"\ufeff\n", "the file is empty"},
		"duplicate_header": {"a,a\n1,2\n", `header names column "a" twice`},
		"ragged_row":       {"a,b\n1\n", "record on line 2: wrong number of fields (1, where the header has 2)"},
		"unnamed_column":   {"a,\n1,2\n", "header column 2 has no name"},
		"only_a_sep_line":  {"sep=;\n", "a header row naming the columns is required after it"},
		"two_separators":   {"\"a\";\"b\";c|d\n1\n", `the header holds ';' and '|' outside quotes and no comma`},
		"latin1_value":     {"a,b\n1,caf\xe9\n", "line 2 is not UTF-8"},
		"utf16_header":     {"\xff\xfea\x00,\x00b\x00\n\x00", "iconv -f UTF-16 -t UTF-8"},
		"lone_cr":          {"a,b\r1,2\r", `line 1 holds a carriage return (\r) outside quotes`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.csv")
			os.WriteFile(path, []byte(tt.text), 0o644)
			_, err := source.CSVSchema(path, source.CSVOptions{})
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want an error naming %s and saying %q", err, path, tt.want)
			}
		})
	}
	t.Run("a_directory", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "x.csv")
		os.Mkdir(path, 0o755)
		_, err := source.CSVSchema(path, source.CSVOptions{})
		if want := path + " is a directory; a CSV source names a file"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
	t.Run("a_pipe", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "x.csv")
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := source.CSVSchema(path, source.CSVOptions{})
		if want := "is not a regular file (p---------): Kalla reads a CSV file twice"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
}

// TestCSVSchemaLongFiles reads files of many batches of records (they are
// read ahead of the inference): values and errors far into a file count in
// the file's order.
func TestCSVSchemaLongFiles(t *testing.T) {
	t.Parallel()
	const n = 100_000
	text := func(odd map[int]string) string {
		var b strings.Builder
		b.WriteString("id,amount,note\n")
		for i := 1; i <= n; i++ {
			line, ok := odd[i]
			if !ok {
				line = fmt.Sprintf("%d,%d.50,%d", i, i%1000, i)
			}
			b.WriteString(line + "\n")
		}
		return b.String()
	}
	t.Run("values_far_in", func(t *testing.T) {
		t.Parallel()
		s, err := csvSchema(t, text(map[int]string{77_777: "77777,1.125,x", 90_000: "90000,2.5,y"}), nil)
		if err != nil {
			t.Fatal(err)
		}
		amount, _ := s.Column("amount")
		note, _ := s.Column("note")
		if s.Rows != n || amount.TypeName() != "decimal(6,3)" || note.TypeName() != "text" || note.Odd != "x" {
			t.Errorf("rows %d, amount %s, note %s (odd %q); want %d, decimal(6,3), text (odd \"x\")", s.Rows, amount.TypeName(), note.TypeName(), note.Odd, n)
		}
	})
	for name, tt := range map[string]struct {
		odd   map[int]string
		types map[string]source.Setting
		want  string
	}{
		"ragged_far_in":     {map[int]string{60_000: "60000,1", 60_001: "60001"}, nil, "record on line 60001: wrong number of fields"},
		"type_error_far_in": {map[int]string{70_000: "70000,1,1.5", 80_000: "80000,1,x"}, map[string]source.Setting{"note": {Type: source.Integer}}, "line 70001, column note"},
		// The reader is far ahead, waiting for the inference: it stops.
		"type_error_early": {map[int]string{10: "10,1,x"}, map[string]source.Setting{"note": {Type: source.Integer}}, "line 11, column note"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := csvSchema(t, text(tt.odd), tt.types)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestRedactError(t *testing.T) {
	t.Parallel()
	base := errors.New(`connect to postgres://kalla:s3cret@db/erp failed`)
	err := source.RedactError(base, "postgres://kalla:s3cret@db/erp?table=t")
	if strings.Contains(err.Error(), "s3cret") || !errors.Is(err, base) {
		t.Errorf("RedactError = %q (chain kept: %v)", err, errors.Is(err, base))
	}
	// Passwords given as parameters, and any password=... the driver shows.
	params := errors.New("user kalla: password s3cret2 refused; sslpassword=s3cret3")
	err = source.RedactError(params, "postgres://kalla@db/erp?password=s3cret2")
	if strings.Contains(err.Error(), "s3cret") || !errors.Is(err, params) {
		t.Errorf("RedactError = %q (chain kept: %v)", err, errors.Is(err, params))
	}
	// A password echoed as written, percent-escaped.
	escaped := errors.New("dial postgres://kalla:s3c%40ret@db: refused")
	if got := source.RedactError(escaped, "postgres://kalla:s3c%40ret@db/erp").Error(); strings.Contains(got, "s3c") {
		t.Errorf("RedactError = %q, want the escaped password out", got)
	}
	plain := errors.New("connection refused")
	if got := source.RedactError(plain, "postgres://kalla:s3cret@db/erp"); got != plain {
		t.Errorf("an error without the password changed: %v", got)
	}
}

func TestCSVExponents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(t *testing.T, text string) string {
		t.Helper()
		path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".csv")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	decimal := map[string]source.Setting{"v": {Type: source.Decimal}}
	t.Run("text_unless_set", func(t *testing.T) {
		t.Parallel()
		path := write(t, "v,code\n12.34,1E5\n1e-05,AB\n-2.5e2,\n")
		s, err := source.CSVSchema(path, source.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := s.Column("v")
		code, _ := s.Column("code")
		if v.TypeName() != "text" || v.Exponent != "1e-05" || code.TypeName() != "text" || code.Exponent != "" {
			t.Errorf("v = %+v, code = %+v; want both text, v noting 1e-05", v, code)
		}
		s, err = source.CSVSchema(path, source.CSVOptions{Types: decimal})
		if err != nil {
			t.Fatal(err)
		}
		// 12.34, 0.00001 and -250: 3 integer digits, a scale of 5.
		if v, _ := s.Column("v"); v.TypeName() != "decimal(8,5)" || v.Exponent != "1e-05" {
			t.Errorf("v set to decimal = %+v, want decimal(8,5) noting 1e-05", v)
		}
	})
	// Each value alone in a column set to decimal: its type, or what the
	// error says.
	for value, want := range map[string]string{
		"1e-05":       "decimal(5,5)",
		"1.5E+3":      "decimal(4,0)",
		"0.00123e2":   "decimal(3,3)",
		"-0.09083e+4": "decimal(4,1)",
		"12.34e1":     "decimal(4,1)",
		"+5.50e-1":    "decimal(3,3)",
		"0e5":         "decimal(1,0)",
		"0e999":       "decimal(1,0)",
		"-0.00e-999":  "decimal(2,2)",
		"0e1000":      "is not a decimal number of at most 38 digits",
		"1e0001":      "decimal(2,0)",
		"7E-000":      "decimal(1,0)",
		"1e-38":       "decimal(38,38)",
		" 2e2 ":       "decimal(3,0)",
		"1e":          "is not a decimal number",
		"1.e5":        "is not a decimal number",
		".5e1":        "is not a decimal number",
		"1e5.5":       "is not a decimal number",
		"1e-5x":       "is not a decimal number",
		"1e39":        "is not a decimal number of at most 38 digits",
		"1e-39":       "is not a decimal number of at most 38 digits",
		"1e9999":      "is not a decimal number of at most 38 digits",
	} {
		t.Run(value, func(t *testing.T) {
			t.Parallel()
			s, err := source.CSVSchema(write(t, "v\n"+value+"\n"), source.CSVOptions{Types: decimal})
			got := fmt.Sprint(err)
			if err == nil {
				v, _ := s.Column("v")
				got = v.TypeName()
			}
			if !strings.Contains(got, want) {
				t.Errorf("%s set to decimal: %s, want %s", value, got, want)
			}
		})
	}
	t.Run("no_note_for_a_column_too_wide", func(t *testing.T) {
		t.Parallel()
		s, err := source.CSVSchema(write(t, "v\n007\n1e-5\n1234567890123456789012345678901234567890\n"), source.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Column("v"); v.TypeName() != "text" || v.LeadingZeros != "" || v.Exponent != "" {
			t.Errorf("v = %+v, want text without a note that setting a number type would help", v)
		}
	})
	t.Run("type_error_names_the_line_a_record_starts_on", func(t *testing.T) {
		t.Parallel()
		_, err := source.CSVSchema(write(t, "v,note\n1,a\nx,\"two\nlines\"\n"), source.CSVOptions{Types: map[string]source.Setting{"v": {Type: source.Integer}}})
		if err == nil || !strings.Contains(err.Error(), `line 3, column v: "x"`) {
			t.Errorf("err = %v, want it on line 3", err)
		}
	})
	t.Run("not_an_integer", func(t *testing.T) {
		t.Parallel()
		_, err := source.CSVSchema(write(t, "v\n1\n1e3\n"), source.CSVOptions{Types: map[string]source.Setting{"v": {Type: source.Integer}}})
		if err == nil || !strings.Contains(err.Error(), `line 3, column v: "1e3" is not an integer`) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestRewriteCSV(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		in, want         string
		records, longest int64
	}{
		"separator_line_and_blank_lines": {"\ufeffsep=;\r\n\nid;note\n1;\"a,b\"\r\n\n2;\"say \"\"hi\"\"\"\n3;\n",
			"id,note\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n3,\n", 3, 15},
		"one_column_empty_value": {"ref\r\nA\n\"\"\r\n\nB", "ref\nA\n\"\"\nB\n", 3, 4},
		// As the engine reads a quoted "\r\n" in a file it is given.
		"line_ends_in_quotes": {"id,note\r\n1,\"x\r\ny\nz\"\n", "id,note\n1,\"x\r\ny\nz\"\n", 1, 11},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			layout, records, err := source.RewriteCSV(csvFile(t, tt.in), source.CSVLayout{}, &out)
			if err != nil {
				t.Fatal(err)
			}
			if want := (source.CSVLayout{FirstLine: 1, LongestRecord: int(tt.longest)}); out.String() != tt.want || records != tt.records || layout != want {
				t.Errorf("rewrote %q, %d records, %+v; want %q, %d records, %+v", out.String(), records, layout, tt.want, tt.records, want)
			}
		})
	}
}

// TestSchemaNames: a name whose spaces, comma or quote a list would hide is
// quoted.
func TestSchemaNames(t *testing.T) {
	t.Parallel()
	s := source.Schema{Columns: []source.Column{{Name: "id"}, {Name: " amt"}, {Name: "a,b"}, {Name: `say "hi"`}, {Name: "memo text"}}}
	if got, want := s.Names(), `id, " amt", "a,b", "say \"hi\"", memo text`; got != want {
		t.Errorf("Names() = %s, want %s", got, want)
	}
}

func TestCSVLines(t *testing.T) {
	t.Parallel()
	// Records 1-4 start on lines 3, 4, 7 and 8: a separator line, a
	// quoted field over two lines, a blank line.
	path := csvFile(t, "sep=;\nid;memo\n1;x\n2;\"two\nlines\"\n\n3;y\n4;z\n")
	got, err := source.CSVLines(path, source.CSVLayout{}, []int64{4, 1, 3})
	if want := map[int64]int{1: 3, 3: 7, 4: 8}; err != nil || !maps.Equal(got, want) {
		t.Errorf("CSVLines = %v, %v; want %v", got, err, want)
	}
	if _, err := source.CSVLines(path, source.CSVLayout{}, []int64{5}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a record past the end: err = %v, want one naming the file", err)
	}
}

func TestISODay(t *testing.T) {
	t.Parallel()
	for v, want := range map[string][2]bool{
		"2024-02-29":        {true, true},
		" 2024-01-02 10:00": {true, true},
		"2024-02-30":        {true, false},
		"2023-02-29":        {true, false},
		"0000-01-01":        {true, false},
		"02/01/2024":        {false, false},
		"2024-1-02":         {false, false},
		"N/A":               {false, false},
	} {
		if iso, valid := source.ISODay(v); [2]bool{iso, valid} != want {
			t.Errorf("ISODay(%q) = %t, %t; want %t, %t", v, iso, valid, want[0], want[1])
		}
	}
}
