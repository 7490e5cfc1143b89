package source

import (
	"errors"
	"fmt"
	"slices"
	"strings"
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

// Plain rewrites a number written in the layout (spaces and tabs around it
// trimmed) as [+-]digits[.digits], or says it is not one.
func (l NumberLayout) Plain(v []byte) ([]byte, bool) {
	s := string(trimSpace(v))
	sign := ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		sign, s = s[:1], s[1:]
	}
	whole, frac, hasPoint := strings.Cut(s, l.point)
	if hasPoint && frac == "" {
		return nil, false
	}
	whole, ok := l.ungrouped(whole)
	if !ok || strings.Trim(whole, "0123456789") != "" {
		// Only digits: 1.5 is no number where the point is a comma.
		return nil, false
	}
	plain := sign + whole
	if hasPoint {
		plain += "." + frac
	}
	if _, _, ok := parseDecimal([]byte(plain)); !ok {
		return nil, false
	}
	return []byte(plain), true
}

// ungrouped returns the digits of a whole part written with or without
// thousands separators: 1 to 3 digits, then groups of 3.
func (l NumberLayout) ungrouped(whole string) (string, bool) {
	if l.group == " " {
		// Spreadsheets write no-break spaces too, even mixed.
		for _, space := range spaces[1:] {
			whole = strings.ReplaceAll(whole, space, " ")
		}
	}
	if l.group == "" || !strings.Contains(whole, l.group) {
		return whole, true
	}
	groups := strings.Split(whole, l.group)
	if len(groups[0]) < 1 || len(groups[0]) > 3 || slices.ContainsFunc(groups[1:], func(g string) bool { return len(g) != 3 }) {
		return "", false
	}
	return strings.Join(groups, ""), true
}

// NumberLayoutsReading returns the layouts other than -1234.56 under which
// v is a number: what a message may suggest for a column of such text.
func NumberLayoutsReading(v string) []NumberLayout {
	var out []NumberLayout
	for _, g := range numberGroups {
		for _, p := range numberPoints {
			l := NumberLayout{group: g, point: p}
			if _, ok := l.Plain([]byte(v)); ok && g != p && l != (NumberLayout{point: "."}) {
				out = append(out, l)
			}
		}
	}
	return out
}
