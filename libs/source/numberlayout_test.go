package source_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/source"
)

func TestNumberLayoutsReading(t *testing.T) {
	t.Parallel()
	alone := func(v string) []source.NumberLayout { return source.NumberLayoutsReading(v, "") }
	wantReading(t, alone, map[string]string{"1,234.56": "1,234.56", "12,50": "1.234,56 1 234,56 1'234,56 1234,56",
		"1\u00a0234,5": "1 234,56", "1.5": "1,234.56 1 234.56 1'234.56", "$1,234.56": "$1,234.56", "$5": "$1,234.56 $1.234,56 $1 234.56 $1 234,56 $1'234.56 $1'234,56 $1234.56 $1234,56",
		"(1.234,56 €)": "(1.234,56 €)", "1.234,56\u00a0€": "1.234,56 €", "EUR -1,234.56": "EUR 1,234.56", "1,234.56-": "1,234.56-", "(12.50)": "(1,234.56) (1 234.56) (1'234.56) (1234.56)",
		"kr. 1.234,50": "kr. 1.234,56", "Fr.5.50": "", "$1,234.56 USD": "", "12 apples": "", "(5": ""})
}

func TestNumberLayoutsReadingWithANegativeValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ v, negative, want string }{
		{"5,00 €", "(5,00 €)", "(1.234,56 €) (1 234,56 €) (1'234,56 €) (1234,56 €)"},
		{"$5.00", "(5.00)", "($1,234.56) ($1 234.56) ($1'234.56) ($1234.56)"},
		{"1.234,50", "12,00-", "1.234,56-"},
		{"$5.00", "(€5.00)", ""},
	} {
		var got []string
		for _, l := range source.NumberLayoutsReading(tc.v, tc.negative) {
			got = append(got, l.String())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q and %q are read by %q, want %q", tc.v, tc.negative, got, tc.want)
		}
	}
}

func TestParseNumberLayout(t *testing.T) {
	t.Parallel()
	wantLayouts(t, source.ParseNumberLayout, source.ParseNumberLayout, map[string]string{"1,234.56": "", "1.234,56": "", "1 234,56": "", "1 234.56": "", "1'234.56": "", "1'234,56": "", "1234,56": "",
		"$1,234.56": "", "($1,234.56)": "", "$(1,234.56)": "($1,234.56)", "1.234,56 €": "", "(1.234,56 €)": "", "1.234,56 €-": "", "1.234,56- €": "1.234,56 €-",
		"EUR 1,234.56": "", "$1234.56": "", "(1234.56)": "", "1234.56-": "", "Fr. 1'234.56": "", "1 234,56 kr.": "", "R$ 1.234,56": "", "US$1,234.56": "",
		"S/ 1,234.56": "", "B/.1,234.56": "", "1.234,56 ر.س": ""}, []string{"", "1234.56", "1.234.56", "1,234", "1234", "12,34.56", "1_234.56", "1,234.5", "-1,234.56", "(1,234.56", "1,234.56)",
		"$1,234.56$", "$1,234.56 USD", "( $1,234.56)", "1,234.56--", "(1,234.56-)", "1,234.56 -", "$.1,234.56", "$ $1,234.56", "1 2,234.56", "x1,234.56y", "11,234.56", "1,234.567", "1,234.56 5", "1,234.56 €€€1"})
	t.Run("refusals_say_why", func(t *testing.T) {
		t.Parallel()
		for example, want := range map[string]string{
			"($1,234.56)-": "negative numbers are written one way", "1,234.56--": "negative numbers are written one way",
			"(1,234.56": "a parenthesis is not paired", "$1,234.56 $": "a currency stands before or after the number, not both",
			"1,234.56 5": `"5" is no currency`, "$.1,234.56": `"$." is no currency`, "1,234": "a number layout writes 1234.56 as the column does",
			"-1,234.56": "a leading minus is read in every layout", "1,234.56 -": "spaces stand only between a currency and the number",
		} {
			_, err := source.ParseNumberLayout(example)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "such as (1,234.56)") {
				t.Errorf("%q: %v, want it to say %s and the forms allowed", example, err, want)
			}
		}
	})
}

