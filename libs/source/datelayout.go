package source

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// DateLayout is how a CSV column writes its dates when not YYYY-MM-DD, as
// a recipe's types set it ("date DD/MM/YYYY"): the day, month and year in
// some order, joined by one separator or by none. With a separator, a day
// or month may have one digit (2/1/2024); without, each has two. A value
// is read by rewriting it as YYYY-MM-DD, so it is valid exactly when that
// ISO date is, and the engine reads it the same way.
type DateLayout struct {
	order string // "DMY" for DD/MM/YYYY
	sep   string // "" for DDMMYYYY
}

// dateSeparators are the separators a layout may use.
const dateSeparators = "/.- "

var errDateLayout = errors.New(`a date layout puts DD, MM and YYYY in some order, joined by one of / . - and space, or by none: for example DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY or YYYYMMDD`)

// ParseDateLayout reads a layout such as DD/MM/YYYY.
func ParseDateLayout(s string) (DateLayout, error) {
	var l DateLayout
	rest := strings.ToUpper(s)
	for len(l.order) < 3 {
		token := ""
		for _, t := range []string{"YYYY", "DD", "MM"} {
			if strings.HasPrefix(rest, t) && !strings.Contains(l.order, t[:1]) {
				token = t
			}
		}
		if token == "" {
			return DateLayout{}, fmt.Errorf("%q: %w", s, errDateLayout)
		}
		l.order += token[:1]
		rest = rest[len(token):]
		if len(l.order) == 3 || rest == "" {
			break
		}
		sep := rest[:1]
		if !strings.Contains(dateSeparators, sep) {
			sep = ""
		}
		if len(l.order) == 1 {
			l.sep = sep
		}
		if sep != l.sep {
			return DateLayout{}, fmt.Errorf("%q: %w", s, errDateLayout)
		}
		rest = rest[len(sep):]
	}
	if len(l.order) != 3 || rest != "" {
		return DateLayout{}, fmt.Errorf("%q: %w", s, errDateLayout)
	}
	return l, nil
}

// IsZero says that l is no layout: dates are written YYYY-MM-DD.
func (l DateLayout) IsZero() bool { return l.order == "" }

// String is the layout as a recipe writes it.
func (l DateLayout) String() string {
	words := map[rune]string{'D': "DD", 'M': "MM", 'Y': "YYYY"}
	parts := make([]string, len(l.order))
	for i, p := range l.order {
		parts[i] = words[p]
	}
	return strings.Join(parts, l.sep)
}

// MarshalText and UnmarshalText keep a layout in saved schemas as written.
func (l DateLayout) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

func (l *DateLayout) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*l = DateLayout{}
		return nil
	}
	parsed, err := ParseDateLayout(string(b))
	*l = parsed
	return err
}

// Order is the order of the day, month and year: "DMY" for DD/MM/YYYY.
func (l DateLayout) Order() string { return l.order }

// Separator joins the parts; "" when they are not separated.
func (l DateLayout) Separator() string { return l.sep }

// Width is how many characters the part (D, M or Y) has when the parts are
// not separated; when they are, a day or month may have one fewer.
func (DateLayout) Width(part byte) int {
	if part == 'Y' {
		return 4
	}
	return 2
}

// AppendISO appends a value written in the layout (spaces and tabs around
// it trimmed) to dst as YYYY-MM-DD, and says whether it is a date of the
// layout; the inference checks every value of a column so, into one
// buffer.
func (l DateLayout) AppendISO(dst, v []byte) ([]byte, bool) {
	v = trimSpace(v)
	var parts [3][]byte // in the layout's order
	for i := range parts {
		p := l.order[i]
		switch {
		case l.sep == "":
			if len(v) < l.Width(p) {
				return dst, false
			}
			parts[i], v = v[:l.Width(p)], v[l.Width(p):]
		case i == len(parts)-1:
			parts[i], v = v, nil
		default:
			j := bytes.IndexByte(v, l.sep[0])
			if j < 0 {
				return dst, false
			}
			parts[i], v = v[:j], v[j+1:]
		}
		if _, ok := digits(parts[i]); !ok || len(parts[i]) > l.Width(p) || p == 'Y' && len(parts[i]) != 4 {
			return dst, false
		}
	}
	if len(v) > 0 {
		return dst, false
	}
	part := func(p byte) []byte { return parts[strings.IndexByte(l.order, p)] }
	start := len(dst)
	dst = append(append(dst, part('Y')...), '-')
	dst = append(pad2(dst, part('M')), '-')
	dst = pad2(dst, part('D'))
	return dst, validDate(dst[start:])
}

// pad2 appends a day or month of one or two digits as two.
func pad2(dst, part []byte) []byte {
	if len(part) == 1 {
		dst = append(dst, '0')
	}
	return append(dst, part...)
}

// DateLayoutsReading returns the layouts other than YYYY-MM-DD under which
// v is a date, day first before month first before year first: what a
// message may suggest for a column of such text.
func DateLayoutsReading(v string) []DateLayout {
	var out []DateLayout
	for _, order := range []string{"DMY", "MDY", "YMD", "YDM", "DYM", "MYD"} {
		for _, sep := range append(strings.Split(dateSeparators, ""), "") {
			l := DateLayout{order: order, sep: sep}
			if _, ok := l.AppendISO(nil, []byte(v)); ok && l != (DateLayout{order: "YMD", sep: "-"}) {
				out = append(out, l)
			}
		}
	}
	return out
}
