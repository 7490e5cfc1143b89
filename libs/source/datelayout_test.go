package source_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/source"
)

func TestDateLayoutsReading(t *testing.T) {
	t.Parallel()
	wantReading(t, source.DateLayoutsReading, map[string]string{"02/01/2024": "DD/MM/YYYY MM/DD/YYYY", "31.12.2024": "DD.MM.YYYY", "2024-12-31": "",
		"20241231": "YYYYMMDD", "2024-31-12": "YYYY-DD-MM", "13/13/2024": "", "31/12/24": "DD/MM/YY YY/MM/DD", "02-JAN-24": "DD-MMM-YY YY-MMM-DD", "31-FEB-24": "YY-MMM-DD", "24-01-31": "DD-MM-YY YY-MM-DD",
		"20240102": "YYYYMMDD", "01022024": "DDMMYYYY MMDDYYYY",
		"2 Feb 2024": "DD MMM YYYY", "Dec 31 2024": "MMM DD YYYY", "31 December 2024": "DD MMMM YYYY", "31 Dec. 2024": ""})
}

// wantReading fails unless reading finds, for each value of want, the
// layouts it names, in order.
func wantReading[L fmt.Stringer](t *testing.T, reading func(string) []L, want map[string]string) {
	t.Helper()
	for value, layouts := range want {
		var got []string
		for _, l := range reading(value) {
			got = append(got, l.String())
		}
		if strings.Join(got, " ") != layouts {
			t.Errorf("%q is read by %q, want %q", value, got, layouts)
		}
	}
}

// wantLayouts fails unless parse reads each layout of want as the layout
// want names for it ("" for as written), which readBack reads again from
// its text as the same layout, and refuses each of refused.
func wantLayouts[L interface {
	comparable
	fmt.Stringer
}](t *testing.T, parse, readBack func(string) (L, error), want map[string]string, refused []string) {
	t.Helper()
	for text, as := range want {
		l, err := parse(text)
		if err != nil || l.String() != cmp.Or(as, text) {
			t.Errorf("%q: %v, %v; want it read as %q", text, l, err, cmp.Or(as, text))
			continue
		}
		if again, err := readBack(l.String()); err != nil || again != l {
			t.Errorf("%q: %q reads back as %v, %v", text, l, again, err)
		}
	}
	for _, text := range refused {
		if l, err := parse(text); err == nil {
			t.Errorf("%q read as %s, want it refused", text, l)
		}
	}
}

// unmarshal reads a date or timestamp layout as a saved schema does.
func unmarshal(text string) (source.DateLayout, error) {
	var l source.DateLayout
	err := l.UnmarshalText([]byte(text))
	return l, err
}

func TestParseDateLayout(t *testing.T) {
	t.Parallel()
	wantLayouts(t, source.ParseDateLayout, unmarshal, map[string]string{
		"DD/MM/YYYY":   "DD/MM/YYYY",
		"MM/DD/YYYY":   "MM/DD/YYYY",
		"dd.mm.yyyy":   "DD.MM.YYYY",
		"YYYY MM DD":   "YYYY MM DD",
		"DD-MM-YYYY":   "DD-MM-YYYY",
		"YYYYMMDD":     "YYYYMMDD",
		"DDMMYYYY":     "DDMMYYYY",
		"DD/MM/YY":     "DD/MM/YY",
		"dd-mmm-yy":    "DD-MMM-YY",
		"DD MMM YYYY":  "DD MMM YYYY",
		"MMMDDYYYY":    "MMMDDYYYY",
		"YYMMDD":       "YYMMDD",
		"DD MMMM YYYY": "DD MMMM YYYY",
		"mmmm-dd-yy":   "MMMM-DD-YY",
	}, []string{"", "DD/MM/Y", "DD/MM/YYY", "DD/MM/YYYYY", "DD/MM/YY/YY", "DD/MM", "DD/DD/YYYY", "DD/MM/MMM", "DD/MM-YYYY", "DD/MMYYYY", "DD/MM/YYYY/", "D/M/YYYY", "DDMMMMYYYY", "DD MMMMM YYYY", "DD_MM_YYYY", "YYYY-MM-DDTHH"})
}

