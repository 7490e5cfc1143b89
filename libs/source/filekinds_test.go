package source_test

import (
	"bytes"
	"compress/gzip"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/source"
)

// gzipFile writes the gzip members (one per text, as `cat a.gz b.gz`
// joins them) to a file named name and returns its path.
func gzipFile(t *testing.T, name string, texts ...string) string {
	t.Helper()
	var b bytes.Buffer
	for _, text := range texts {
		z := gzip.NewWriter(&b)
		if _, err := z.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGzippedCSV: a file ending in .gz is read through gzip, as its text
// would be read: the same columns, types, layout, records and lines.
func TestGzippedCSV(t *testing.T) {
	t.Parallel()
	// A byte order mark, a separator line, a quoted line end, a blank line.
	text := "\ufeffsep=;\nid;amount;day;memo\n1; 1.50;2024-02-29;\"two\nlines\"\n\n2;-3;2024-03-01;x\n"
	plain := csvFile(t, text)
	for name, path := range map[string]string{
		"csv_gz":      gzipFile(t, "x.csv.gz", text),
		"upper_case":  gzipFile(t, "X.CSV.GZ", text),
		"tsv_gz":      gzipFile(t, "x.tsv.gz", text),
		"two_members": gzipFile(t, "x.csv.gz", text[:40], text[40:]),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := source.CSVSchema(plain, source.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := source.CSVSchema(path, source.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Columns, want.Columns) || got.Rows != want.Rows || got.CSV != want.CSV {
				t.Errorf("schema %+v\nwant %+v", got, want)
			}
			lines, err := source.CSVLines(path, source.CSVLayout{}, []int64{1, 2})
			if want := map[int64]int{1: 3, 2: 6}; err != nil || !maps.Equal(lines, want) {
				t.Errorf("CSVLines = %v, %v; want %v", lines, err, want)
			}
			var gotText, wantText bytes.Buffer
			if _, _, err := source.RewriteCSV(path, source.CSVLayout{}, &gotText); err != nil {
				t.Fatal(err)
			}
			if _, _, err := source.RewriteCSV(plain, source.CSVLayout{}, &wantText); err != nil {
				t.Fatal(err)
			}
			if gotText.String() != wantText.String() {
				t.Errorf("rewritten %q, want %q", gotText.String(), wantText.String())
			}
		})
	}
}

func TestGzippedCSVErrors(t *testing.T) {
	t.Parallel()
	whole, err := os.ReadFile(gzipFile(t, "x.csv.gz", "id,ref\n"+strings.Repeat("1,A\n", 1000)))
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(whole)
	damaged[len(damaged)-6] ^= 0xff // the checksum
	for name, tt := range map[string]struct {
		data []byte
		want string
	}{
		"not_gzip":  {[]byte("id,ref\n1,A\n"), "is not gzip data, though its name ends in .gz (gzip: invalid header)"},
		"cut_short": {whole[:len(whole)/2], "its gzip data ends early: the file is cut short"},
		"damaged":   {damaged, "its gzip data is damaged (gzip: invalid checksum)"},
		"empty":     {nil, "the file is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.csv.gz")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := source.CSVSchema(path, source.CSVOptions{})
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want an error naming %s and saying %q", err, path, tt.want)
			}
		})
	}
}

// TestFileKinds: a file's name says how it is read.
func TestFileKinds(t *testing.T) {
	t.Parallel()
	for uri, want := range map[string]source.Format{
		"file:///d/x.csv":       source.FormatCSV,
		"file:///d/x.tsv":       source.FormatCSV,
		"file:///d/x.csv.gz":    source.FormatCSV,
		"file:///d/X.TSV.GZ":    source.FormatCSV,
		"file:///d/x.parquet":   source.FormatParquet,
		"file:///d/parts":       source.FormatParquet,
		"s3://bucket/x.csv.gz":  source.FormatCSV,
		"s3://bucket/x.tsv":     source.FormatCSV,
		"s3://bucket/x.parquet": source.FormatParquet,
	} {
		if ref, err := source.Parse(uri); err != nil || ref.Format != want {
			t.Errorf("Parse(%s) = %v (%v), want %v", uri, ref.Format, err, want)
		}
	}
	for _, uri := range []string{"file:///d/x.gz", "file:///d/x.parquet.gz", "file:///d/x.txt", "s3://bucket/x.gz", "s3://bucket/x.json"} {
		_, err := source.Parse(uri)
		if want := ".csv, .tsv, .csv.gz, .tsv.gz, .xlsx, .xlsm or .parquet"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s): err = %v, want one listing %s", uri, err, want)
		}
	}
	for name, want := range map[string]string{"a.CSV.gz": ".csv.gz", "a.tsv": ".tsv", "a.parquet": ".parquet", ".csv": "", "a.gz": "", "a.csv.bak": ""} {
		if got := source.FileExt(name); got != want {
			t.Errorf("FileExt(%s) = %q, want %q", name, got, want)
		}
	}
}

