package source

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NumberLayout is how a CSV column writes its numbers when not -1234.56,
// as a recipe's types set it by the example 1234.56 written so ("decimal
// 1.234,56", "decimal ($1,234.56)"): the decimal point, the thousands
// separator if any, how negative numbers are written besides with a
// leading minus, and the currency the values may carry. A value may leave
// its thousands unseparated (1234,56); where it separates them, every
// group after the first has three digits. A value is read by rewriting it
// as -1234.56, so the engine reads it as the inference did.
type NumberLayout struct {
	group string // "" when thousands are not separated
	point string // "" for no layout
	// negative is "()" when a negative number may be written in
	// parentheses, "-" when with a trailing minus, "" when with a leading
	// minus only (which every layout reads).
	negative string
	// cur is the currency the values may carry; a value may write it on
	// either side of the number, or not at all.
	cur currency
}

// currency is a currency's name ("$", "EUR", "Fr.") and, for String
// only, where the example writes it: after the number, parted from it
// by a space.
type currency struct {
	name          string
	after, spaced bool
}

// spaceRunes are the spaces a space group stands for, which may also
// stand between a currency and its number: spreadsheets write no-break
// spaces.
const spaceRunes = " \u00a0\u202f"

// numberGroups and numberPoints are the separators a layout may use, the
// more common first; spaces are those a space group stands for, and those
// that may stand between a currency and its number.
var (
	numberGroups = []string{",", ".", " ", "'", ""}
	numberPoints = []string{".", ","}
	spaces       = strings.Split(spaceRunes, "")
	// apostrophes are those an apostrophe group stands for: Swiss numbers
	// are written 1'234.56 or, typographically, 1’234.56.
	apostrophes = []string{"'", "\u2019"}
)

var errNumberLayout = errors.New(`a number layout writes 1234.56 as the column does: 1,234.56, 1.234,56, 1 234.56, 1 234,56, 1'234.56, 1'234,56 or 1234,56; ` +
	`in parentheses when negative numbers are written so, such as (1,234.56), or with a minus after them, such as 1.234,56-; ` +
	`with the currency the values carry before or after it, such as $1,234.56, 1.234,56 € or EUR 1,234.56`)

// ParseNumberLayout reads a layout written as an example, such as 1.234,56
// or ($1,234.56).
func ParseNumberLayout(example string) (NumberLayout, error) {
	for _, g := range numberGroups {
		for _, p := range numberPoints {
			number := "1" + g + "234" + p + "56"
			i := strings.Index(example, number)
			if g == p || i < 0 {
				continue
			}
			l, err := layoutAround(example[:i], example[i+len(number):])
			l.group, l.point = g, p
			switch {
			case err != nil:
				return NumberLayout{}, fmt.Errorf("%q: %w; %w", example, err, errNumberLayout)
			case l == NumberLayout{point: "."}:
				return NumberLayout{}, errors.New(`"1234.56" is how Kalla reads numbers without a layout: set "decimal" alone`)
			}
			return l, nil
		}
	}
	return NumberLayout{}, fmt.Errorf("%q: %w", example, errNumberLayout)
}

