package oracle

import (
	"encoding/csv"
	"fmt"
	"maps"
	"math/big"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/evidence"
)

// Table is a source as raw CSV text; a nil cell is NULL (an empty field).
type Table struct {
	Columns []string
	Rows    [][]*string
}

// ReadCSV reads a CSV file whose first row names the columns. An empty field
// becomes NULL; other text is kept exactly as written.
func ReadCSV(path string) (Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return Table{}, err
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return Table{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(records) == 0 {
		return Table{}, fmt.Errorf("read %s: no header row", path)
	}
	t := Table{Columns: records[0]}
	for _, rec := range records[1:] {
		row := make([]*string, len(rec))
		for i, field := range rec {
			if field != "" {
				row[i] = &field
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// record is one row of a side, with its cells parsed and its key known.
type record struct {
	// row is the record's place in the file, from 0.
	row     int
	cells   []*value
	key     []*value
	keyText string
	// rank is the record's place in key order, so comparing keys is
	// comparing ranks.
	rank    int
	matched bool
}

// side is one source ready to reconcile: typed columns and records sorted
// in key order.
type side struct {
	alias   string
	columns []string
	types   []colType
	records []*record
}

// column returns a column's index, or an error listing the columns there are.
func (s *side) column(name string) (int, error) {
	for i, c := range s.columns {
		if c == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("column %q is not in %s; its columns are: %s", name, s.alias, strings.Join(s.columns, ", "))
}

// newSide infers the column types and parses every cell; keyRecords then
// gives the records kept their keys.
func newSide(alias string, t Table) (*side, error) {
	s := &side{alias: alias, columns: t.Columns}
	if err := checkShape(alias, t); err != nil {
		return nil, err
	}
	for c := range t.Columns {
		var values []string
		for _, row := range t.Rows {
			if row[c] != nil {
				values = append(values, *row[c])
			}
		}
		s.types = append(s.types, inferType(values))
	}
	for i, row := range t.Rows {
		r := &record{row: i}
		for c, cell := range row {
			r.cells = append(r.cells, parse(cell, s.types[c]))
		}
		s.records = append(s.records, r)
	}
	return s, nil
}

// keyRecords builds the records' keys (without a primary key, the 1-based
// row number in the file), sorts them in key order and checks that keys
// are unique and not NULL.
func (s *side) keyRecords(primaryKey []string) error {
	var keyCols []int
	var keyTypes []colType
	for _, name := range primaryKey {
		c, err := s.column(name)
		if err != nil {
			return fmt.Errorf("primary key: %w", err)
		}
		keyCols = append(keyCols, c)
		keyTypes = append(keyTypes, s.types[c])
	}
	if len(primaryKey) == 0 {
		keyTypes = []colType{{kind: kindInteger}}
	}
	for _, r := range s.records {
		r.key = []*value{rowNumber(r.row)}
		if len(keyCols) > 0 {
			r.key = nil
			for k, c := range keyCols {
				if r.cells[c] == nil {
					return fmt.Errorf("%s: row %d: primary key column %q is NULL", s.alias, r.row+1, primaryKey[k])
				}
				r.key = append(r.key, r.cells[c])
			}
		}
		r.keyText = keyText(r.key, keyTypes)
	}
	sort.SliceStable(s.records, func(i, j int) bool {
		return compareKeys(s.records[i].key, s.records[j].key, keyTypes) < 0
	})
	for i, r := range s.records {
		r.rank = i
		if i > 0 && compareKeys(s.records[i-1].key, r.key, keyTypes) == 0 {
			return fmt.Errorf("%s: primary key %s appears more than once", s.alias, r.keyText)
		}
	}
	return nil
}

// reverseSigns negates the named number columns' cells, which rules
// compare; keys keep the values as written.
func (s *side) reverseSigns(names []string) error {
	for _, name := range names {
		c, err := s.column(name)
		if err != nil {
			return fmt.Errorf("reverse_sign: %w", err)
		}
		if s.types[c].kind.family() != familyNumber {
			return fmt.Errorf("reverse_sign: %s.%s is %s, not a number", s.alias, name, s.types[c])
		}
		for _, r := range s.records {
			if v := r.cells[c]; v != nil {
				r.cells[c] = &value{num: new(big.Rat).Neg(v.num)}
			}
		}
	}
	return nil
}

// extract adds the columns a source's extract derives, in the order of
// their names: the first match of the pattern in the text of the column
// read, or the match's first group when the pattern has groups; no match,
// or an empty one, is NULL.
func (s *side) extract(extracts map[string]*kallav1.Extract) error {
	for _, name := range slices.Sorted(maps.Keys(extracts)) {
		e := extracts[name]
		cols, err := s.columnsOf("extract "+name, e.GetFrom())
		if err != nil {
			return err
		}
		c := cols[0]
		if s.types[c].kind != kindText {
			return fmt.Errorf("extract %s: %s.%s is %s, not text", name, s.alias, e.GetFrom(), s.types[c])
		}
		re, err := regexp.Compile(e.GetPattern())
		if err != nil {
			return fmt.Errorf("extract %s: %w", name, err)
		}
		group := 0
		if re.NumSubexp() > 0 {
			group = 1
		}
		kind := kindText
		if e.GetType() == "integer" {
			kind = kindInteger
		}
		s.add(name, colType{kind: kind}, func(r *record) *value {
			if from := r.cells[c]; from != nil {
				if m := re.FindStringSubmatch(from.text); m != nil && m[group] != "" {
					return extracted(m[group], kind)
				}
			}
			return nil
		})
	}
	return nil
}

// extracted is an extract's text as a value of kind, or nil: an integer
// is a whole number of at most 18 digits, with a sign and leading zeros
// allowed.
func extracted(text string, kind kind) *value {
	if kind == kindText {
		return &value{text: text}
	}
	if !extractedInteger.MatchString(text) {
		return nil
	}
	n, _ := new(big.Int).SetString(text, 10)
	return &value{num: new(big.Rat).SetInt(n)}
}

var extractedInteger = regexp.MustCompile(`^[+-]?0*[0-9]{1,18}$`)

// net adds the columns a source's net computes, in the order of their
// names: plus minus minus, an empty value counting as 0, both empty NULL.
func (s *side) net(nets map[string]*kallav1.Net) error {
	for _, name := range slices.Sorted(maps.Keys(nets)) {
		cols, err := s.columnsOf("net "+name, nets[name].GetPlus(), nets[name].GetMinus())
		if err != nil {
			return err
		}
		for _, c := range cols {
			if s.types[c].kind.family() != familyNumber && s.hasValues(c) {
				return fmt.Errorf("net %s: %s.%s is %s, not a number", name, s.alias, s.columns[c], s.types[c])
			}
		}
		// The larger scale of the two, as the engine's.
		scale := max(s.types[cols[0]].scale, s.types[cols[1]].scale)
		s.add(name, colType{kind: kindDecimal, scale: scale}, func(r *record) *value {
			p, m := r.cells[cols[0]], r.cells[cols[1]]
			if p == nil && m == nil {
				return nil
			}
			v := new(big.Rat)
			if p != nil {
				v.Add(v, p.num)
			}
			if m != nil {
				v.Sub(v, m.num)
			}
			return &value{num: v}
		})
	}
	return nil
}

// signed adds the columns a source's signed computes, in the order of
// their names: the value, negated where its mark is a negative one; a mark
// in neither list, or none, gives NULL.
func (s *side) signed(signed map[string]*kallav1.Signed) error {
	for _, name := range slices.Sorted(maps.Keys(signed)) {
		g := signed[name]
		cols, err := s.columnsOf("signed "+name, g.GetValue(), g.GetBy())
		if err != nil {
			return err
		}
		amount, by := cols[0], cols[1]
		if s.types[amount].kind.family() != familyNumber && s.hasValues(amount) || s.types[by].kind != kindText && s.hasValues(by) {
			return fmt.Errorf("signed %s: %s.%s must be a number and %s text", name, s.alias, g.GetValue(), g.GetBy())
		}
		s.add(name, colType{kind: kindDecimal, scale: s.types[amount].scale}, func(r *record) *value {
			v, mark := r.cells[amount], r.cells[by]
			switch {
			case v == nil || mark == nil:
			case slices.Contains(g.GetPositive(), mark.text):
				return &value{num: new(big.Rat).Set(v.num)}
			case slices.Contains(g.GetNegative(), mark.text):
				return &value{num: new(big.Rat).Neg(v.num)}
			}
			return nil
		})
	}
	return nil
}

// columnsOf finds the columns a derived column (what) reads.
func (s *side) columnsOf(what string, names ...string) ([]int, error) {
	cols := make([]int, len(names))
	for i, name := range names {
		c, err := s.column(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		cols[i] = c
	}
	return cols, nil
}

// add appends a column of type t whose value in each record cell computes
// from the record's other cells.
func (s *side) add(name string, t colType, cell func(r *record) *value) {
	s.columns = append(s.columns, name)
	s.types = append(s.types, t)
	for _, r := range s.records {
		r.cells = append(r.cells, cell(r))
	}
}

// hasValues says whether some record has a value in column c.
func (s *side) hasValues(c int) bool {
	for _, r := range s.records {
		if r.cells[c] != nil {
			return true
		}
	}
	return false
}

func checkShape(alias string, t Table) error {
	seen := map[string]bool{}
	for _, c := range t.Columns {
		if seen[c] {
			return fmt.Errorf("%s: column %q appears twice", alias, c)
		}
		seen[c] = true
	}
	for i, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return fmt.Errorf("%s: row %d has %d fields, want %d", alias, i+1, len(row), len(t.Columns))
		}
	}
	return nil
}

func rowNumber(i int) *value {
	return parse(ptr(fmt.Sprint(i+1)), colType{kind: kindInteger})
}

func ptr[T any](v T) *T { return &v }

// keyText renders a key as the evidence shows it (evidence.KeyText).
func keyText(key []*value, types []colType) string {
	parts := make([]string, len(key))
	for i, v := range key {
		parts[i] = render(v, types[i])
	}
	return evidence.KeyText(parts)
}

func compareKeys(a, b []*value, types []colType) int {
	for i := range a {
		if c := compare(a[i], b[i], types[i].kind.family()); c != 0 {
			return c
		}
	}
	return 0
}
