package oracle

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// kind is a column's inferred type.
type kind int

const (
	kindInteger kind = iota + 1
	kindDecimal
	kindDate
	kindTimestamp
	kindText
)

func (k kind) String() string {
	switch k {
	case kindInteger:
		return "INTEGER"
	case kindDecimal:
		return "DECIMAL"
	case kindDate:
		return "DATE"
	case kindTimestamp:
		return "TIMESTAMP"
	}
	return "TEXT"
}

// family groups the kinds that can be compared with each other.
type family int

const (
	familyNumber family = iota + 1
	familyTime
	familyText
)

func (k kind) family() family {
	switch k {
	case kindInteger, kindDecimal:
		return familyNumber
	case kindDate, kindTimestamp:
		return familyTime
	}
	return familyText
}

// colType is a column's kind and, for DECIMAL, its scale; empty says the
// file has no value in the column at all.
type colType struct {
	kind  kind
	scale int
	empty bool
}

func (t colType) String() string {
	if t.kind == kindDecimal {
		return fmt.Sprintf("DECIMAL(scale %d)", t.scale)
	}
	return t.kind.String()
}

// value is one non-NULL cell, parsed according to its column's type. A NULL
// cell is a nil *value.
type value struct {
	num    *big.Rat // INTEGER and DECIMAL
	day    int64    // DATE and TIMESTAMP: days since 1970-01-01
	micros int64    // TIMESTAMP: microseconds into the day
	text   string   // TEXT, as written
}

var (
	// A number's integer part has no leading zero (007 is a code, read as
	// text), unless it is the zero itself.
	integerText   = regexp.MustCompile(`^[+-]?(0|[1-9][0-9]*)$`)
	decimalText   = regexp.MustCompile(`^[+-]?(0|[1-9][0-9]*)(\.([0-9]+))?$`)
	dateText      = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})$`)
	timestampText = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,6})?$`)
)

// trimBlank removes the spaces and tabs that are ignored around numbers and
// dates (never around text).
func trimBlank(s string) string { return strings.Trim(s, " \t") }

// inferType applies the inference rules, in order, to all of a column's
// non-NULL values.
func inferType(values []string) colType {
	if len(values) == 0 {
		return colType{kind: kindText, empty: true}
	}
	if all(values, func(s string) bool { return integerText.MatchString(trimBlank(s)) }) {
		return colType{kind: kindInteger}
	}
	if all(values, func(s string) bool { return decimalText.MatchString(trimBlank(s)) }) {
		scale := 0
		for _, s := range values {
			scale = max(scale, len(decimalText.FindStringSubmatch(trimBlank(s))[3]))
		}
		return colType{kind: kindDecimal, scale: scale}
	}
	if all(values, func(s string) bool { _, ok := parseDate(s); return ok }) {
		return colType{kind: kindDate}
	}
	if all(values, func(s string) bool { _, ok := parseTimestamp(s); return ok }) {
		return colType{kind: kindTimestamp}
	}
	return colType{kind: kindText}
}

func all(values []string, ok func(string) bool) bool {
	for _, s := range values {
		if !ok(s) {
			return false
		}
	}
	return true
}

// parse reads a cell of a column whose type was inferred from it, so it
// cannot fail.
func parse(s *string, t colType) *value {
	if s == nil {
		return nil
	}
	switch t.kind {
	case kindInteger, kindDecimal:
		n, _ := new(big.Rat).SetString(trimBlank(*s))
		return &value{num: n}
	case kindDate:
		v, _ := parseDate(*s)
		return v
	case kindTimestamp:
		v, _ := parseTimestamp(*s)
		return v
	}
	return &value{text: *s}
}

// parseDate reads YYYY-MM-DD, rejecting dates not on the calendar.
func parseDate(s string) (*value, bool) {
	m := dateText.FindStringSubmatch(trimBlank(s))
	if m == nil {
		return nil, false
	}
	day, ok := calendarDay(m[1], m[2], m[3])
	if !ok {
		return nil, false
	}
	return &value{day: day}, true
}

// parseTimestamp reads a date or a date with a time of day.
func parseTimestamp(s string) (*value, bool) {
	if v, ok := parseDate(s); ok {
		return v, true
	}
	m := timestampText.FindStringSubmatch(trimBlank(s))
	if m == nil {
		return nil, false
	}
	day, ok := calendarDay(m[1], m[2], m[3])
	h, _ := strconv.Atoi(m[4])
	mi, _ := strconv.Atoi(m[5])
	sec, _ := strconv.Atoi(m[6])
	if !ok || h > 23 || mi > 59 || sec > 59 {
		return nil, false
	}
	frac := strings.TrimPrefix(m[7], ".")
	micros, _ := strconv.Atoi((frac + "000000")[:6])
	return &value{day: day, micros: int64(((h*60+mi)*60+sec)*1_000_000 + micros)}, true
}

// calendarDay returns the day number of a valid calendar date, from year 1.
func calendarDay(year, month, day string) (int64, bool) {
	y, _ := strconv.Atoi(year)
	m, _ := strconv.Atoi(month)
	d, _ := strconv.Atoi(day)
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1 || t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return 0, false
	}
	return t.Unix() / 86400, true
}

// compare orders two non-NULL values of the same family: numbers
// numerically, dates and timestamps chronologically, text by bytes.
func compare(a, b *value, f family) int {
	switch f {
	case familyNumber:
		return a.num.Cmp(b.num)
	case familyTime:
		if a.day != b.day {
			return cmpInt(a.day, b.day)
		}
		return cmpInt(a.micros, b.micros)
	}
	return strings.Compare(a.text, b.text)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// render writes a key value the way Result shows it.
func render(v *value, t colType) string {
	switch t.kind {
	case kindInteger:
		return v.num.Num().String()
	case kindDecimal:
		return v.num.FloatString(t.scale)
	case kindDate:
		return dayText(v.day)
	case kindTimestamp:
		return timestampString(v)
	}
	return v.text
}

func dayText(day int64) string {
	return time.Unix(day*86400, 0).UTC().Format("2006-01-02")
}

// timestampString writes "YYYY-MM-DD HH:MM:SS" and, when the time has a
// fraction of a second, the fraction without trailing zeros.
func timestampString(v *value) string {
	t := time.Unix(v.day*86400, v.micros*1000).UTC()
	s := t.Format("2006-01-02 15:04:05")
	if frac := v.micros % 1_000_000; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
	}
	return s
}