// TestNumberLayoutPlain reads random texts of each layout and compares with
// a regular expression of the numbers the layout writes and with the
// digits put back together by hand.
func TestNumberLayoutPlain(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 19))
	for _, tc := range []struct{ example, group, point, currency, negative string }{
		{"1,234.56", ",", ".", "", ""}, {"1.234,56", ".", ",", "", ""}, {"1 234,56", " ", ",", "", ""}, {"1'234.56", "'", ".", "", ""}, {"1234,56", "", ",", "", ""},
		{"($1,234.56)", ",", ".", "$", "()"}, {"1.234,56 €-", ".", ",", "€", "-"}, {"EUR 1 234,56", " ", ",", "EUR", ""},
		{"(Fr. 1'234.56)", "'", ".", "Fr.", "()"}, {"1234.56 kr.-", "", ".", "kr.", "-"},
	} {
		l, err := source.ParseNumberLayout(tc.example)
		if err != nil {
			t.Fatal(err)
		}
		valid := numberPattern(tc.group, tc.point, tc.currency, tc.negative)
		alphabet := []string{"1", "2", "0", "9", "5", tc.group, tc.point, "-", "+", ".", ",", " "}
		if tc.group == "'" {
			alphabet = append(alphabet, "\u2019")
		}
		if tc.group == " " || tc.currency != "" {
			alphabet = append(alphabet, "\u00a0", "\u202f")
		}
		if tc.currency != "" {
			alphabet = append(alphabet, tc.currency, tc.currency, tc.currency[:1], "(", ")")
		}
		if tc.negative != "" {
			alphabet = append(alphabet, "(", ")", "-")
		}
		accepted := 0
		for range 40000 {
			var b strings.Builder
			for range 1 + rng.IntN(12) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			text := b.String()
			plain, ok := l.AppendPlain(nil, []byte(text))
			trimmed := strings.Trim(text, " \t")
			if want := valid.MatchString(trimmed); ok != want {
				t.Errorf("%s %q: read %v, want %v", tc.example, text, ok, want)
				continue
			}
			if !ok {
				continue
			}
			accepted++
			if want := plainByHand(trimmed, tc.group, tc.point, tc.currency); string(plain) != want {
				t.Errorf("%s %q: %q, want %q", tc.example, text, plain, want)
			}
		}
		if accepted < 1000 {
			t.Errorf("%s: only %d of 40000 texts were numbers; the test is too weak", tc.example, accepted)
		}
	}
}

// numberPattern is a regular expression of the values a layout reads: the
// number, and around it, each once and in any order, a sign, parentheses
// or a trailing minus (as the layout allows, one of them), and the
// currency with spaces between it and the number.
func numberPattern(group, point, currency, negative string) *regexp.Regexp {
	groups := "(?:" + regexp.QuoteMeta(group) + `\d{3})+`
	switch group {
	case " ":
		groups = "(?:[ \u00a0\u202f]\\d{3})+"
	case "'":
		groups = "(?:['\u2019]\\d{3})+"
	}
	// Separated thousands never begin with 0.
	number := `(?:\d+|[1-9]\d{0,2}` + groups + `)(?:` + regexp.QuoteMeta(point) + `\d+)?`
	if group == "" {
		number = `\d+(?:` + regexp.QuoteMeta(point) + `\d+)?`
	}
	space := "[ \u00a0\u202f]*"
	left, right := map[string]string{"sign": "[+-]"}, map[string]string{}
	if currency != "" {
		left["cur"], right["cur"] = regexp.QuoteMeta(currency)+space, space+regexp.QuoteMeta(currency)
	}
	switch negative {
	case "()":
		left["("], right[")"] = `\(`, `\)`
	case "-":
		right["-"] = "-"
	}
	var alternatives []string
	for _, l := range orders(left) {
		for _, r := range orders(right) {
			used := append(slices.Clone(l), r...)
			count := func(mark string) int {
				return len(slices.DeleteFunc(slices.Clone(used), func(u string) bool { return u != mark }))
			}
			if count("cur") > 1 || count("(") != count(")") || count("(")+count("sign")+count("-") > 1 {
				continue
			}
			var b strings.Builder
			for _, m := range l {
				b.WriteString(left[m])
			}
			b.WriteString(number)
			for _, m := range slices.Backward(r) {
				b.WriteString(right[m])
			}
			alternatives = append(alternatives, b.String())
		}
	}
	return regexp.MustCompile("^(?:" + strings.Join(alternatives, "|") + ")$")
}

// orders lists every sequence of distinct keys of marks, the empty one too.
func orders(marks map[string]string) [][]string {
	out := [][]string{nil}
	for i := 0; i < len(out); i++ {
		seq := out[i]
		for m := range marks {
			if !slices.Contains(seq, m) {
				out = append(out, append(slices.Clone(seq), m))
			}
		}
	}
	return out
}

// plainByHand writes a value the pattern accepted as -1234.56: negative
// when it holds a minus or a parenthesis, its digits without currency,
// spaces and groups, its point a dot.
func plainByHand(v, group, point, currency string) string {
	sign := ""
	switch {
	case strings.ContainsAny(v, "(-"):
		sign = "-"
	case strings.Contains(v, "+"):
		sign = "+"
	}
	if currency != "" {
		v = strings.Replace(v, currency, "", 1)
	}
	v = strings.NewReplacer("(", "", ")", "", "-", "", "+", "", " ", "", "\u00a0", "", "\u202f", "").Replace(v)
	if group != "" && group != " " {
		v = strings.ReplaceAll(strings.ReplaceAll(v, group, ""), "\u2019", "")
	}
	return sign + strings.Replace(v, point, ".", 1)
}