func TestParseTimestampLayout(t *testing.T) {
	t.Parallel()
	timestamp := func(text string) (source.DateLayout, error) {
		l, err := source.ParseTimestampLayout(text)
		if err == nil && !l.HasTime() {
			err = fmt.Errorf("%s has no time", l)
		}
		return l, err
	}
	wantLayouts(t, timestamp, unmarshal, map[string]string{
		"DD/MM/YYYY hh:mm":          "DD/MM/YYYY hh:mm",
		"dd.mm.yyyy HH:MM:SS":       "DD.MM.YYYY hh:mm:ss",
		"YYYY-MM-DDThh:mm":          "YYYY-MM-DDThh:mm",
		"DD-MMM-YY hh:mm:ss":        "DD-MMM-YY hh:mm:ss",
		"MM DD YYYY hh:mm":          "MM DD YYYY hh:mm",
		"YYYYMMDD hh:mm:ss":         "YYYYMMDD hh:mm:ss",
		"MM/DD/YYYY hh:mm AM/PM":    "MM/DD/YYYY hh:mm AM/PM",
		"mm/dd/yyyy hh:mm:ss am/pm": "MM/DD/YYYY hh:mm:ss AM/PM",
		"MM/DD/YYYY hh:mmAM/PM":     "MM/DD/YYYY hh:mm AM/PM",
	}, []string{"", "DD/MM/YYYY", "DD/MM/YYYY hh", "DD/MM/YYYY hh:mm:ss.fff", "DD/MM/YYYY  hh:mm", "hh:mm", "DD/MM/YYYY mm:hh", "DD/MM/YY/ hh:mm", "DD/MM/YYYY hh:mm AM", "MM/DD/YYYYThh:mm AM/PM", "MM/DD/YYYY hh:mm AM/PM "})
	if _, err := source.ParseDateLayout("DD/MM/YYYY hh:mm"); err == nil || !strings.Contains(err.Error(), `"timestamp DD/MM/YYYY hh:mm" reads the time too`) {
		t.Errorf("a date layout with a time: %v, want it refused naming the timestamp layout", err)
	}
	_, err := source.ParseTimestampLayout("MM/DD/YYYYThh:mm AM/PM")
	if want := "or a space and hh:mm AM/PM or hh:mm:ss AM/PM for a 12-hour clock"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("T before a 12-hour clock: %v, want it refused saying %s", err, want)
	}
}

// TestTimestampLayoutISO reads random texts of each timestamp layout and
// compares with Go's time package, as TestDateLayoutISO does for dates.
func TestTimestampLayoutISO(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(29, 31))
	layouts := map[string]string{"DD/MM/YYYY hh:mm": "2/1/2006 15:04", "DD.MM.YYYY hh:mm:ss": "2.1.2006 15:04:05", "YYYY-MM-DDThh:mm": "2006-1-2T15:04",
		"MM/DD/YYYY hh:mm:ss": "1/2/2006 15:04:05", "DD MMM YYYY hh:mm": "2 Jan 2006 15:04", "YYYYMMDD hh:mm": "20060102 15:04",
		"MM/DD/YYYY hh:mm AM/PM": "1/2/2006 3:04 PM", "DD.MM.YYYY hh:mm:ss AM/PM": "2.1.2006 3:04:05 PM"}
	againstTimeParse(t, rng, layouts, randomTimestamp)
	t.Run("fractions_of_seconds", func(t *testing.T) {
		t.Parallel()
		l, _ := source.ParseTimestampLayout("DD/MM/YYYY hh:mm:ss")
		for text, want := range map[string]string{"02/01/2024 14:05:06.5": "2024-01-02 14:05:06.5", "2/1/2024 4:05:06.123456": "2024-01-02 04:05:06.123456",
			"02/01/2024 14:05:06.1234567": "", "02/01/2024 14:05:06.": "", "02/01/2024 14:05": "", "02/01/2024 24:00:00": "", "02/01/2024T14:05:06": ""} {
			iso, ok := l.AppendISO(nil, []byte(text))
			if ok != (want != "") || ok && string(iso) != want {
				t.Errorf("%q: %q, %v; want %q", text, iso, ok, want)
			}
		}
	})
}

