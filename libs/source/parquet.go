package source

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ParquetSchema reads the schema of a Parquet file, or of a directory of
// Parquet parts, whose parts must agree on their columns (see unify). Only
// the file footers are read, and the data of float columns only: see
// measureFloats. Rows is the rows the footers count, over every part.
func ParquetSchema(path string) (Schema, error) {
	files, err := parquetFiles(path)
	if err != nil {
		return Schema{}, err
	}
	s, types, n, err := parquetFileSchema(files[0])
	if err != nil {
		return Schema{}, fmt.Errorf("read %s: %w", files[0], err)
	}
	s.Rows, s.Files, s.FileRows = n, files, []int64{n}
	for _, part := range files[1:] {
		ps, partTypes, n, err := parquetFileSchema(part)
		if err != nil {
			return Schema{}, fmt.Errorf("read %s: %w", part, err)
		}
		s.Rows, s.Stamps, s.FileRows = s.Rows+n, append(s.Stamps, ps.Stamps...), append(s.FileRows, n)
		if err := unify(&s, types, ps, partTypes, files[0], part); err != nil {
			return Schema{}, err
		}
	}
	if err := measureFloats(files, s.Columns); err != nil {
		return Schema{}, err
	}
	return s, nil
}

// parquetFiles lists what a Parquet source reads: the file, the files a
// pattern names, or the *.parquet parts of a directory by name (the
// extension in any case).
func parquetFiles(path string) ([]string, error) {
	if Pattern(path) {
		return patternFiles(path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err // names the path
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err // names the directory
	}
	var parts []string
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".parquet") {
			parts = append(parts, filepath.Join(path, e.Name()))
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("directory %s holds no .parquet file%s", path, csvFilesHint(path, entries))
	}
	sort.Strings(parts)
	return parts, nil
}

// csvFilesHint is, for a directory of CSV files taken for one of Parquet
// parts, how to name them.
func csvFilesHint(dir string, entries []os.DirEntry) string {
	for _, e := range entries {
		if ext := FileExt(e.Name()); ext != "" && ext != ".parquet" && !e.IsDir() {
			return fmt.Sprintf("; its CSV files are read as one source when a pattern names them, such as file://%s", filepath.Join(dir, "*"+ext))
		}
	}
	return ""
}

// unify merges a part's columns into s, the columns of the parts before
// it, whose Arrow types are types: the engine reads the parts as one table,
// by column name. Every part has the same columns, each of one type in all
// of them, where integers of any width are one type, so are strings
// however stored (large, views, dictionaries), decimals take the widest
// integer part and scale among the parts, and a column without values (a
// NULL type, as writers give an empty part's columns) takes the other
// parts' type.
func unify(s *Schema, types []arrow.DataType, part Schema, partTypes []arrow.DataType, first, name string) error {
	for _, c := range s.Columns {
		if _, ok := part.Column(c.Name); !ok {
			return fmt.Errorf("part %s has no column %s, which %s has: the parts of a directory must have the same columns", name, c.Name, first)
		}
	}
	for j, pc := range part.Columns {
		i := slices.IndexFunc(s.Columns, func(c Column) bool { return c.Name == pc.Name })
		if i < 0 {
			return fmt.Errorf("part %s has a column %s, which %s has not: the parts of a directory must have the same columns", name, pc.Name, first)
		}
		c, t, pt := &s.Columns[i], types[i], partTypes[j]
		switch {
		case pc.Empty || arrow.TypeEqual(pt, t) || textual(pt) && textual(t):
		case c.Empty:
			*c, types[i] = pc, pt
		case c.Type == Integer && pc.Type == Integer:
		case c.Type == Decimal && pc.Type == Decimal && !c.Float && !pc.Float:
			intDigits, scale := max(c.Precision-c.Scale, pc.Precision-pc.Scale), max(c.Scale, pc.Scale)
			c.Precision, c.Scale = intDigits+scale, scale
			if c.Precision > MaxDigits {
				return fmt.Errorf("column %s is %s in %s and %s in %s, which together need more than the %d digits Kalla computes with", c.Name, t, first, pt, name, MaxDigits)
			}
		case c.Type == Date && pc.Type == Date:
		default:
			return fmt.Errorf("column %s is %s in %s but %s in %s: the parts of a directory are read as one table, so a column must have one type in all of them", c.Name, t, first, pt, name)
		}
	}
	return nil
}

// parquetFileSchema reads a file's columns, their Arrow types and its row
// count.
func parquetFileSchema(path string) (Schema, []arrow.DataType, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Schema{}, nil, 0, err // names the path
	}
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return Schema{}, nil, 0, err
	}
	defer rdr.Close()
	md := rdr.MetaData()
	as, err := pqarrow.FromParquet(md.Schema, &pqarrow.ArrowReadProperties{}, md.KeyValueMetadata())
	if err != nil {
		return Schema{}, nil, 0, err
	}
	s := Schema{Columns: make([]Column, 0, as.NumFields()), Stamps: []Stamp{stamp(path, fi)}}
	types := make([]arrow.DataType, 0, as.NumFields())
	for _, f := range as.Fields() {
		c, err := arrowColumn(f.Name, f.Type)
		if err != nil {
			return Schema{}, nil, 0, err
		}
		s.Columns = append(s.Columns, c)
		types = append(types, f.Type)
	}
	return s, types, rdr.NumRows(), nil
}

// textual says whether values of t are strings, however stored.
func textual(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	case arrow.DICTIONARY:
		return textual(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}

// arrowColumn maps an Arrow type onto Kalla's column types; anything
// without a closer match is text.
func arrowColumn(name string, t arrow.DataType) (Column, error) {
	c := Column{Name: name, Type: Text}
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32:
		c.Type = Integer
	case arrow.UINT64:
		// Wider than the engines' 64-bit integers.
		c.Type, c.Precision = Decimal, 20
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		d := t.(arrow.DecimalType)
		if d.GetPrecision() > MaxDigits {
			// The engine reads these as floating point, not exactly.
			return Column{}, fmt.Errorf("column %s is %s, wider than the %d digits Kalla reads exactly", name, t, MaxDigits)
		}
		c.Type, c.Precision, c.Scale = Decimal, int(d.GetPrecision()), int(d.GetScale())
	case arrow.DATE32, arrow.DATE64:
		c.Type = Date
	case arrow.TIMESTAMP:
		c.Type, c.Nanos = Timestamp, t.(*arrow.TimestampType).Unit == arrow.Nanosecond
	case arrow.BOOL:
		c.Type = Boolean
	case arrow.FLOAT32, arrow.FLOAT64:
		// An exact decimal of the values as they print; measureFloats
		// finds its precision and scale.
		c.Type, c.Float = Decimal, true
	case arrow.NULL:
		// No values at all: a plan gives it the type it is compared with.
		c.Empty = true
	}
	return c, nil
}