// layoutAround reads what an example writes around its number: an opening
// parenthesis and a currency before it, a currency and a closing
// parenthesis or a trailing minus after it.
func layoutAround(before, after string) (NumberLayout, error) {
	var l NumberLayout
	before, open := cutEdge(before, "(")
	after, closing := cutEdge(after, ")-")
	_, openAgain := cutEdge(before, "(")
	_, closeAgain := cutEdge(after, ")-")
	switch {
	case openAgain != 0 || closeAgain != 0:
		return l, errors.New("negative numbers are written one way, in parentheses or with a minus after them")
	case open != 0 && closing == ')':
		l.negative = "()"
	case open != 0 || closing == ')':
		return l, errors.New("a parenthesis is not paired")
	case closing == '-':
		l.negative = "-"
	}
	switch {
	case before != "" && after != "":
		return l, errors.New("a currency stands before or after the number, not both")
	case strings.HasPrefix(before, "-"):
		return l, errors.New("a leading minus is read in every layout: leave it out")
	case before+after != "" && strings.Trim(before+after, spaceRunes) == "":
		return l, errors.New("spaces stand only between a currency and the number")
	}
	cur := strings.Trim(before+after, spaceRunes)
	l.cur = currency{name: cur, after: after != "", spaced: cur != before+after}
	if before+after != "" && !(isCurrency(cur) && (before == "" || strings.HasPrefix(before, cur)) && (after == "" || strings.HasSuffix(after, cur))) {
		return l, fmt.Errorf("%q is no currency: a currency is letters and currency signs ($, €, EUR, R$, Fr., S/), "+
			"with spaces only between it and the number", cur)
	}
	return l, nil
}

// cutEdge cuts one of marks from either end of s, returning it (or 0).
func cutEdge(s, marks string) (string, byte) {
	switch {
	case s == "":
	case strings.IndexByte(marks, s[0]) >= 0:
		return s[1:], s[0]
	case strings.IndexByte(marks, s[len(s)-1]) >= 0:
		return s[:len(s)-1], s[len(s)-1]
	}
	return s, 0
}

// isCurrency says whether s may name a currency in a number layout:
// letters and currency signs ($, €, CHF, R$), a point or slash after a
// letter (Fr., kr., S/, B/.). Never a digit, a space, a sign, a
// parenthesis or a separator on its own, so that it is found in a value
// only where it stands, and never a sign then a point ($.), which would
// take the point of $.50.
func isCurrency(s string) bool {
	prev := rune(0)
	for i, r := range s {
		switch {
		case currencyRune(r):
		case (r == '.' || r == '/') && i > 0 && (unicode.IsLetter(prev) || prev == '/'):
		default:
			return false
		}
		prev = r
	}
	return s != ""
}

// currencyRune says whether r may begin a currency's name.
func currencyRune(r rune) bool { return unicode.IsLetter(r) || unicode.Is(unicode.Sc, r) }

// IsZero says that l is no layout: numbers are written -1234.56.
func (l NumberLayout) IsZero() bool { return l.point == "" }

