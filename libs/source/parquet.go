package source

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ParquetSchema reads the schema of a Parquet file, or of a directory of
// Parquet parts (all parts share one schema, so the first part by name is
// read). Only the file footer is read, and the data of float columns only:
// see measureFloats. Rows is the file's row count, or -1 for a directory.
func ParquetSchema(path string) (Schema, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Schema{}, err // names the path
	}
	rows := int64(-1)
	files := []string{path}
	if fi.IsDir() {
		if files, err = parts(path); err != nil {
			return Schema{}, err
		}
	}
	s, n, err := parquetFileSchema(files[0])
	if err != nil {
		return Schema{}, fmt.Errorf("read %s: %w", files[0], err)
	}
	if !fi.IsDir() {
		rows = n
	}
	s.Rows = rows
	if err := measureFloats(files, s.Columns); err != nil {
		return Schema{}, err
	}
	return s, nil
}

// parts returns the *.parquet files of dir by name.
func parts(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err // names the directory
	}
	var parts []string
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".parquet") {
			parts = append(parts, filepath.Join(dir, e.Name()))
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("directory %s holds no .parquet file", dir)
	}
	sort.Strings(parts)
	return parts, nil
}

func parquetFileSchema(path string) (Schema, int64, error) {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return Schema{}, 0, err
	}
	defer rdr.Close()
	md := rdr.MetaData()
	as, err := pqarrow.FromParquet(md.Schema, &pqarrow.ArrowReadProperties{}, md.KeyValueMetadata())
	if err != nil {
		return Schema{}, 0, err
	}
	s := Schema{Columns: make([]Column, 0, as.NumFields())}
	for _, f := range as.Fields() {
		s.Columns = append(s.Columns, arrowColumn(f.Name, f.Type))
	}
	return s, rdr.NumRows(), nil
}

// arrowColumn maps an Arrow type onto Kalla's column types; anything
// without a closer match is text.
func arrowColumn(name string, t arrow.DataType) Column {
	c := Column{Name: name, Type: Text}
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		c.Type = Integer
	case arrow.DECIMAL128:
		d := t.(*arrow.Decimal128Type)
		c.Type, c.Precision, c.Scale = Decimal, int(d.Precision), int(d.Scale)
	case arrow.DECIMAL32, arrow.DECIMAL64:
		d := t.(arrow.DecimalType)
		c.Type, c.Precision, c.Scale = Decimal, int(d.GetPrecision()), int(d.GetScale())
	case arrow.DATE32, arrow.DATE64:
		c.Type = Date
	case arrow.TIMESTAMP:
		c.Type = Timestamp
	case arrow.BOOL:
		c.Type = Boolean
	case arrow.FLOAT32, arrow.FLOAT64:
		// An exact decimal of the values as they print; measureFloats
		// finds its precision and scale.
		c.Type, c.Float = Decimal, true
	}
	return c
}