// againstTimeParse reads 3,000 texts of each layout (of dates, or of
// timestamps when it holds a colon), made by random, and fails where
// AppendISO and time.Parse, with the Go layout layouts names, disagree.
func againstTimeParse(t *testing.T, rng *rand.Rand, layouts map[string]string, random func(*rand.Rand, source.DateLayout) string) {
	t.Helper()
	for layout, goLayout := range layouts {
		parse, format := source.ParseDateLayout, "2006-01-02"
		if strings.Contains(layout, ":") {
			parse, format = source.ParseTimestampLayout, "2006-01-02 15:04:05"
		}
		l, err := parse(layout)
		if err != nil {
			t.Fatal(err)
		}
		twelve := strings.HasSuffix(layout, "AM/PM")
		accepted := 0
		for range 3000 {
			text := random(rng, l)
			iso, ok := l.AppendISO(nil, []byte(text))
			goText := strings.TrimSpace(text)
			if twelve {
				goText = goMeridiem(goText)
			}
			want, err := time.Parse(goLayout, goText)
			if l.ShortYear() && want.Year() < 2000 {
				want = want.AddDate(100, 0, 0) // Go reads 69 to 99 as 1969 to 1999; YY is 2000 to 2099
			}
			if twelve && zeroHour.MatchString(text) {
				err = errors.New("hour 0 on a 12-hour clock") // which time.Parse reads as 12
			}
			if ok != (err == nil) || ok && string(iso) != want.Format(format) {
				t.Errorf("%s %q: %s, %v; time.Parse: %v, %v", layout, text, iso, ok, want, err)
			}
			if ok {
				accepted++
			}
		}
		if accepted < 300 {
			t.Errorf("%s: only %d of 3000 texts were read; the test is too weak", layout, accepted)
		}
	}
}

// zeroHour finds an hour 0 or 00 in a timestamp.
var zeroHour = regexp.MustCompile(`[ T]0?0:`)

// goMeridiem writes a 12-hour clock's am or pm as time.Parse reads it:
// upper case, after a space.
func goMeridiem(text string) string {
	n := len(text)
	if n < 2 || !strings.EqualFold(text[n-2:], "am") && !strings.EqualFold(text[n-2:], "pm") {
		return text
	}
	return strings.TrimSuffix(text[:n-2], " ") + " " + strings.ToUpper(text[n-2:])
}

// randomTimestamp writes a date as randomDate does, then a time in l's
// clock: hours and minutes sometimes out of range or of one digit,
// seconds sometimes missing or extra.
func randomTimestamp(rng *rand.Rand, l source.DateLayout) string {
	date := strings.TrimSpace(randomDate(rng, l))
	twelve := l.TwelveHour()
	hours := 26
	if twelve {
		hours = 14
	}
	clock := fmt.Sprintf("%s:%s", number(rng, rng.IntN(hours), false), number(rng, rng.IntN(62), rng.IntN(8) > 0))
	seconds := l.Seconds()
	if seconds != (rng.IntN(10) == 0) {
		clock += ":" + number(rng, rng.IntN(62), rng.IntN(8) > 0)
	}
	if twelve != (rng.IntN(10) == 0) {
		clock += []string{" AM", " PM", "pm", " am", " Pm"}[rng.IntN(5)]
	}
	return date + l.TimeSeparator() + clock
}

// TestDateLayoutISO reads random texts of each layout and compares with Go's
// time package, an independent reader of the same dates: both must take
// the same texts, as the same days.
func TestDateLayoutISO(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 13))
	layouts := map[string]string{"DD/MM/YYYY": "2/1/2006", "MM/DD/YYYY": "1/2/2006", "DD.MM.YYYY": "2.1.2006", "YYYY-MM-DD": "2006-1-2", "YYYYMMDD": "20060102",
		"DD-MMM-YY": "2-Jan-06", "DD MMM YYYY": "2 Jan 2006", "YYMMDD": "060102", "MMM/DD/YYYY": "Jan/2/2006", "DDMMMYYYY": "02Jan2006",
		"DD MMMM YYYY": "2 January 2006", "MMMM.DD.YY": "January.2.06"}
	againstTimeParse(t, rng, layouts, randomDate)
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		l, _ := source.ParseDateLayout("DD/MM/YYYY")
		for _, text := range []string{"", "02/01/24", "02-01-2024", "002/01/2024", "02/01/2024/", "02/01/+024", "31/04/2024", "29/02/2023", "0/1/2024", "x2/01/2024", "01/01/0000"} {
			if iso, ok := l.AppendISO(nil, []byte(text)); ok {
				t.Errorf("%q read as %s, want it refused", text, iso)
			}
		}
	})
}