// csvSchema writes text to a CSV file and reads its schema with the
// settings a recipe's types give.
func csvSchema(t *testing.T, text string, settings map[string]source.Setting) (source.Schema, error) {
	t.Helper()
	return source.CSVSchema(csvFile(t, text), source.CSVOptions{Types: settings})
}

// csvFile writes text to a CSV file and returns its path.
func csvFile(t *testing.T, text string) string {
	t.Helper()
	return csvFileNamed(t, "x.csv", text)
}

func TestCSVNumberLayouts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.csv")
	if err := os.WriteFile(path, []byte("id,amount\n1,\"1.234,5\"\n2,\n3,\" -12.345.678,25 \"\n4,\"0,125\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	european, _ := source.ParseNumberLayout("1.234,56")
	s, err := source.CSVSchema(path, source.CSVOptions{Types: map[string]source.Setting{"amount": {Type: source.Decimal, Number: european}}})
	if err != nil {
		t.Fatal(err)
	}
	// 12345678.25 and 0.125: 8 integer digits, a scale of 3.
	if c, _ := s.Column("amount"); c.TypeName() != "decimal(11,3)" || c.NumberLayout != european {
		t.Errorf("amount = %+v, want decimal(11,3) written 1.234,56", c)
	}
	t.Run("numbers_too_wide_together_say_so", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "x.csv")
		if err := os.WriteFile(path, []byte("id,amount\n1,\"999.999.999.999.999.999.999.999.999.999\"\n2,\"0,123456789\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := source.CSVSchema(path, source.CSVOptions{Types: map[string]source.Setting{"amount": {Type: source.Decimal, Number: european}}})
		if want := `line 3, column amount: with "0,123456789" the column's numbers need 39 digits (30 before the point, 9 after), and Kalla computes with at most 38`; err == nil || err.Error() != "read "+path+": "+want {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
		// One value too wide by itself, written in the layout.
		if err := os.WriteFile(path, []byte("id,amount\n1,\"12345678901234567890123456789012345678901,5\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = source.CSVSchema(path, source.CSVOptions{Types: map[string]source.Setting{"amount": {Type: source.Decimal, Number: european}}})
		if want := `is not a decimal number of at most 38 digits`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
	})
	t.Run("currency_and_negatives", func(t *testing.T) {
		t.Parallel()
		text := "id,amount\n1,\"$1,234.50\"\n2,($7.125)\n3,\" $ (0.5) \"\n4,-$3\n5,12\n"
		dollars, _ := source.ParseNumberLayout("($1,234.56)")
		amount := map[string]source.Setting{"amount": {Type: source.Decimal, Number: dollars}}
		s, err := csvSchema(t, text, amount)
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Column("amount"); c.TypeName() != "decimal(7,3)" {
			t.Errorf("amount = %+v, want decimal(7,3)", c)
		}
		for _, tc := range []struct{ name, value, want string }{
			{"another_currency", "€5.00", `"€5.00" is not a decimal number written like ($1,234.56), the type the recipe sets for it; its currency is €, the column's $`},
			// No other currency would read $NaN: the message does not say it has one.
			{"no_number_after_the_currency", "$NaN", `"$NaN" is not a decimal number written like ($1,234.56), the type the recipe sets for it` + "\n"},
			// Separated thousands never begin with 0: 0,500 is no 500.
			{"a_group_after_zero", `"0,500"`, `"0,500" is not a decimal number written like ($1,234.56), the type the recipe sets for it` + "\n"},
			{"negative_twice", "-($5.00)", `"-($5.00)" is not a decimal number written like ($1,234.56)`},
			// One layout has one negative form: a hint for 5.00- would refuse ($7.125).
			{"negatives_written_another_way", "5.00-", `"5.00-" is not a decimal number written like ($1,234.56), the type the recipe sets for it` + "\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, err := csvSchema(t, text+"6,"+tc.value+"\n", amount)
				if want := "line 7, column amount: " + tc.want; err == nil || !strings.Contains(err.Error()+"\n", want) {
					t.Errorf("err = %v, want it to say %s", err, want)
				}
			})
		}
	})
	t.Run("negatives_the_layout_does_not_name", func(t *testing.T) {
		t.Parallel()
		plain, _ := source.ParseNumberLayout("$1,234.56")
		_, err := csvSchema(t, "id,amount\n1,$5.00\n2,($2.50)\n", map[string]source.Setting{"amount": {Type: source.Decimal, Number: plain}})
		if want := `line 3, column amount: "($2.50)" is not a decimal number written like $1,234.56, the type the recipe sets for it; its negative numbers are written otherwise: "decimal ($1,234.56)" reads it`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
	})
	t.Run("a_value_of_another_layout_names_its_line", func(t *testing.T) {
		t.Parallel()
		english, _ := source.ParseNumberLayout("1,234.56")
		_, err := source.CSVSchema(path, source.CSVOptions{Types: map[string]source.Setting{"amount": {Type: source.Decimal, Number: english}}})
		if want := `line 2, column amount: "1.234,5" is not a decimal number written like 1,234.56`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
	})
}