// TestTSV: a .tsv file's fields are separated by tabs, whatever its header
// holds; a "sep=" line still names another separator.
func TestTSV(t *testing.T) {
	t.Parallel()
	text := "payee, name\tamount\nAcme, Inc.\t1.50\n"
	for name, path := range map[string]string{"tsv": csvFileNamed(t, "x.tsv", text), "tsv_gz": gzipFile(t, "x.TSV.gz", text)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := source.CSVSchema(path, source.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Names(); got != `"payee, name", amount` || s.CSV.Delimiter != "\t" {
				t.Errorf("columns %s, separator %q; want \"payee, name\", amount and a tab", got, s.CSV.Delimiter)
			}
			var out bytes.Buffer
			if _, _, err := source.RewriteCSV(path, source.CSVLayout{}, &out); err != nil || out.String() != "\"payee, name\",amount\n\"Acme, Inc.\",1.50\n" {
				t.Errorf("rewritten %q (%v)", out.String(), err)
			}
		})
	}
	t.Run("separator_line", func(t *testing.T) {
		t.Parallel()
		s, err := source.CSVSchema(csvFileNamed(t, "x.tsv", "sep=;\na;b\t c\n1;2\n"), source.CSVOptions{})
		if err != nil || s.Names() != "a, b\t c" || s.CSV.Delimiter != ";" {
			t.Errorf("columns %s, separator %q (%v); want a and \"b\\t c\", separated by ';'", s.Names(), s.CSV.Delimiter, err)
		}
	})
}

// csvFileNamed writes text to a file named name and returns its path.
func csvFileNamed(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSkipLines: the lines a recipe says come before the header are passed
// over as they are (a quote there opens nothing, any encoding goes), and
// lines keep their numbers in the file.
func TestSkipLines(t *testing.T) {
	t.Parallel()
	text := "Statement for \"ACME, Inc.\n\xe9t\xe9 (Latin-1)\r\nAccount: 1234;5678\n\nid,amount\r\n1,2.50\n\n2,3.00\n"
	path := csvFileNamed(t, "x.csv", text)
	s, err := source.CSVSchema(path, source.CSVOptions{SkipLines: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); got != "id, amount" || s.Rows != 2 || s.CSV.FirstLine != 5 || s.CSV.SkipLines != 3 || !s.CSV.NeedsRewrite() {
		t.Errorf("columns %s, rows %d, layout %+v; want id and amount, 2 rows, the header on line 5 after 3 lines skipped, to be rewritten", got, s.Rows, s.CSV)
	}
	if lines, err := source.CSVLines(path, s.CSV, []int64{1, 2}); err != nil || lines[1] != 6 || lines[2] != 8 {
		t.Errorf("lines %v (%v), want records 1 and 2 on lines 6 and 8", lines, err)
	}
	var out bytes.Buffer
	if _, records, err := source.RewriteCSV(path, s.CSV, &out); err != nil || records != 2 || out.String() != "id,amount\n1,2.50\n2,3.00\n" {
		t.Errorf("rewrite %q, %d records (%v)", out.String(), records, err)
	}
	if _, err := source.CSVSchema(path, source.CSVOptions{}); err == nil {
		t.Error("the file read without skipping its first lines: they are not its header")
	}
	_, err = source.CSVSchema(path, source.CSVOptions{SkipLines: 9})
	if want := "the file ends after 8 lines, before the 9 lines that skip_lines says come before its header"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %s", err, want)
	}
	gz := gzipFile(t, "x.csv.gz", text)
	if s, err := source.CSVSchema(gz, source.CSVOptions{SkipLines: 3}); err != nil || s.Rows != 2 || s.CSV.FirstLine != 5 {
		t.Errorf("gzipped: %+v (%v)", s, err)
	}
}
