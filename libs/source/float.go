package source

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// measureFloats reads the float columns of every file and gives each the
// precision and scale of the decimals its values print as. A column holding
// NaN, infinities or values wider than an exact decimal holds has no exact
// decimal to compare: it is text, and Unfit says why.
func measureFloats(files []string, cols []Column) error {
	var floats []int
	for i, c := range cols {
		if c.Float {
			floats = append(floats, i)
		}
	}
	if len(floats) == 0 {
		return nil
	}
	digits := make([]floatDigits, len(cols))
	for _, path := range files {
		if err := measureFile(path, cols, floats, digits); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	}
	for _, i := range floats {
		d, c := digits[i], &cols[i]
		switch {
		case d.nonFinite != "":
			*c = Column{Name: c.Name, Type: Text, Unfit: fmt.Sprintf("holds %s, which is no number to compare exactly", d.nonFinite)}
		case d.intDigits+d.scale > MaxDigits:
			*c = Column{Name: c.Name, Type: Text, Unfit: fmt.Sprintf("holds floating-point numbers that together need %d digits as exact decimals (%d before the point, %d after it), and Kalla computes with at most %d",
				d.intDigits+d.scale, d.intDigits, d.scale, MaxDigits)}
		default:
			c.Precision, c.Scale, c.Measured = max(d.intDigits+d.scale, 1), d.scale, true
		}
	}
	return nil
}

// floatDigits is the widest integer part and fraction seen in a column, and
// the first NaN or infinity.
type floatDigits struct {
	intDigits, scale int
	nonFinite        string
}

// add counts the digits of a float as strconv prints it without an
// exponent, as CSV inference counts a number's.
func (d *floatDigits) add(v float64, bits int) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		if d.nonFinite == "" {
			d.nonFinite = strconv.FormatFloat(v, 'f', -1, bits)
		}
		return
	}
	intDigits, scale, _ := parseDecimal([]byte(strconv.FormatFloat(v, 'f', -1, bits)))
	d.intDigits, d.scale = max(d.intDigits, intDigits), max(d.scale, scale)
}

func measureFile(path string, cols []Column, floats []int, digits []floatDigits) error {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return err
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	schema, err := fr.Schema()
	if err != nil {
		return err
	}
	for _, i := range floats {
		// GetColumn takes a top-level field's index, not a leaf's: a
		// struct column before the float has several leaves.
		fields := schema.FieldIndices(cols[i].Name)
		if len(fields) == 0 {
			return fmt.Errorf("column %s is not in this part", cols[i].Name)
		}
		col, err := fr.GetColumn(context.Background(), fields[0])
		if err != nil {
			return err
		}
		// In batches, so a large file's column is never held whole.
		for left := rdr.NumRows(); left > 0; left -= floatBatch {
			chunked, err := col.NextBatch(min(left, floatBatch))
			if err != nil {
				return err
			}
			digits[i].addAll(chunked)
			chunked.Release()
		}
	}
	return nil
}

const floatBatch = 64 << 10

// addAll adds every non-NULL value of a float column, each printed as its
// own type would print it.
func (d *floatDigits) addAll(c *arrow.Chunked) {
	for _, chunk := range c.Chunks() {
		for j := range chunk.Len() {
			if chunk.IsNull(j) {
				continue
			}
			switch a := chunk.(type) {
			case *array.Float32:
				d.add(float64(a.Value(j)), 32)
			case *array.Float64:
				d.add(a.Value(j), 64)
			}
		}
	}
}
