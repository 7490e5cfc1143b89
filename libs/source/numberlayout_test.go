package source_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/source"
)

func TestNumberLayoutsReading(t *testing.T) {
	t.Parallel()
	wantReading(t, source.NumberLayoutsReading, map[string]string{"1,234.56": "1,234.56", "12,50": "1.234,56 1 234,56 1'234,56 1234,56",
		"1\u00a0234,5": "1 234,56", "$1,234.56": "", "1.5": "1,234.56 1 234.56 1'234.56"})
}

func TestParseNumberLayout(t *testing.T) {
	t.Parallel()
	for _, example := range []string{"1,234.56", "1.234,56", "1 234,56", "1 234.56", "1'234.56", "1'234,56", "1234,56"} {
		l, err := source.ParseNumberLayout(example)
		if err != nil || l.String() != example {
			t.Errorf("%q: %v, %v", example, l, err)
		}
	}
	for _, example := range []string{"", "1234.56", "1.234.56", "1,234", "1234", "12,34.56", "1_234.56", "1,234.5", "-1,234.56"} {
		if l, err := source.ParseNumberLayout(example); err == nil {
			t.Errorf("%q read as %s, want it refused", example, l)
		}
	}
}

// TestNumberLayoutPlain reads random texts of each layout and compares with
// a regular expression of the numbers the layout writes and with the
// digits put back together by hand.
func TestNumberLayoutPlain(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 19))
	for _, example := range []string{"1,234.56", "1.234,56", "1 234,56", "1'234.56", "1234,56"} {
		l, err := source.ParseNumberLayout(example)
		if err != nil {
			t.Fatal(err)
		}
		group, point := example[1:len(example)-6], example[len(example)-3:len(example)-2]
		groups := "(?:" + regexp.QuoteMeta(group) + `\d{3})+`
		if group == " " {
			groups = "(?:[ \u00a0\u202f]\\d{3})+"
		}
		if group == "" {
			groups = "(?:)"
		}
		valid := regexp.MustCompile(`^[+-]?(?:\d+|\d{1,3}` + groups + `)(?:` + regexp.QuoteMeta(point) + `\d+)?$`)
		alphabet := []string{"1", "2", "0", "9", "5", group, point, "-", "+", ".", ","}
		if group == " " {
			alphabet = append(alphabet, "\u00a0", "\u202f")
		}
		accepted := 0
		for range 20000 {
			var b strings.Builder
			for range 1 + rng.IntN(12) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			text := b.String()
			plain, ok := l.AppendPlain(nil, []byte(text))
			if want := valid.MatchString(strings.Trim(text, " \t")); ok != want {
				t.Errorf("%s %q: read %v, want %v", example, text, ok, want)
				continue
			}
			if !ok {
				continue
			}
			accepted++
			want := strings.NewReplacer(group, "", "\u00a0", "", "\u202f", "", point, ".").Replace(strings.Trim(text, " \t"))
			if group == "" {
				want = strings.Replace(strings.Trim(text, " \t"), point, ".", 1)
			}
			if string(plain) != want {
				t.Errorf("%s %q: %q, want %q", example, text, plain, want)
			}
		}
		if accepted < 1000 {
			t.Errorf("%s: only %d of 20000 texts were numbers; the test is too weak", example, accepted)
		}
	}
}

func TestCSVNumberLayouts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.csv")
	if err := os.WriteFile(path, []byte("id,amount\n1,\"1.234,5\"\n2,\n3,\" -12.345.678,25 \"\n4,\"0,125\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	european, _ := source.ParseNumberLayout("1.234,56")
	s, err := source.CSVSchema(path, map[string]source.Setting{"amount": {Type: source.Decimal, Number: european}})
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
		_, err := source.CSVSchema(path, map[string]source.Setting{"amount": {Type: source.Decimal, Number: european}})
		if want := `line 3, column amount: with "0,123456789" the column's numbers need 39 digits (30 before the point, 9 after), and Kalla computes with at most 38`; err == nil || err.Error() != "read "+path+": "+want {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
		// One value too wide by itself, written in the layout.
		if err := os.WriteFile(path, []byte("id,amount\n1,\"12345678901234567890123456789012345678901,5\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = source.CSVSchema(path, map[string]source.Setting{"amount": {Type: source.Decimal, Number: european}})
		if want := `is not a decimal number of at most 38 digits`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
	})
	t.Run("a_value_of_another_layout_names_its_line", func(t *testing.T) {
		t.Parallel()
		english, _ := source.ParseNumberLayout("1,234.56")
		_, err := source.CSVSchema(path, map[string]source.Setting{"amount": {Type: source.Decimal, Number: english}})
		if want := `line 2, column amount: "1.234,5" is not a decimal number written like 1,234.56`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
	})
}
