package source

import (
	"bytes"
	"errors"
	"fmt"
)

// NumberLayout is how a CSV column writes its numbers when not -1234.56,
// as a recipe's types set it by the example 1234.56 written so ("decimal
// 1.234,56"): the decimal point, and the thousands separator if any. A value
// may leave its thousands unseparated (1234,56); where it separates them,
// every group after the first has three digits. A value is read by
// rewriting it as -1234.56, so the engine reads it as the inference did.
type NumberLayout struct {
	group string // "" when thousands are not separated
	point string // "" for no layout
}

// numberGroups and numberPoints are the separators a layout may use, the
// more common first; spaces are those a space group stands for.
var (
	numberGroups = []string{",", ".", " ", "'", ""}
	numberPoints = []string{".", ","}
	spaces       = []string{" ", "\u00a0", "\u202f"}
)

var errNumberLayout = errors.New(`a number layout writes 1234.56 as the column does: 1,234.56, 1.234,56, 1 234.56, 1 234,56, 1'234.56, 1'234,56 or 1234,56`)

// ParseNumberLayout reads a layout written as an example, such as 1.234,56.
func ParseNumberLayout(example string) (NumberLayout, error) {
	if example == "1234.56" {
		return NumberLayout{}, errors.New(`"1234.56" is how Kalla reads numbers without a layout: set "decimal" alone`)
	}
	for _, g := range numberGroups {
		for _, p := range numberPoints {
			if g != p && example == "1"+g+"234"+p+"56" {
				return NumberLayout{group: g, point: p}, nil
			}
		}
	}
	return NumberLayout{}, fmt.Errorf("%q: %w", example, errNumberLayout)
}

// IsZero says that l is no layout: numbers are written -1234.56.
func (l NumberLayout) IsZero() bool { return l.point == "" }

// String is the layout as a recipe writes it.
func (l NumberLayout) String() string {
	if l.IsZero() {
		return ""
	}
	return "1" + l.group + "234" + l.point + "56"
}

// MarshalText and UnmarshalText keep a layout in saved schemas as written.
func (l NumberLayout) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

func (l *NumberLayout) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*l = NumberLayout{}
		return nil
	}
	parsed, err := ParseNumberLayout(string(b))
	*l = parsed
	return err
}

// Point is the decimal point.
func (l NumberLayout) Point() string { return l.point }

// Groups are the characters that may separate thousands: for a space, the
// no-break spaces spreadsheets write as well.
func (l NumberLayout) Groups() []string {
	switch l.group {
	case "":
		return nil
	case " ":
		return spaces
	}
	return []string{l.group}
}

// AppendPlain appends a number written in the layout (spaces and tabs
// around it trimmed) to dst as [+-]digits[.digits], and says whether it is
// one; the inference checks every value of a column so, into one buffer.
func (l NumberLayout) AppendPlain(dst, v []byte) ([]byte, bool) {
	v = trimSpace(v)
	start := len(dst)
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		dst, v = append(dst, v[0]), v[1:]
	}
	whole, frac, hasPoint := v, []byte(nil), false
	if i := bytes.IndexByte(v, l.point[0]); i >= 0 {
		whole, frac, hasPoint = v[:i], v[i+1:], true
	}
	dst, ok := l.appendWhole(dst, whole)
	if !ok || hasPoint && !allDigits(frac) {
		return dst[:start], false
	}
	if hasPoint {
		dst = append(append(dst, '.'), frac...)
	}
	return dst, true
}

// appendWhole appends the digits of a whole part written with or without
// thousands separators: 1 to 3 digits, then groups of 3.
func (l NumberLayout) appendWhole(dst, whole []byte) ([]byte, bool) {
	inGroup, groups := 0, 0
	for len(whole) > 0 {
		if c := whole[0]; c >= '0' && c <= '9' {
			dst, whole, inGroup = append(dst, c), whole[1:], inGroup+1
			continue
		}
		n := l.groupAt(whole)
		if n == 0 || inGroup == 0 || inGroup > 3 || groups > 0 && inGroup != 3 {
			return dst, false
		}
		whole, inGroup, groups = whole[n:], 0, groups+1
	}
	return dst, inGroup > 0 && (groups == 0 || inGroup == 3)
}

// groupAt is the length of the thousands separator text starts with, or 0.
func (l NumberLayout) groupAt(text []byte) int {
	for _, g := range l.Groups() {
		if bytes.HasPrefix(text, []byte(g)) {
			return len(g)
		}
	}
	return 0
}

func allDigits(s []byte) bool {
	_, ok := digits(s)
	return ok
}

// NumberLayoutsReading returns the layouts other than -1234.56 under which
// v is a number: what a message may suggest for a column of such text.
func NumberLayoutsReading(v string) []NumberLayout {
	var out []NumberLayout
	for _, g := range numberGroups {
		for _, p := range numberPoints {
			l := NumberLayout{group: g, point: p}
			if _, ok := l.AppendPlain(nil, []byte(v)); ok && g != p && l != (NumberLayout{point: "."}) {
				out = append(out, l)
			}
		}
	}
	return out
}
