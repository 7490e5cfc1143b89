package source_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/source"
)

func TestPatternMatches(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"*.csv", "a.csv", true},
		{"*.csv", ".csv", false}, // hidden, as a shell has it
		{"*.csv", "a.CSV", false},
		{"*.csv", "a.csv.gz", false},
		{"*.csv", ".a.csv", false},
		{".*.csv", ".a.csv", true},
		{"2024-*-*.csv", "2024-01-02.csv", true},
		{"2024-*-*.csv", "2024-0102.csv", false},
		{"a*a.csv", "a.csv", false}, // the two ends may not overlap
		{"a*a.csv", "aa.csv", true},
		{"a*b*b.csv", "abb.csv", true},
		{"a*b*b.csv", "ab.csv", false},
		{"x[1]*.csv", "x[1]2.csv", true}, // only * is special
		{"x[1]*.csv", "x12.csv", false},
		{"x?*.csv", "xy.csv", false},
		{"*.xlsx", "~$ledger.xlsx", false}, // Excel's lock file of an open workbook
		{"~*.xlsx", "~$ledger.xlsx", true},
	} {
		if got := source.PatternMatches("/d/"+tt.pattern, "/d/"+tt.name); got != tt.want {
			t.Errorf("PatternMatches(%s, %s) = %t, want %t", tt.pattern, tt.name, got, tt.want)
		}
	}
	if source.PatternMatches("/d/*.csv", "/e/a.csv") || source.PatternMatches("/d/*.csv", "/d/e/a.csv") {
		t.Error("a pattern names files of its own directory only")
	}
}

func TestParsePattern(t *testing.T) {
	t.Parallel()
	for uri, want := range map[string]source.Format{"file:///d/2024-*.csv": source.FormatCSV, "file:///d/*.tsv.gz": source.FormatCSV, "file:///d/part-*.parquet": source.FormatParquet,
		"s3://b/in/2024-*.csv": source.FormatCSV, "s3://b/part-*.parquet": source.FormatParquet} {
		if ref, err := source.Parse(uri); err != nil || ref.Format != want {
			t.Errorf("Parse(%s) = %v (%v), want %v", uri, ref.Format, err, want)
		}
	}
	for uri, want := range map[string]string{
		"file:///d/*/x.csv":   "* may stand only in the file name, not in a directory's (/d/*)",
		"file:///d/x*":        "the pattern x* must end in .csv, .tsv, .csv.gz, .tsv.gz, .xlsx, .xlsm or .parquet, so that every file it names is read alike",
		"file:///d/*.csv.gz*": "must end in",
		"s3://b/d*/x.csv":     "* may stand only in the file name, not in a directory's (s3://b/d*)",
		"s3://b/x-*":          "the pattern x-* must end in",
	} {
		if _, err := source.Parse(uri); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s): err = %v, want one saying %s", uri, err, want)
		}
	}
}

