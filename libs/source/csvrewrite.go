package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// RewriteCSV writes the CSV file at path as Kalla's reader reads it, for a
// reader that would read it otherwise (see NeedsRewrite), laid out as
// layout says (its lines before the header, its columns without one, its
// separator and encoding): the header, if it has one, and the records,
// separated by commas, in UTF-8, each line ending in "\n", without blank
// lines. A field is quoted when it holds a comma, a quote or a line
// end, or is the empty field of a record of one column, which a blank line
// would lose; a quoted field's "\r\n" stays. It returns the layout written
// and the records.
func RewriteCSV(path string, layout CSVLayout, w io.Writer) (CSVLayout, int64, error) {
	cr, err := openRecords(path, layout)
	if err != nil {
		return CSVLayout{}, 0, err // names the path
	}
	defer cr.Close()
	if c, ok := cr.(csvFile); ok {
		c.quotedCRLF = true // as the engine reads a file it is given
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	written := layout.Rewritten()
	var records int64
	for ; ; records++ {
		rec, err := cr.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return CSVLayout{}, 0, fmt.Errorf("read %s: %w", path, err)
		}
		n, err := writeRecord(bw, rec)
		if err != nil {
			return CSVLayout{}, 0, err
		}
		written.LongestRecord = max(written.LongestRecord, n)
	}
	if layout.Headerless() {
		return written, records, bw.Flush()
	}
	if records == 0 {
		return CSVLayout{}, 0, fmt.Errorf("read %s: the file is empty", path)
	}
	return written, records - 1, bw.Flush() // the header is no record
}

// writeRecord writes a record as RewriteCSV does, returning its size.
func writeRecord(w *bufio.Writer, rec [][]byte) (int, error) {
	n := 0
	for i, field := range rec {
		if i > 0 {
			w.WriteByte(',')
			n++
		}
		if !bytes.ContainsAny(field, ",\"\r\n") && (len(field) > 0 || len(rec) > 1) {
			w.Write(field)
			n += len(field)
			continue
		}
		w.WriteByte('"')
		for _, b := range field {
			if b == '"' {
				w.WriteByte('"')
				n++
			}
			w.WriteByte(b)
		}
		w.WriteByte('"')
		n += len(field) + 2
	}
	return n + 1, w.WriteByte('\n')
}

// copyingReader is a recordReader that writes each record it reads as
// RewriteCSV does, so that one reading both infers a sheet's types and
// writes the engine's copy of it.
type copyingReader struct {
	recordReader
	f       *os.File
	w       *bufio.Writer
	longest int
	err     error // the first write's error
}

// newCopyingReader copies cr's records into a new file in dir.
func newCopyingReader(cr recordReader, dir string) (*copyingReader, error) {
	f, err := os.CreateTemp(dir, "sheet-*.csv")
	if err != nil {
		return nil, err
	}
	return &copyingReader{recordReader: cr, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// finish ends the copy of a reading that ended with readErr, of the file
// stamped st as the reading began: the copy; or, removing it, readErr, a
// CopyError, or ErrChanged when the file changed while read, as no later
// check looks at a file read through its copy.
func (c *copyingReader) finish(readErr error, st Stamp) (*CSVCopy, error) {
	if c.err == nil {
		c.err = c.w.Flush()
	}
	if err := c.f.Close(); c.err == nil {
		c.err = err
	}
	err := readErr
	switch {
	case err == nil && c.err != nil:
		err = &CopyError{c.err}
	case err == nil && !st.holds():
		err = ErrChanged
	}
	if err != nil {
		os.Remove(c.f.Name())
		return nil, err
	}
	return &CSVCopy{Path: c.f.Name(), LongestRecord: c.longest, Stamp: st}, nil
}

func (c *copyingReader) read() ([][]byte, error) {
	rec, err := c.recordReader.read()
	if err == nil && c.err == nil {
		var n int
		n, c.err = writeRecord(c.w, rec)
		c.longest = max(c.longest, n)
	}
	return rec, err
}
