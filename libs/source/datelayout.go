package source

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DateLayout is how a CSV column writes its dates when not YYYY-MM-DD, as
// a recipe's types set it ("date DD/MM/YYYY"): the day, month and year in
// some order, joined by one separator or by none; the year of four digits
// or of two (YY, the years 2000 to 2099), the month as a number or as its
// English abbreviation (MMM: Jan, FEB). With a separator, a day or a
// month number may have one digit (2/1/2024); without, each has two. A
// timestamp layout adds a time ("timestamp DD.MM.YYYY hh:mm"). A value is
// read by rewriting it as YYYY-MM-DD (hh:mm:ss), so it is valid exactly
// when that ISO date (or timestamp) is, and the engine reads it the same
// way.
type DateLayout struct {
	order     string // "DMY" for DD/MM/YYYY
	sep       string // "" for DDMMYYYY
	shortYear bool   // YY
	monthName bool   // MMM or MMMM
	fullMonth bool   // MMMM
	// clock is how a timestamp layout writes the time after the date:
	// one of clocks; "" for a date.
	clock string
}

// clocks are the times a timestamp layout may end in, as String writes
// them; a value's seconds may have a fraction of up to six digits. AM/PM
// is a 12-hour clock: hours 1 to 12, then AM or PM in any case, after a
// space or none (2:05 PM, 2:05pm), as US spreadsheets save times.
var clocks = []string{" hh:mm:ss", " hh:mm", "Thh:mm:ss", "Thh:mm", " hh:mm:ss AM/PM", " hh:mm AM/PM"}

// meridiem is the suffix of a 12-hour clock.
const meridiem = " AM/PM"

// monthNames are the month abbreviations MMM reads and fullMonthNames the
// names MMMM reads, in any case.
var (
	monthNames     = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	fullMonthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
)

// MonthNames are the names of the months the layout reads, January's
// first: abbreviations for MMM, full names for MMMM.
func (l DateLayout) MonthNames() []string { return slices.Clone(l.months()) }

func (l DateLayout) months() []string {
	if l.fullMonth {
		return fullMonthNames
	}
	return monthNames
}

// dateSeparators are the separators a layout may use.
const dateSeparators = "/.- "

var errDateLayout = errors.New(`a date layout puts DD, MM (or MMM, the month's abbreviation: Jan; or MMMM, its name: January) and YYYY (or YY, the years 2000 to 2099) in some order, ` +
	`joined by one of / . - and space, or by none: for example DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY, YYYYMMDD, DD-MMM-YY or DD MMMM YYYY`)

var errTimestampLayout = errors.New(`a timestamp layout is a date layout (DD, MM, MMM or MMMM, and YYYY or YY in some order, joined by one of / . - and space, or by none), ` +
	`then a space or T and hh:mm or hh:mm:ss, or a space and hh:mm AM/PM or hh:mm:ss AM/PM for a 12-hour clock ` +
	`(seconds are read with their fraction, if any): for example DD/MM/YYYY hh:mm, DD.MM.YYYY hh:mm:ss, YYYY-MM-DDThh:mm or MM/DD/YYYY hh:mm AM/PM`)

// ParseTimestampLayout reads a layout such as DD/MM/YYYY hh:mm.
func ParseTimestampLayout(s string) (DateLayout, error) {
	up := strings.ToUpper(s)
	if short, ok := strings.CutSuffix(up, "AM/PM"); ok && !strings.HasSuffix(short, " ") {
		up = short + meridiem // hh:mmAM/PM, as values may write 2:05PM
	}
	for _, clock := range clocks {
		date, ok := strings.CutSuffix(up, strings.ToUpper(clock))
		if !ok {
			continue
		}
		l, err := ParseDateLayout(date)
		if err != nil {
			break
		}
		l.clock = clock
		return l, nil
	}
	return DateLayout{}, fmt.Errorf("%q: %w", s, errTimestampLayout)
}