// randomDate writes a day, month and year in l's order, sometimes out of
// range, sometimes with one digit, sometimes with spaces around it; a
// month's name in any case, or not quite one.
func randomDate(rng *rand.Rand, l source.DateLayout) string {
	fixed := l.Separator() == ""
	parts := map[byte]string{
		'D': number(rng, 1+rng.IntN(33), fixed),
		'M': number(rng, rng.IntN(14), fixed),
		'Y': fmt.Sprintf("%04d", 1+rng.IntN(2100)),
	}
	if l.NamedMonth() {
		name := []byte(l.MonthNames()[rng.IntN(12)])
		for i := range name {
			if rng.IntN(2) == 0 {
				name[i] -= 'a' - 'A'
			}
		}
		parts['M'] = []string{string(name), string(name), string(name), "Jxn", "Ju", "June", parts['M']}[rng.IntN(7)]
	}
	if l.ShortYear() {
		parts['Y'] = []string{fmt.Sprintf("%02d", rng.IntN(100)), fmt.Sprint(rng.IntN(10)), fmt.Sprint(rng.IntN(1000))}[rng.IntN(3)]
	}
	var b strings.Builder
	for i := range len(l.Order()) {
		if i > 0 {
			b.WriteString(l.Separator())
		}
		b.WriteString(parts[l.Order()[i]])
	}
	if rng.IntN(10) == 0 {
		return " " + b.String() + "\t"
	}
	return b.String()
}

func number(rng *rand.Rand, n int, fixed bool) string {
	if fixed || rng.IntN(2) == 0 {
		return fmt.Sprintf("%02d", n)
	}
	return fmt.Sprint(n)
}

func TestCSVDateLayouts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.csv")
	if err := os.WriteFile(path, []byte("id,booked\n1,02/01/2024\n2,\n3, 31/12/2023\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dmy, _ := source.ParseDateLayout("DD/MM/YYYY")
	s, err := source.CSVSchema(path, source.CSVOptions{Types: map[string]source.Setting{"booked": {Type: source.Date, Date: dmy}}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.Column("booked")
	if c.Type != source.Date || c.DateLayout != dmy {
		t.Errorf("booked = %+v, want a date written DD/MM/YYYY", c)
	}
	t.Run("kept_in_saved_schemas", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back source.Column
		if err := json.Unmarshal(b, &back); err != nil || back.DateLayout != dmy || !strings.Contains(string(b), `"DateLayout":"DD/MM/YYYY"`) {
			t.Errorf("%s read back as %+v, %v", b, back, err)
		}
	})
	t.Run("timestamps", func(t *testing.T) {
		t.Parallel()
		clock, _ := source.ParseTimestampLayout("DD.MM.YYYY hh:mm")
		at := map[string]source.Setting{"at": {Type: source.Timestamp, Date: clock}}
		_, err := csvSchema(t, "id,at\n1,02.01.2024 14:05\n2,\n3,31.12.2023 9:30\n4,01.01.2024\n", at)
		if want := `line 5, column at: "01.01.2024" is not a timestamp written DD.MM.YYYY hh:mm`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
		s, err := csvSchema(t, "id,at\n1,02.01.2024 14:05\n", at)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := s.Column("at")
		b, err := json.Marshal(c)
		var back source.Column
		if err != nil || json.Unmarshal(b, &back) != nil || back.DateLayout != clock || back.Type != source.Timestamp {
			t.Errorf("%s read back as %+v, %v", b, back, err)
		}
	})
	t.Run("a_value_of_another_layout_names_its_line", func(t *testing.T) {
		t.Parallel()
		mdy, _ := source.ParseDateLayout("MM/DD/YYYY")
		_, err := source.CSVSchema(path, source.CSVOptions{Types: map[string]source.Setting{"booked": {Type: source.Date, Date: mdy}}})
		if want := `line 4, column booked: " 31/12/2023" is not a date written MM/DD/YYYY`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
	})
}