// TestCSVPattern: the files a pattern names are one source: read in the
// byte order of their names, each laid out in its own way, and typed over
// the values of all of them.
func TestCSVPattern(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T, files map[string]string) string {
		t.Helper()
		dir := t.TempDir()
		for name, text := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	t.Run("layouts_and_types", func(t *testing.T) {
		t.Parallel()
		dir := setup(t, map[string]string{
			"day-10.csv":       "id,amount,day\n1,10,2024-01-01\n2,20,2024-01-02\n",
			"day-02.csv":       "sep=;\r\nid;amount;day\r\n3;30.5;2024-01-03\r\n",
			"day-03.csv":       "\n\nid,amount,day\n4,7,soon\n5,8,2024-01-05\n",
			".day-04.csv":      "id,amount,day\nx,y,z\n",
			"day-05.csv.bak":   "id,amount,day\nx,y,z\n",
			"day-06.csv/x.csv": "id,amount,day\nx,y,z\n",
			"other-07.csv":     "id,amount,day\nx,y,z\n",
		})
		s, err := source.CSVSchema(filepath.Join(dir, "day-*.csv"), source.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range s.Files {
			names = append(names, filepath.Base(f))
		}
		if want := []string{"day-02.csv", "day-03.csv", "day-10.csv"}; !slices.Equal(names, want) {
			t.Fatalf("files = %v, want %v", names, want)
		}
		if s.Rows != 5 || len(s.Stamps) != 3 || len(s.Parts) != 3 {
			t.Errorf("rows %d, stamps %d, parts %d; want 5, 3, 3", s.Rows, len(s.Stamps), len(s.Parts))
		}
		want := []source.CSVPart{
			{Path: s.Files[0], Layout: source.CSVLayout{FirstLine: 2, Delimiter: ";"}, Rows: 1},
			{Path: s.Files[1], Layout: source.CSVLayout{FirstLine: 3}, Rows: 2},
			{Path: s.Files[2], Layout: source.CSVLayout{FirstLine: 1}, Rows: 2},
		}
		for i := range want {
			if got := s.CSVParts("unused")[i]; got.Path != want[i].Path || got.Rows != want[i].Rows || got.Layout.FirstLine != want[i].Layout.FirstLine || got.Layout.Delimiter != want[i].Layout.Delimiter {
				t.Errorf("part %d = %+v, want %+v", i, got, want[i])
			}
		}
		amount, _ := s.Column("amount")
		day, _ := s.Column("day")
		if amount.TypeName() != "decimal(3,1)" || day.TypeName() != "text" || day.Odd != "soon" || day.OddLine != 4 || day.OddFile != "day-03.csv" {
			t.Errorf("amount %s, day %s (odd %q on line %d of %q); want decimal(3,1), and text because of \"soon\" on line 4 of day-03.csv",
				amount.TypeName(), day.TypeName(), day.Odd, day.OddLine, day.OddFile)
		}
	})
	t.Run("one_file", func(t *testing.T) {
		t.Parallel()
		dir := setup(t, map[string]string{"a-1.csv": "id\n1\n"})
		s, err := source.CSVSchema(filepath.Join(dir, "a-*.csv"), source.CSVOptions{})
		if err != nil || len(s.Parts) != 1 || len(s.Files) != 1 || s.Rows != 1 {
			t.Errorf("schema %+v (%v); want one part of one record", s, err)
		}
	})
	t.Run("file_named_with_a_star", func(t *testing.T) {
		t.Parallel()
		dir := setup(t, map[string]string{"a*.csv": "id\n1\n", "ab.csv": "id\n2\n3\n"})
		s, err := source.CSVSchema(filepath.Join(dir, "a*.csv"), source.CSVOptions{})
		if err != nil || len(s.Parts) != 0 || s.Rows != 1 {
			t.Errorf("schema %+v (%v); want the file a*.csv alone", s, err)
		}
	})
	for name, tt := range map[string]struct {
		files   map[string]string
		types   map[string]source.Setting
		pattern string
		want    string
	}{
		"other_header": {map[string]string{"a-1.csv": "id,amount\n1,2\n", "a-2.csv": "amount,id\n3,4\n"}, nil, "a-*.csv",
			"read DIR/a-2.csv: its header names the columns amount, id, and a-1.csv's names id, amount: the files a pattern names are read as one table, so their headers must name the same columns in the same order"},
		"type_set": {map[string]string{"a-1.csv": "id,amount\n1,2\n", "a-2.csv": "id,amount\n3,x\n"}, map[string]source.Setting{"amount": {Type: source.Decimal}}, "a-*.csv",
			`read DIR/a-2.csv: line 2, column amount: "x" is not a decimal number`},
		"empty_file": {map[string]string{"a-1.csv": "id\n1\n", "a-2.csv": ""}, nil, "a-*.csv", "read DIR/a-2.csv: the file is empty"},
		"no_file":    {map[string]string{"b-1.csv": "id\n1\n"}, nil, "a-*.csv", "no file in DIR matches a-*.csv"},
		"gzipped":    {map[string]string{"a-1.csv.gz": "not gzip"}, nil, "a-*.csv.gz", "DIR/a-1.csv.gz is not gzip data"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := setup(t, tt.files)
			_, err := source.CSVSchema(filepath.Join(dir, tt.pattern), source.CSVOptions{Types: tt.types})
			if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), dir, "DIR"), tt.want) {
				t.Errorf("err = %v, want one saying %s", err, tt.want)
			}
		})
	}
}

func TestParquetPattern(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"jan-2.parquet", "jan-1.parquet", "feb-1.parquet"} {
		writeParquet(t, filepath.Join(dir, name))
	}
	s, err := source.ParquetSchema(filepath.Join(dir, "jan-*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 4 || len(s.Files) != 2 || filepath.Base(s.Files[0]) != "jan-1.parquet" {
		t.Errorf("rows %d, files %v; want 4 rows of jan-1.parquet and jan-2.parquet", s.Rows, s.Files)
	}
	for _, name := range []string{"jan-1.parquet", "jan-2.parquet"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := source.ParquetSchema(filepath.Join(dir, "jan-*.parquet")); err == nil || !strings.Contains(err.Error(), "no file in "+dir+" matches jan-*.parquet") {
		t.Errorf("err = %v, want one saying no file matches", err)
	}
	csvDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(csvDir, "a.csv.gz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := source.ParquetSchema(csvDir); err == nil || !strings.Contains(err.Error(), "such as file://"+csvDir+"/*.csv.gz") {
		t.Errorf("err = %v, want one suggesting a pattern", err)
	}
}