// ParseDateLayout reads a layout such as DD/MM/YYYY or DD-MMM-YY.
func ParseDateLayout(s string) (DateLayout, error) {
	if strings.Contains(s, ":") {
		return DateLayout{}, fmt.Errorf(`%q: a date layout has no time; "timestamp %s" reads the time too`, s, s)
	}
	var l DateLayout
	rest := strings.ToUpper(s)
	for len(l.order) < 3 {
		i := slices.IndexFunc(dateTokens, func(t string) bool { return strings.HasPrefix(rest, t) && !strings.Contains(l.order, t[:1]) })
		if i < 0 {
			return DateLayout{}, fmt.Errorf("%q: %w", s, errDateLayout)
		}
		token := dateTokens[i]
		l.order += token[:1]
		l.shortYear = l.shortYear || token == "YY"
		l.monthName = l.monthName || token == "MMM" || token == "MMMM"
		l.fullMonth = l.fullMonth || token == "MMMM"
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
	if l.fullMonth && l.sep == "" {
		return DateLayout{}, fmt.Errorf("%q: a month's full name is of any length, so the parts need a separator: %w", s, errDateLayout)
	}
	return l, nil
}

// dateTokens are the parts of a layout, the longer of two alike first.
var dateTokens = []string{"YYYY", "YY", "MMMM", "MMM", "MM", "DD"}

// IsZero says that l is no layout: dates are written YYYY-MM-DD.
func (l DateLayout) IsZero() bool { return l.order == "" }

// String is the layout as a recipe writes it.
func (l DateLayout) String() string {
	parts := make([]string, len(l.order))
	for i := range len(l.order) {
		parts[i] = l.token(l.order[i])
	}
	return strings.Join(parts, l.sep) + l.clock
}

// token is how the layout writes the part p: DD, MM, MMM, MMMM, YY or YYYY.
func (l DateLayout) token(p byte) string {
	if p == 'M' && l.fullMonth {
		return "MMMM"
	}
	return strings.Repeat(string(p), l.Width(p))
}

// MarshalText and UnmarshalText keep a layout in saved schemas as written.
func (l DateLayout) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

func (l *DateLayout) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*l = DateLayout{}
		return nil
	}
	parse := ParseDateLayout
	if bytes.IndexByte(b, ':') >= 0 {
		parse = ParseTimestampLayout
	}
	parsed, err := parse(string(b))
	*l = parsed
	return err
}

// Order is the order of the day, month and year: "DMY" for DD/MM/YYYY.
func (l DateLayout) Order() string { return l.order }

// Separator joins the parts; "" when they are not separated.
func (l DateLayout) Separator() string { return l.sep }

// ShortYear says that the year has two digits, 20YY.
func (l DateLayout) ShortYear() bool { return l.shortYear }

// NamedMonth says that the month is written as its abbreviation (Jan).
func (l DateLayout) NamedMonth() bool { return l.monthName }

// HasTime says that l is a timestamp layout.
func (l DateLayout) HasTime() bool { return l.clock != "" }

// TimeSeparator is what stands between the date and the time: a space or
// T; "" for a date layout.
func (l DateLayout) TimeSeparator() string { return l.clock[:min(1, len(l.clock))] }

// Seconds says that the time has seconds (hh:mm:ss).
func (l DateLayout) Seconds() bool { return strings.Contains(l.clock, ":ss") }

// TwelveHour says that the time is of a 12-hour clock, AM or PM after it.
func (l DateLayout) TwelveHour() bool { return strings.HasSuffix(l.clock, meridiem) }

// Width is how many characters the part (D, M or Y) has when the parts are
// not separated; when they are, a day or month number may have one fewer.
func (l DateLayout) Width(part byte) int {
	switch {
	case part == 'Y' && l.shortYear:
		return 2
	case part == 'Y':
		return 4
	case part == 'M' && l.monthName:
		return 3
	}
	return 2
}

// AppendISO appends a value written in the layout (spaces and tabs around
// it trimmed) to dst as YYYY-MM-DD, or YYYY-MM-DD hh:mm:ss[.ffffff] for a
// timestamp layout, and says whether it is a date or timestamp of the
// layout; the inference checks every value of a column so, into one
// buffer.
func (l DateLayout) AppendISO(dst, v []byte) ([]byte, bool) {
	start := len(dst)
	date, clock, pm, ok := l.cutTime(trimSpace(v))
	if ok {
		dst, ok = l.appendDate(dst, date)
	}
	if ok && l.HasTime() {
		at := len(dst) // the time, " hh:mm:ss"
		dst, ok = l.appendClock(dst, clock)
		if ok && l.TwelveHour() {
			ok = toTwentyFour(dst[at+1:at+3], pm)
		}
		ok = ok && validTime(dst[at:])
	}
	if !ok {
		return dst[:start], false
	}
	return dst, true
}

// cutTime splits a timestamp layout's value into its date and its time,
// with AM or PM cut from a 12-hour clock (pm says which). A date layout's
// value is all date.
func (l DateLayout) cutTime(v []byte) (date, clock []byte, pm, ok bool) {
	if !l.HasTime() {
		return v, nil, false, true
	}
	if l.TwelveHour() {
		if v, pm, ok = cutMeridiem(v); !ok {
			return nil, nil, false, false
		}
	}
	i := bytes.LastIndexByte(v, l.clock[0])
	if i < 0 {
		return nil, nil, false, false
	}
	return v[:i], v[i+1:], pm, true
}

// appendDate appends a date written in the layout as YYYY-MM-DD, and says
// whether it is a valid one.
func (l DateLayout) appendDate(dst, v []byte) ([]byte, bool) {
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
		if !l.validPart(p, parts[i]) {
			return dst, false
		}
	}
	if len(v) > 0 {
		return dst, false
	}
	part := func(p byte) []byte { return parts[strings.IndexByte(l.order, p)] }
	start := len(dst)
	if l.shortYear {
		dst = append(dst, "20"...)
	}
	dst = append(append(dst, part('Y')...), '-')
	if l.monthName {
		n := byte(l.monthNumber(part('M')))
		dst = append(dst, '0'+n/10, '0'+n%10)
	} else {
		dst = pad2(dst, part('M'))
	}
	dst = pad2(append(dst, '-'), part('D'))
	return dst, validDate(dst[start:])
}

