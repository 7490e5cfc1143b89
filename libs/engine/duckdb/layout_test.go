package duckdb_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/source"
)

// TestLayoutsReadAsTheInferenceDoes writes random dates and numbers in a
// layout on the right and, on the left, as the inference rewrites them
// (YYYY-MM-DD, -1234.56): the engine must read every right value as the
// left one, so that the check in Go and the SQL rewrite never disagree.
func TestLayoutsReadAsTheInferenceDoes(t *testing.T) {
	t.Parallel()
	pairs := map[string]string{"DD/MM/YYYY": "1.234,56", "MM.DD.YYYY": "1 234,56", "YYYYMMDD": "1'234.56", "YYYY DD MM": "1,234.56", "DD-MM-YYYY": "1234,56",
		"DD.MM.YYYY": "(EUR 1.234,56)", "MM/DD/YYYY": "1 234,56 kr.-", "YYYY/MM/DD": "(Fr. 1'234.56)", "YYYY.MM.DD": "$1234.56", "MMDDYYYY": "1,234.56 €-",
		"DD-MMM-YY": "1.234,56", "MMM DD YYYY": "1,234.56", "YYMMDD": "1234,56", "DDMMMYYYY": "1'234,56",
		"DD MMMM YYYY": "1 234,56 €", "MMMM/DD/YY": "$1,234.56"}
	for i, dateLayout := range slices.Sorted(maps.Keys(pairs)) {
		numberLayout, seed := pairs[dateLayout], uint64(i)
		t.Run(strings.NewReplacer("/", "_", ".", "_", " ", "_", ",", "_", "'", "_", "(", "", ")", "", "$", "dollar", "€", "euro", "-", "_").Replace(dateLayout+"_"+numberLayout), func(t *testing.T) {
			t.Parallel()
			dates, err := source.ParseDateLayout(dateLayout)
			if err != nil {
				t.Fatal(err)
			}
			numbers, err := source.ParseNumberLayout(numberLayout)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(seed, 23))
			left, right := [][]string{{"id", "ref", "d", "n"}}, [][]string{{"id", "ref", "d", "n"}}
			const rows = 400
			for i := range rows {
				d, n := randomLayoutDate(rng, dates), randomLayoutNumber(rng, numbers)
				iso, ok := dates.AppendISO(nil, []byte(d))
				plain, ok2 := numbers.AppendPlain(nil, []byte(n))
				if !ok || !ok2 {
					t.Fatalf("generated %q, %q, which the layouts refuse", d, n)
				}
				ref := fmt.Sprint(i)
				left = append(left, []string{ref, ref, string(iso), string(plain)})
				right = append(right, []string{ref, ref, d, n})
			}
			text := withSourceField(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: d, op: eq, right: d}, {left: n, op: eq, right: n}]}\n"), "right", "types", fmt.Sprintf(`{d: "date %s", n: "decimal %s"}`, dateLayout, numberLayout))
			o := mustReconcile(t, csvText(t, left), csvText(t, right), text)
			if got := len(o.pairs()); got != rows {
				t.Errorf("%d of %d records read alike; unmatched right, first: %v", got, rows, o.unmatchedRight[:min(3, len(o.unmatchedRight))])
			}
		})
	}
}

// TestTimestampLayoutsReadAsTheInferenceDoes does for timestamp layouts
// what TestLayoutsReadAsTheInferenceDoes does for dates and numbers.
func TestTimestampLayoutsReadAsTheInferenceDoes(t *testing.T) {
	t.Parallel()
	for i, layout := range []string{"DD/MM/YYYY hh:mm", "DD.MM.YYYY hh:mm:ss", "YYYY-MM-DDThh:mm", "DD-MMM-YY hh:mm:ss", "MMDDYYYY hh:mm", "DD MM YY hh:mm:ss",
		"MM/DD/YYYY hh:mm AM/PM", "DD MMM YYYY hh:mm:ss AM/PM", "MMMM DD YYYY hh:mm AM/PM"} {
		t.Run(strings.NewReplacer("/", "_", ".", "_", " ", "_", "-", "_", ":", "_").Replace(layout), func(t *testing.T) {
			t.Parallel()
			l, err := source.ParseTimestampLayout(layout)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(i), 37))
			left, right := [][]string{{"id", "ref", "ts"}}, [][]string{{"id", "ref", "ts"}}
			const rows = 400
			for i := range rows {
				twelve := l.TwelveHour()
				hour := fmt.Sprint(rng.IntN(24))
				if twelve {
					hour = fmt.Sprint(1 + rng.IntN(12))
				}
				ts := strings.TrimSpace(randomLayoutDate(rng, l)) + l.TimeSeparator() + fmt.Sprintf("%s:%02d", hour, rng.IntN(60))
				if l.Seconds() {
					ts += fmt.Sprintf(":%02d", rng.IntN(60)) + []string{"", ".5", ".123456"}[rng.IntN(3)]
				}
				if twelve {
					ts += []string{" AM", " PM", "pm", " am"}[rng.IntN(4)]
				}
				iso, ok := l.AppendISO(nil, []byte(ts))
				if !ok {
					t.Fatalf("generated %q, which the layout refuses", ts)
				}
				ref := fmt.Sprint(i)
				left = append(left, []string{ref, ref, string(iso)})
				right = append(right, []string{ref, ref, pad(rng, ts)})
			}
			text := withSourceField(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: ts, op: eq, right: ts}]}\n"), "right", "types", fmt.Sprintf(`{ts: "timestamp %s"}`, layout))
			o := mustReconcile(t, csvText(t, left), csvText(t, right), text)
			if got := len(o.pairs()); got != rows {
				t.Errorf("%d of %d records read alike; unmatched right, first: %v", got, rows, o.unmatchedRight[:min(3, len(o.unmatchedRight))])
			}
		})
	}
}

