// Package sqlplan renders a plan as DuckDB SQL. It is pure Go, so a service
// can explain a recipe without linking an engine; engine/duckdb runs it.
package sqlplan

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/kallahq/kalla/libs/source"
)

// Ident quotes an identifier from a recipe or a source. Names are never
// pasted into SQL unquoted.
func Ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// String quotes a text literal.
func String(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// File renders a file's path for DuckDB's readers, which take it for a
// pattern: its *, ? and [ match themselves ([*], [?], [[]), so that
// l[1].csv is never l1.csv. A path holding a backslash is read as it is
// written, which DuckDB's patterns could not match.
func File(path string) string {
	if strings.Contains(path, `\`) {
		return String(path)
	}
	return String(globEscaper.Replace(path))
}

// fileList renders files for a reader of one file or a list of them.
func fileList(files []string) string {
	if len(files) == 1 {
		return File(files[0])
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = File(f)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

var globEscaper = strings.NewReplacer("*", "[*]", "?", "[?]", "[", "[[]")

// Decimal renders an exact number as a DECIMAL literal of the narrowest
// type that holds it, so arithmetic with it stays exact.
func Decimal(r *big.Rat) string {
	text, precision, scale := decimalLiteral(r)
	return fmt.Sprintf("CAST(%s AS DECIMAL(%d,%d))", String(text), precision, scale)
}

// decimalLiteral is r written in full and the precision and scale of
// Decimal's type for it.
func decimalLiteral(r *big.Rat) (text string, precision, scale int) {
	text, scale = decimalText(r)
	digits := len(strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(text), "0"))
	// A digit before the point, but for a scale of 38: DECIMAL(38,38).
	return text, max(digits, min(scale+1, 38), 1), scale
}

// decimalText is r written in full, such as -1234.56, with its scale (r
// has at most 38 digits after the point).
func decimalText(r *big.Rat) (text string, scale int) {
	for scale < 38 && !new(big.Rat).Mul(r, pow10(scale)).IsInt() {
		scale++
	}
	return r.FloatString(scale), scale
}

func pow10(n int) *big.Rat {
	return new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
}

// Type is the DuckDB type of a column.
func Type(c source.Column) string {
	switch c.Type {
	case source.Integer:
		return "BIGINT"
	case source.Decimal:
		precision, scale := decimalWidth(c)
		return fmt.Sprintf("DECIMAL(%d,%d)", precision, scale)
	case source.Date:
		return "DATE"
	case source.Timestamp:
		return "TIMESTAMP"
	case source.Boolean:
		return "BOOLEAN"
	}
	return "VARCHAR"
}

// decimalWidth is the precision and scale of the engine's type for a
// decimal column: its own, but for room for the integer digit, since
// DuckDB writes a DECIMAL(2,2)'s 0.50 as .50, which a CSV of evidence
// would show.
func decimalWidth(c source.Column) (precision, scale int) {
	if c.Precision == c.Scale && c.Precision < 38 {
		return c.Precision + 1, c.Scale
	}
	return c.Precision, c.Scale
}

// wide casts a number to the widest decimal of its scale, so products and
// sums never overflow a narrow type (DuckDB raises an error past 38 digits
// rather than losing precision).
func wide(expr string, c source.Column) string {
	return fmt.Sprintf("CAST(%s AS DECIMAL(38,%d))", expr, c.Scale)
}

func col(table string, c source.Column) string {
	return table + "." + Ident(c.Name)
}

// enum is the ENUM type of the given distinct values.
func enum(values ...string) string {
	return "ENUM(" + strings.Join(quoted(values), ", ") + ")"
}

// quoted lists texts as SQL strings.
func quoted(texts []string) []string {
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = String(t)
	}
	return out
}