// cutMeridiem cuts AM or PM, in any case, and a space before it from the
// end of v, saying whether it was PM, and whether there was either.
func cutMeridiem(v []byte) (rest []byte, pm, ok bool) {
	n := len(v)
	if n < 2 || v[n-1]|0x20 != 'm' || v[n-2]|0x20 != 'a' && v[n-2]|0x20 != 'p' {
		return v, false, false
	}
	pm, v = v[n-2]|0x20 == 'p', v[:n-2]
	return bytes.TrimSuffix(v, []byte(" ")), pm, true
}

// toTwentyFour rewrites in place an hour of a 12-hour clock (01 to 12)
// as the hour of the day: 12 AM is 00, 12 PM is 12, 1 PM is 13.
func toTwentyFour(hour []byte, pm bool) bool {
	h, ok := digits(hour)
	if !ok || h < 1 || h > 12 {
		return false
	}
	h %= 12
	if pm {
		h += 12
	}
	hour[0], hour[1] = '0'+byte(h/10), '0'+byte(h%10)
	return true
}

// appendClock appends a time written h:mm or hh:mm, and :ss with an
// optional fraction when the layout has seconds, as " hh:mm:ss[.f]".
func (l DateLayout) appendClock(dst, clock []byte) ([]byte, bool) {
	hour, rest, ok := bytes.Cut(clock, []byte(":"))
	if !ok || len(hour) == 0 || len(hour) > 2 {
		return dst, false
	}
	minutes, seconds := rest, []byte("00")
	if l.Seconds() {
		if minutes, seconds, ok = bytes.Cut(rest, []byte(":")); !ok {
			return dst, false
		}
	}
	if len(minutes) != 2 {
		return dst, false
	}
	dst = pad2(append(dst, ' '), hour)
	return append(append(append(append(dst, ':'), minutes...), ':'), seconds...), true
}

// validPart says whether text may be the part p of a date in the layout:
// digits, as many as the part's width (a day or month number may have one
// fewer), or a month's abbreviation.
func (l DateLayout) validPart(p byte, text []byte) bool {
	if p == 'M' && l.monthName {
		return l.monthNumber(text) > 0
	}
	_, ok := digits(text)
	return ok && (len(text) == l.Width(p) || p != 'Y' && len(text) == l.Width(p)-1)
}

// monthNumber is 1 to 12 for a month's name as the layout writes it, in
// any case, else 0.
func (l DateLayout) monthNumber(text []byte) int {
	for i, name := range l.months() {
		if len(text) == len(name) && bytes.EqualFold(text, []byte(name)) {
			return i + 1
		}
	}
	return 0
}

// pad2 appends a day or month of one or two digits as two.
func pad2(dst, part []byte) []byte {
	if len(part) == 1 {
		dst = append(dst, '0')
	}
	return append(dst, part...)
}

// DateLayoutsReading returns the layouts other than YYYY-MM-DD under which
// v is a date or a timestamp, day first before month first before year
// first: what a message may suggest for a column of such text. Orders
// rarely written (year, day, month) are offered only when no common one
// reads v, lest a user take one for an equal choice and misread a column.
func DateLayoutsReading(v string) []DateLayout {
	var common, rare []DateLayout
	for _, l := range everyDateLayout {
		switch _, ok := l.AppendISO(nil, []byte(v)); {
		case !ok:
		case l.order == "DMY" || l.order == "MDY" || l.order == "YMD":
			common = append(common, l)
		default:
			rare = append(rare, l)
		}
	}
	if len(common) > 0 {
		return common
	}
	return rare
}

// everyDateLayout lists the layouts a recipe may set other than
// YYYY-MM-DD, in the order DateLayoutsReading offers them.
var everyDateLayout = func() []DateLayout {
	var out []DateLayout
	for _, clock := range append([]string{""}, clocks...) {
		for _, order := range []string{"DMY", "MDY", "YMD", "YDM", "DYM", "MYD"} {
			for _, sep := range append(strings.Split(dateSeparators, ""), "") {
				for _, l := range []DateLayout{{}, {shortYear: true}, {monthName: true}, {shortYear: true, monthName: true},
					{monthName: true, fullMonth: true}, {shortYear: true, monthName: true, fullMonth: true}} {
					l.order, l.sep, l.clock = order, sep, clock
					if l != (DateLayout{order: "YMD", sep: "-"}) && !(l.fullMonth && sep == "") {
						out = append(out, l)
					}
				}
			}
		}
	}
	return out
}()