// randomLayoutDate writes a date of year 1 to 9999 in l (2000 to 2099
// when its year has two digits), a day or month sometimes with one digit
// where l separates them, sometimes padded, a month's name in any case.
func randomLayoutDate(rng *rand.Rand, l source.DateLayout) string {
	y, m := 1+rng.IntN(9999), 1+rng.IntN(12)
	parts := map[byte]string{'Y': fmt.Sprintf("%04d", y), 'M': fmt.Sprintf("%02d", m), 'D': fmt.Sprintf("%02d", 1+rng.IntN(28))}
	if l.ShortYear() {
		parts['Y'] = parts['Y'][2:]
	}
	if l.NamedMonth() {
		name := l.MonthNames()[m-1]
		switch rng.IntN(3) {
		case 0:
			name = strings.ToUpper(name)
		case 1:
			name = strings.ToUpper(name[:1]) + name[1:]
		}
		parts['M'] = name
	}
	var b strings.Builder
	for i := range len(l.Order()) {
		part := parts[l.Order()[i]]
		if l.Separator() != "" && l.Order()[i] != 'Y' && part[0] == '0' && rng.IntN(2) == 0 {
			part = part[1:]
		}
		if i > 0 {
			b.WriteString(l.Separator())
		}
		b.WriteString(part)
	}
	return pad(rng, b.String())
}

// randomLayoutNumber writes a number of up to 25 integer digits and 6
// decimals in l, its thousands separated or not, negative as l allows, its
// currency before it, after it or left out.
func randomLayoutNumber(rng *rand.Rand, l source.NumberLayout) string {
	whole := fmt.Sprint(rng.IntN(10))
	for range rng.IntN(25) {
		whole += fmt.Sprint(rng.IntN(10))
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if groups := l.Groups(); len(groups) > 0 && rng.IntN(3) > 0 {
		for i := len(whole) - 3; i > 0; i -= 3 {
			whole = whole[:i] + groups[rng.IntN(len(groups))] + whole[i:]
		}
	}
	n := whole
	if frac := rng.IntN(7); frac > 0 {
		n += l.Point() + fmt.Sprintf("%06d", rng.IntN(1_000_000))[:frac]
	}
	// The sign, as the layout may write it, goes outside the currency
	// (-$5, ($5), $5-) or inside it ($-5, $(5), (5) $).
	var mark func(string) string
	switch sign := []string{"", "-", "+"}[rng.IntN(3)]; {
	case sign == "-" && l.Negative() == "()" && rng.IntN(2) == 0:
		mark = func(n string) string { return "(" + n + ")" }
	case sign == "-" && l.Negative() == "-" && rng.IntN(2) == 0:
		mark = func(n string) string { return n + "-" }
	default:
		mark = func(n string) string { return sign + n }
	}
	cur, space := l.Currency(), []string{"", " ", "\u00a0"}[rng.IntN(3)]
	if cur == "" {
		return pad(rng, mark(n))
	}
	switch rng.IntN(5) {
	case 0:
		n = mark(cur + space + n)
	case 1:
		n = mark(n + space + cur)
	case 2:
		n = cur + space + mark(n)
	case 3:
		n = mark(n) + space + cur
	default:
		n = mark(n)
	}
	return pad(rng, n)
}

func pad(rng *rand.Rand, s string) string {
	if rng.IntN(8) == 0 {
		return " " + s + "\t"
	}
	return s
}

func csvText(t *testing.T, rows [][]string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
