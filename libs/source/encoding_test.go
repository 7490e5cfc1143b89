package source_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/kallahq/kalla/libs/source"
)

// utf16File is text as UTF-16 with a byte order mark, little- or
// big-endian, encoded here without the decoder under test.
func utf16File(text string, order binary.ByteOrder) []byte {
	var b bytes.Buffer
	for _, u := range append([]uint16{0xfeff}, utf16.Encode([]rune(text))...) {
		binary.Write(&b, order, u)
	}
	return b.Bytes()
}

// TestEncoding: a file in the encoding the recipe sets is read as its UTF-8
// text would be, lines and all, and rewritten as UTF-8 for the engine; read
// as UTF-8, it is refused with the setting that reads it.
func TestEncoding(t *testing.T) {
	t.Parallel()
	text := "id,name,amount\n1,Société Générale,1.50\n2,\"Müller\nGmbH\",2\n3,Ørsted,3\n"
	latin1 := []byte(strings.NewReplacer("é", "\xe9", "ü", "\xfc", "Ø", "\xd8").Replace(text))
	for _, tt := range []struct {
		name, file, encoding string
		data                 []byte
	}{
		{"latin1", "x.csv", "latin1", latin1},
		{"latin1_gzipped", "x.csv.gz", "latin1", nil},
		{"windows_1252", "x.csv", "windows-1252", []byte(strings.Replace(string(latin1), "1.50", "\x80 1.50", 1))},
		{"utf16_little_endian", "x.csv", "utf-16", utf16File(text, binary.LittleEndian)},
		{"utf16_big_endian", "x.csv", "utf-16", utf16File(text, binary.BigEndian)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tt.data == nil {
				path = gzipFile(t, tt.file, string(latin1))
			} else {
				path = csvFileNamed(t, tt.file, string(tt.data))
			}
			if _, err := source.CSVSchema(path, source.CSVOptions{}); err == nil || !strings.Contains(err.Error(), `set the source's`) {
				t.Errorf("read as UTF-8: %v, want a refusal naming the encoding setting", err)
			}
			s, err := source.CSVSchema(path, source.CSVOptions{Encoding: tt.encoding})
			if err != nil {
				t.Fatal(err)
			}
			if s.Names() != "id, name, amount" || s.Rows != 3 || s.CSV.Encoding != tt.encoding || !s.CSV.NeedsRewrite() {
				t.Errorf("columns %s, %d rows, layout %+v; want id, name, amount, 3 rows, %s, rewritten", s.Names(), s.Rows, s.CSV, tt.encoding)
			}
			if lines, err := source.CSVLines(path, s.CSV, []int64{2, 3}); err != nil || lines[2] != 3 || lines[3] != 5 {
				t.Errorf("lines %v (%v), want records 2 and 3 on lines 3 and 5", lines, err)
			}
			var out bytes.Buffer
			want := text
			if tt.name == "windows_1252" {
				want = strings.Replace(text, "1.50", "€ 1.50", 1)
			}
			if _, records, err := source.RewriteCSV(path, s.CSV, &out); err != nil || records != 3 || out.String() != want {
				t.Errorf("rewrite %q, %d records (%v); want %q", out.String(), records, err, want)
			}
		})
	}
	t.Run("not_an_encoding", func(t *testing.T) {
		t.Parallel()
		csvRef, err := source.Parse("file:///d/x.csv")
		if err != nil {
			t.Fatal(err)
		}
		_, err = source.ReadSchema(t.Context(), csvRef, csvRef.Path, source.CSVOptions{Encoding: "cp1252"})
		if want := `encoding "cp1252" is none of "latin1", "utf-16", "windows-1252"`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %s", err, want)
		}
		ref, err := source.Parse("file:///d/x.parquet")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := source.ReadSchema(t.Context(), ref, ref.Path, source.CSVOptions{Encoding: "latin1"}); err == nil || !strings.Contains(err.Error(), "encoding applies to CSV sources only") {
			t.Errorf("err = %v, want encoding refused for Parquet", err)
		}
	})
}