// String is the layout as a recipe writes it.
func (l NumberLayout) String() string {
	if l.IsZero() {
		return ""
	}
	s := "1" + l.group + "234" + l.point + "56"
	space := ""
	if l.cur.spaced {
		space = " "
	}
	switch {
	case l.cur.name == "":
	case l.cur.after:
		s += space + l.cur.name
	default:
		s = l.cur.name + space + s
	}
	switch l.negative {
	case "()":
		return "(" + s + ")"
	case "-":
		return s + "-"
	}
	return s
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

// Negative is how the layout writes negative numbers besides with a
// leading minus: "()" in parentheses, "-" with a trailing minus, or "".
func (l NumberLayout) Negative() string { return l.negative }

// Currency is the currency the values may carry, or "".
func (l NumberLayout) Currency() string { return l.cur.name }

// Removed are the texts the rewrite to -1234.56 removes from a value,
// wherever they stand: the currency first (it may hold a point: Fr.),
// then the spaces beside it and the thousands separators. The inference
// checked that they stand nowhere else.
func (l NumberLayout) Removed() []string {
	var out []string
	if cur := l.Currency(); cur != "" {
		out = append([]string{cur}, spaces...)
	}
	for _, g := range l.Groups() {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// Point is the decimal point.
func (l NumberLayout) Point() string { return l.point }

// Groups are the characters that may separate thousands: for a space, the
// no-break spaces spreadsheets write as well; for an apostrophe, the
// typographic one.
func (l NumberLayout) Groups() []string {
	switch l.group {
	case "":
		return nil
	case " ":
		return spaces
	case "'":
		return apostrophes
	}
	return []string{l.group}
}

// AppendPlain appends a number written in the layout (spaces and tabs
// around it trimmed) to dst as [+-]digits[.digits], and says whether it is
// one; the inference checks every value of a column so, into one buffer.
func (l NumberLayout) AppendPlain(dst, v []byte) ([]byte, bool) {
	v, m, ok := l.cutMarks(trimSpace(v))
	if !ok {
		return dst, false
	}
	start := len(dst)
	switch {
	case m.open || m.trailing || m.sign == '-':
		dst = append(dst, '-')
	case m.sign == '+':
		dst = append(dst, '+')
	}
	whole, frac, hasPoint := v, []byte(nil), false
	if i := bytes.IndexByte(v, l.point[0]); i >= 0 {
		whole, frac, hasPoint = v[:i], v[i+1:], true
	}
	dst, ok = l.appendWhole(dst, whole)
	if !ok || hasPoint && !allDigits(frac) {
		return dst[:start], false
	}
	if hasPoint {
		dst = append(append(dst, '.'), frac...)
	}
	return dst, true
}

// marks are what a value writes around its digits.
type marks struct {
	sign                     byte // a leading '+' or '-', or 0
	open, trailing, currency bool
}

// cutMarks cuts from v, from the outside in, what the layout lets a value
// write around its digits: a leading sign, parentheses, a trailing minus
// and the currency (with the spaces between it and the number), each once
// and in any order. It refuses a value that says twice that it is negative
// ("-(5)"), a sign with another negative mark ("(+5)"), and half a pair of
// parentheses.
func (l NumberLayout) cutMarks(v []byte) ([]byte, marks, bool) {
	var m marks
	cur := []byte(l.cur.name)
	closing := false
	for cut := true; cut && len(v) > 0; {
		switch {
		case v[0] == '(' && l.negative == "()" && !m.open:
			v, m.open = v[1:], true
		case (v[0] == '-' || v[0] == '+') && m.sign == 0:
			v, m.sign = v[1:], v[0]
		case len(cur) > 0 && !m.currency && bytes.HasPrefix(v, cur):
			v, m.currency = bytes.TrimLeft(v[len(cur):], spaceRunes), true
		default:
			cut = false
		}
	}
	for cut := true; cut && len(v) > 0; {
		last := v[len(v)-1]
		switch {
		case last == ')' && m.open && !closing:
			v, closing = v[:len(v)-1], true
		case last == '-' && l.negative == "-" && !m.trailing:
			v, m.trailing = v[:len(v)-1], true
		case len(cur) > 0 && !m.currency && bytes.HasSuffix(v, cur):
			v, m.currency = bytes.TrimRight(v[:len(v)-len(cur)], spaceRunes), true
		default:
			cut = false
		}
	}
	// A layout has parentheses or a trailing minus, never both.
	return v, m, m.open == closing && !(m.sign != 0 && (m.open || m.trailing))
}

// appendWhole appends the digits of a whole part written with or without
// thousands separators: 1 to 3 digits, then groups of 3. A number whose
// thousands are separated does not begin with 0: 0.500 under 1.234,56 is
// no 500, but more likely a half written in another layout.
func (l NumberLayout) appendWhole(dst, whole []byte) ([]byte, bool) {
	inGroup, groups, first := 0, 0, byte(0)
	for len(whole) > 0 {
		if c := whole[0]; c >= '0' && c <= '9' {
			first = cmp.Or(first, c)
			dst, whole, inGroup = append(dst, c), whole[1:], inGroup+1
			continue
		}
		n := l.groupAt(whole)
		if n == 0 || inGroup == 0 || inGroup > 3 || groups > 0 && inGroup != 3 || first == '0' {
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
// v is a number: what a message may suggest for a column of such text. The
// currency and the way of writing negative numbers are those of v, or of
// negative, a later value of the column that looks negative ("(5.00)"),
// when it is not "": the layouts returned read both.
func NumberLayoutsReading(v, negative string) []NumberLayout {
	around := layoutOf(v)
	if negative != "" {
		other := layoutOf(negative)
		around.negative = other.negative
		if around.cur.name == "" {
			around.cur = other.cur
		}
	}
	from := cmp.Or(negative, v)
	var out []NumberLayout
	for _, g := range numberGroups {
		for _, p := range numberPoints {
			l := around
			l.group, l.point = g, p
			if g == p || l == (NumberLayout{point: "."}) {
				continue
			}
			if _, ok := l.AppendPlain(nil, []byte(v)); !ok {
				continue
			}
			if _, ok := l.AppendPlain(nil, []byte(from)); ok {
				out = append(out, l)
			}
		}
	}
	return out
}

// negativeReading returns l with the way of writing negative numbers that
// v uses, when that reads v and l does not: "(5.00)" in a column whose
// layout was set from its positive numbers.
func (l NumberLayout) negativeReading(v string) (NumberLayout, bool) {
	if l.IsZero() || l.negative != "" {
		return l, false // one layout has one negative form: others would then fail
	}
	other := l
	other.negative = layoutOf(v).negative
	_, ok := other.AppendPlain(nil, []byte(v))
	_, read := l.AppendPlain(nil, []byte(v))
	return other, ok && !read
}

// otherCurrency returns the currency v is written in when the layout, with
// that currency instead of its own, reads it: "€5.00" in a column of
// dollars. It returns "" for a value that is wrong otherwise, even with a
// currency unlike the layout's ("$NaN", "Fr.5,5").
func (l NumberLayout) otherCurrency(v string) string {
	if l.Currency() == "" {
		return ""
	}
	guess := layoutOf(v)
	other := l
	other.cur = guess.cur
	if _, ok := other.AppendPlain(nil, []byte(v)); !ok || guess.cur.name == "" || guess.cur.name == l.cur.name {
		return ""
	}
	return guess.cur.name
}

// looksNegative says, cheaply enough for every value of a column, whether
// t may be a negative number as accounting writes it: (5.00), $(5.00) or
// 5.00-.
func looksNegative(t []byte) bool {
	n := len(t)
	return n > 0 && (t[0] == '(' || t[n-1] == ')' || t[n-1] == '-')
}

// layoutOf guesses from a value what a layout writes around its digits:
// parentheses or a trailing minus, and a currency, before or after the
// number as v writes it (its first run of letters and currency signs, with
// an abbreviation's point when no digit follows it).
func layoutOf(v string) NumberLayout {
	v = string(trimSpace([]byte(v)))
	var l NumberLayout
	rest := v
	if i := strings.IndexFunc(v, currencyRune); i >= 0 {
		j := len(v)
		if end := strings.IndexFunc(v[i:], func(r rune) bool { return !currencyRune(r) }); end >= 0 {
			j = i + end
		}
		if strings.HasPrefix(v[j:], ".") && !strings.ContainsAny(v[j+1:min(j+2, len(v))], "0123456789") {
			j++
		}
		l.cur = currency{name: v[i:j], after: strings.ContainsAny(v[:i], "0123456789")}
		if utf8.RuneCountInString(strings.TrimSuffix(l.cur.name, ".")) > 4 {
			return NumberLayout{} // a word, not a currency: "12 apples"
		}
		for _, sp := range spaces {
			if !l.cur.after && strings.HasPrefix(v[j:], sp) || l.cur.after && strings.HasSuffix(v[:i], sp) {
				l.cur.spaced = true
			}
		}
		rest = v[:i] + v[j:]
	}
	rest = strings.TrimRight(rest, spaceRunes)
	switch {
	case strings.Contains(rest, "("):
		l.negative = "()"
	case strings.HasSuffix(rest, "-"):
		l.negative = "-"
	}
	return l
}
