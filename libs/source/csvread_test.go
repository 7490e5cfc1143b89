package source

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestCSVReaderAgainstEncodingCSV reads random texts, valid and broken, with
// csvReader and with encoding/csv: the records must be the same, and both
// must refuse the same record.
func TestCSVReaderAgainstEncodingCSV(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	alphabet := []string{"a", "b", "1", ".", " ", ",", ",", "\"", "\"\"", "\n", "\r\n", "\r", "é"}
	for i := range 20000 {
		var b strings.Builder
		if i%2 == 0 {
			// A well-formed file from encoding/csv's writer.
			w := csv.NewWriter(&b)
			w.UseCRLF = rng.IntN(2) == 0
			writeRecords(rng, w, 1+rng.IntN(4), alphabet)
		} else {
			writeChars(rng, &b, alphabet)
		}
		// A small buffer, so that lines outgrow it often.
		compareReaders(t, b.String(), 16, ',')
	}
	// A header without a comma but with a semicolon, tab or bar sets the
	// separator: commas are then plain characters (decimal commas).
	for _, comma := range []rune{';', '\t', '|'} {
		sep := string(comma)
		alphabet := []string{"a", "1", ",", " ", sep, sep, "\"", "\"\"", "\n", "\r\n", "é"}
		for i := range 5000 {
			var b strings.Builder
			w := csv.NewWriter(&b)
			w.Comma = comma
			width := 2 + rng.IntN(3)
			header := make([]string, width)
			for j := range header {
				// A name may hold a comma: quoted, it separates nothing.
				header[j] = fmt.Sprintf("h%d", j)
				if rng.IntN(2) == 0 {
					header[j] = fmt.Sprintf("\"h%d,x\"", j)
				}
			}
			b.WriteString(strings.Join(header, sep) + "\n")
			if i%2 == 0 {
				writeRecords(rng, w, width, alphabet)
			} else {
				writeChars(rng, &b, alphabet)
			}
			compareReaders(t, b.String(), 16, comma)
		}
	}
	t.Run("unclosed_quote_names_the_line_it_opens", func(t *testing.T) {
		r := newCSVReader(strings.NewReader("id,ref\n1,\"A\n2,B\n3,C\n"), 16)
		var err error
		for err == nil {
			_, err = r.read()
		}
		if want := "line 2: extraneous or missing \" in quoted-field: the quote opening a field there is not closed by the end of the file (line 4)"; err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
	t.Run("line_longer_than_the_buffer", func(t *testing.T) {
		long := strings.Repeat("x", 3<<20)
		compareReaders(t, "a,b\n"+long+",\""+long+"\"\n1,2", 1<<20, ',')
	})
}

// writeRecords writes a few well-formed records of width random fields.
func writeRecords(rng *rand.Rand, w *csv.Writer, width int, alphabet []string) {
	for range rng.IntN(6) {
		rec := make([]string, width)
		for j := range rec {
			for range rng.IntN(5) {
				rec[j] += alphabet[rng.IntN(len(alphabet))]
			}
		}
		w.Write(rec)
	}
	w.Flush()
}

// writeChars writes random characters, a file that may be broken anywhere.
func writeChars(rng *rand.Rand, b *strings.Builder, alphabet []string) {
	for range rng.IntN(40) {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
}

func compareReaders(t *testing.T, text string, size int, comma rune) {
	t.Helper()
	want, wantErr := readAll(text, comma)
	mine := newCSVReader(strings.NewReader(text), size)
	var got [][]string
	var gotErr error
	for {
		rec, err := mine.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			gotErr = err
			break
		}
		fields := make([]string, len(rec))
		for i, f := range rec {
			fields[i] = string(f)
		}
		got = append(got, fields)
	}
	if errors.Is(gotErr, errStrayCR) {
		// Refused on purpose, where encoding/csv reads on.
		lone := strings.ReplaceAll(strings.TrimSuffix(text, "\r"), "\r\n", "")
		if !strings.Contains(lone, "\r") || !slices.EqualFunc(got, want[:min(len(got), len(want))], slices.Equal) {
			t.Fatalf("text %q: csvReader refused a carriage return: %v, after %q; encoding/csv read %q", text, gotErr, got, want)
		}
		return
	}
	if (gotErr != nil) != (wantErr != nil) || !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("text %q:\ncsvReader    %q, error %v\nencoding/csv %q, error %v", text, got, gotErr, want, wantErr)
	}
}

// readAll reads text with encoding/csv up to its first error.
func readAll(text string, comma rune) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = comma
	var out [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// TestReadAheadBatches: a batch stops at batchRecords records or at the
// record that takes it past batchBytes, so that a file of long records is
// not held whole.
func TestReadAheadBatches(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 300_000)
	var text strings.Builder
	text.WriteString("id,note\n")
	for i := range 50 {
		fmt.Fprintf(&text, "%d,%s\n", i, long)
	}
	for range 10_000 {
		text.WriteString("1,short\n")
	}
	cr := newCSVReader(strings.NewReader(text.String()), 1<<16)
	if _, err := cr.read(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var reading sync.WaitGroup
	batches, free := readAhead(csvFile{cr, nil}, done, &reading)
	records := 0
	for b := range batches {
		if b.err != nil {
			t.Fatal(b.err)
		}
		if len(b.lines) > batchRecords || len(b.data) > batchBytes+len(long)+10 {
			t.Errorf("a batch of %d records and %d bytes", len(b.lines), len(b.data))
		}
		records += len(b.lines)
		free <- b
	}
	close(done)
	reading.Wait()
	if records != 10_050 {
		t.Errorf("%d records in the batches, want 10050", records)
	}
}

// TestHeaderlessReaderAgainstEncodingCSV reads random files without a
// header, written by encoding/csv with each separator, with csvReader told
// how many columns they have: where it reads a file, it must read what
// encoding/csv reads with the separator it chose, every record as wide as
// the columns; it must choose the separator whenever that is the only one
// under which encoding/csv reads every record as wide, and may refuse a
// file only where no separator or more than one does.
func TestHeaderlessReaderAgainstEncodingCSV(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for range 20000 {
		comma := rune(separators[rng.IntN(len(separators))])
		alphabet := []string{"a", "1", " ", ",", ";", "|", "\t", string(comma), string(comma), "\"", "\n", "\r\n", "é"}
		var b strings.Builder
		w := csv.NewWriter(&b)
		w.Comma, w.UseCRLF = comma, rng.IntN(2) == 0
		width := 1 + rng.IntN(4)
		writeRecords(rng, w, width, alphabet)
		text := b.String()
		var fitting []byte // the separators under which every record is width wide
		for _, sep := range []byte(separators) {
			recs, err := readAll(text, rune(sep))
			if err == nil && !slices.ContainsFunc(recs, func(r []string) bool { return len(r) != width }) {
				fitting = append(fitting, sep)
			}
		}
		// A buffer holding the whole file: the choice sees every record.
		r := newCSVReader(strings.NewReader(text), 4096)
		r.layout.Columns, r.width = width, width
		var got [][]string
		var err error
		for {
			var rec [][]byte
			if rec, err = r.read(); err != nil {
				break
			}
			fields := make([]string, len(rec))
			for j, f := range rec {
				fields[j] = string(f)
			}
			got = append(got, fields)
		}
		if !errors.Is(err, io.EOF) {
			if len(fitting) == 1 && width > 1 {
				t.Fatalf("text %q of %d columns: refused (%v), though only %q reads it so", text, width, err, fitting)
			}
			continue
		}
		if len(got) == 0 {
			continue // blank lines or nothing: no separator to choose
		}
		want, wantErr := readAll(text, rune(r.delim))
		if wantErr != nil || !slices.EqualFunc(got, want, slices.Equal) || !slices.Contains(fitting, r.delim) {
			t.Fatalf("text %q of %d columns, separator %q chosen (fitting: %q):\ncsvReader    %q\nencoding/csv %q, error %v", text, width, r.delim, fitting, got, want, wantErr)
		}
	}
}
