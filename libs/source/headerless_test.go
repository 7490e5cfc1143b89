package source_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/source"
)

// TestHeaderless: a file without a header row has the columns the recipe
// names, its first line being a record: its types, lines, separator and
// rewrite are those of the same file with a header.
func TestHeaderless(t *testing.T) {
	t.Parallel()
	cols := []string{"booked", "memo", "amount"}
	for _, tt := range []struct {
		name, text string
		lines      []int // of records 1 and 3
		delimiter  string
		rewrite    string
	}{
		{name: "comma", text: "2024-01-02,Rent,-500.00\n2024-01-03,\"ACME, Inc.\",12.5\n2024-01-04,Fee,1\n",
			lines: []int{1, 3}, rewrite: "2024-01-02,Rent,-500.00\n2024-01-03,\"ACME, Inc.\",12.5\n2024-01-04,Fee,1\n"},
		// A decimal comma: the line splits into three only by ';'.
		{name: "semicolon", text: "\n2024-01-02;Rent;-500,00\r\n2024-01-03;ACME, Inc.;12,5\n\n2024-01-04;Fee;1\n",
			lines: []int{2, 5}, delimiter: ";", rewrite: "2024-01-02,Rent,\"-500,00\"\n2024-01-03,\"ACME, Inc.\",\"12,5\"\n2024-01-04,Fee,1\n"},
		// Both split the first line in three; the second has one comma.
		{name: "narrowed_by_later_lines", text: "2024-01-02;1,5;2,5\n2024-01-03;ACME;12,5\n2024-01-04;Fee;1\n",
			lines: []int{1, 3}, delimiter: ";", rewrite: "2024-01-02,\"1,5\",\"2,5\"\n2024-01-03,ACME,\"12,5\"\n2024-01-04,Fee,1\n"},
		{name: "separator_line", text: "sep=|\n2024-01-02|Rent|-500.00\n2024-01-03|A;B|12.5\n2024-01-04|Fee|1\n",
			lines: []int{2, 4}, delimiter: "|", rewrite: "2024-01-02,Rent,-500.00\n2024-01-03,A;B,12.5\n2024-01-04,Fee,1\n"},
		{name: "quoted_line_end", text: "2024-01-02,\"two\nlines\",-500.00\n2024-01-03,x,12.5\n2024-01-04,Fee,1\n",
			lines: []int{1, 4}, rewrite: "2024-01-02,\"two\nlines\",-500.00\n2024-01-03,x,12.5\n2024-01-04,Fee,1\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := csvFileNamed(t, "x.csv", tt.text)
			s, err := source.CSVSchema(path, source.CSVOptions{Columns: cols})
			if err != nil {
				t.Fatal(err)
			}
			if s.Names() != "booked, memo, amount" || s.Rows != 3 || s.CSV.Delimiter != tt.delimiter || !s.CSV.Headerless() || s.CSV.FirstLine != tt.lines[0] {
				t.Errorf("columns %s, %d rows, layout %+v; want the recipe's columns, 3 rows, separator %q, the first record on line %d",
					s.Names(), s.Rows, s.CSV, tt.delimiter, tt.lines[0])
			}
			if got := [3]source.Type{s.Columns[0].Type, s.Columns[1].Type, s.Columns[2].Type}; got != [3]source.Type{source.Date, source.Text, source.Decimal} && tt.delimiter != ";" {
				t.Errorf("types %v, want date, text and decimal", got)
			}
			if lines, err := source.CSVLines(path, s.CSV, []int64{1, 3}); err != nil || lines[1] != tt.lines[0] || lines[3] != tt.lines[1] {
				t.Errorf("lines %v (%v), want records 1 and 3 on lines %v", lines, err, tt.lines)
			}
			var out bytes.Buffer
			written, records, err := source.RewriteCSV(path, s.CSV, &out)
			if err != nil || records != 3 || out.String() != tt.rewrite || !written.Headerless() {
				t.Errorf("rewrite %q, %d records, layout %+v (%v); want %q, 3 records, without a header", out.String(), records, written, err, tt.rewrite)
			}
		})
	}
	t.Run("same_as_with_a_header", func(t *testing.T) {
		t.Parallel()
		body := "7,2024-01-02,0012.50\n8,2024-02-30x,3\n"
		with, err := source.CSVSchema(csvFileNamed(t, "h.csv", "id,day,amount\n"+body), source.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		without, err := source.CSVSchema(csvFileNamed(t, "x.csv", body), source.CSVOptions{Columns: []string{"id", "day", "amount"}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range with.Columns {
			if a, b := with.Columns[i], without.Columns[i]; a.Name != b.Name || a.Type != b.Type || a.Scale != b.Scale {
				t.Errorf("column %d: %+v without a header, %+v with one", i, b, a)
			}
		}
	})
	t.Run("empty_files", func(t *testing.T) {
		t.Parallel()
		// Another reader must pass over every line: FirstLine is past them.
		for text, first := range map[string]int{"": 1, "\n\n": 3, "sep=;\r\n\n": 3} {
			s, err := source.CSVSchema(csvFileNamed(t, "x.csv", text), source.CSVOptions{Columns: cols})
			if err != nil || s.Rows != 0 || len(s.Columns) != 3 || s.CSV.FirstLine != first {
				t.Errorf("%q: %d rows, %d columns, layout %+v (%v); want no records of 3 columns, starting on line %d", text, s.Rows, len(s.Columns), s.CSV, err, first)
			}
		}
		if s, err := source.CSVSchema(gzipFile(t, "x.csv.gz", ""), source.CSVOptions{Columns: cols}); err != nil || s.Rows != 0 {
			t.Errorf("gzipped: %d rows (%v)", s.Rows, err)
		}
	})
	t.Run("skip_lines", func(t *testing.T) {
		t.Parallel()
		path := csvFileNamed(t, "x.csv", "Statement \"ACME\nAccount 1,2,3\n1,2,3\n4,5,6\n")
		s, err := source.CSVSchema(path, source.CSVOptions{Columns: cols, SkipLines: 2})
		if err != nil || s.Rows != 2 || s.CSV.FirstLine != 3 || !s.CSV.NeedsRewrite() {
			t.Fatalf("%d rows, layout %+v (%v); want 2 records from line 3, rewritten", s.Rows, s.CSV, err)
		}
		var out bytes.Buffer
		if _, records, err := source.RewriteCSV(path, s.CSV, &out); err != nil || records != 2 || out.String() != "1,2,3\n4,5,6\n" {
			t.Errorf("rewrite %q, %d records (%v)", out.String(), records, err)
		}
		_, err = source.CSVSchema(path, source.CSVOptions{Columns: cols, SkipLines: 5})
		if want := "before the 5 lines that skip_lines says come before its records"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
	t.Run("pattern", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		for name, text := range map[string]string{"d-1.csv": "1;a;1,5\n", "d-2.csv": "", "d-3.csv": "2,b,2.25\n3,c,4\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s, err := source.CSVSchema(dir+"/d-*.csv", source.CSVOptions{Columns: []string{"id", "memo", "amount"}})
		if err != nil {
			t.Fatal(err)
		}
		if s.Rows != 3 || len(s.FileRows) != 3 || s.FileRows[0] != 1 || s.FileRows[1] != 0 || s.FileRows[2] != 2 {
			t.Errorf("%d rows, per file %v; want 3: 1, 0 and 2", s.Rows, s.FileRows)
		}
		// "1,5" read as text in the first file, where ';' separates.
		if s.Columns[2].Type != source.Text || s.Columns[0].Type != source.Integer {
			t.Errorf("types %v and %v, want integer and text", s.Columns[0].Type, s.Columns[2].Type)
		}
	})
}

// TestHeaderlessErrors: a file without a header whose records are not as
// wide as the recipe's columns, or whose separator cannot be told, is
// refused, naming its line.
func TestHeaderlessErrors(t *testing.T) {
	t.Parallel()
	cols := []string{"booked", "memo", "amount"}
	for _, tt := range []struct{ name, text, want string }{
		{"too_few", "2024-01-02,Rent\n", `line 1 does not split into the 3 fields the recipe's columns name: it splits into 2 by ','`},
		{"too_many", "\n2024-01-02,Rent,5,x;y;z;w\n", `line 2 does not split into the 3 fields the recipe's columns name: it splits into 4 by ',', 4 by ';'`},
		{"no_separator", "2024-01-02\n", `line 1 does not split into the 3 fields the recipe's columns name: it holds none of the separators`},
		{"later_record", "1,a,2\n3,b\n", "record on line 2: wrong number of fields (2, where the recipe's columns name 3)"},
		{"has_a_header", "\n Booked ,memo,AMOUNT\n2024-01-02,Rent,1\n", "line 2 names the columns booked, memo, amount, as a header row does, where the recipe's columns say the file has none"},
		{"cannot_tell", "1,5;2,5;x\n3,5;4,5;y\n", `its records split into the 3 fields the recipe's columns name by ',' and ';' alike: Kalla cannot tell which separates them; set the source's separator in the recipe`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := source.CSVSchema(csvFileNamed(t, "x.csv", tt.text), source.CSVOptions{Columns: cols})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "x.csv") {
				t.Errorf("err = %v, want %s, naming x.csv", err, tt.want)
			}
		})
	}
	t.Run("not_csv", func(t *testing.T) {
		t.Parallel()
		ref, err := source.Parse("file:///d/x.parquet")
		if err != nil {
			t.Fatal(err)
		}
		_, err = source.ReadSchema(t.Context(), ref, ref.Path, source.CSVOptions{Columns: cols})
		if want := "columns applies to CSV sources only"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
}

// TestSeparator: the separator a recipe sets is every file's, where the
// file's text would give another or cannot tell; a sep= line naming
// another is refused.
func TestSeparator(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, file, text, separator string
		columns                     []string
		names, rewrite              string
	}{
		{name: "header_of_two_separators", file: "x.csv", text: "a;b|c\n1;2|3\n", separator: "|", names: `a;b, c`, rewrite: "a;b,c\n1;2,3\n"},
		{name: "tsv_of_commas", file: "x.tsv", text: "a,b\n1,2\n", separator: ",", names: "a, b", rewrite: "a,b\n1,2\n"},
		{name: "sep_line_agreeing", file: "x.csv", text: "sep=;\na;b\n1;2\n", separator: ";", names: "a, b", rewrite: "a,b\n1,2\n"},
		{name: "no_header_cannot_tell", file: "x.csv", text: "1,5;2,5;x\n3,5;4,5;y\n", separator: ";", columns: []string{"a", "b", "c"}, names: "a, b, c", rewrite: "\"1,5\",\"2,5\",x\n\"3,5\",\"4,5\",y\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := csvFileNamed(t, tt.file, tt.text)
			if tt.name != "sep_line_agreeing" && tt.name != "tsv_of_commas" {
				if s, err := source.CSVSchema(path, source.CSVOptions{Columns: tt.columns}); err == nil && s.Names() == tt.names {
					t.Fatalf("read as %s without the separator set: the case tests nothing", s.Names())
				}
			}
			s, err := source.CSVSchema(path, source.CSVOptions{Columns: tt.columns, Separator: tt.separator})
			if err != nil || s.Names() != tt.names || s.CSV.Separator != tt.separator {
				t.Fatalf("columns %s, layout %+v (%v); want %s, the separator %q", s.Names(), s.CSV, err, tt.names, tt.separator)
			}
			var out bytes.Buffer
			if _, _, err := source.RewriteCSV(path, s.CSV, &out); err != nil || out.String() != tt.rewrite {
				t.Errorf("rewrite %q (%v), want %q", out.String(), err, tt.rewrite)
			}
		})
	}
	t.Run("sep_line_naming_another", func(t *testing.T) {
		t.Parallel()
		_, err := source.CSVSchema(csvFileNamed(t, "x.csv", "sep=|\na|b\n"), source.CSVOptions{Separator: ";"})
		if want := `its first line sep=| names '|' as the separator, and the recipe's separator is ';'`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
	t.Run("not_a_separator", func(t *testing.T) {
		t.Parallel()
		ref, err := source.Parse("file:///d/x.csv")
		if err != nil {
			t.Fatal(err)
		}
		_, err = source.ReadSchema(t.Context(), ref, ref.Path, source.CSVOptions{Separator: "tab"})
		if want := `separator "tab" is none of ',', ';', '\t' and '|'`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
}
