package oracle

import "testing"

func TestInferType(t *testing.T) {
	cases := []struct {
		values []string
		want   colType
	}{
		{nil, colType{kind: kindText, empty: true}},
		{[]string{"1", "+2", "-30", " 4\t"}, colType{kind: kindInteger}},
		{[]string{"7.5", "3.25", "1"}, colType{kind: kindDecimal, scale: 2}},
		{[]string{"1.", "2"}, colType{kind: kindText}},
		{[]string{".5"}, colType{kind: kindText}},
		{[]string{"1e3"}, colType{kind: kindText}},
		{[]string{"2024-02-29", " 2024-03-01 "}, colType{kind: kindDate}},
		{[]string{"2023-02-29"}, colType{kind: kindText}},
		{[]string{"2024-1-01"}, colType{kind: kindText}},
		{[]string{"2024-01-01", "2024-01-02T10:00:00", "2024-01-03 23:59:59.123456"}, colType{kind: kindTimestamp}},
		{[]string{"2024-01-01 24:00:00"}, colType{kind: kindText}},
		{[]string{"2024-01-01 10:00:00.1234567"}, colType{kind: kindText}},
		{[]string{"12", "abc"}, colType{kind: kindText}},
		{[]string{" Acme "}, colType{kind: kindText}},
		{[]string{"0", "-0", "10"}, colType{kind: kindInteger}},
		{[]string{"0.5", "-0.25"}, colType{kind: kindDecimal, scale: 2}},
		{[]string{"12", "007"}, colType{kind: kindText}},
		{[]string{"+01"}, colType{kind: kindText}},
		{[]string{"00.5"}, colType{kind: kindText}},
	}
	for _, c := range cases {
		if got := inferType(c.values); got != c.want {
			t.Errorf("inferType(%q) = %v, want %v", c.values, got, c.want)
		}
	}
}

func TestRenderKeepsText(t *testing.T) {
	cases := []struct {
		raw  string
		t    colType
		want string
	}{
		{"+7", colType{kind: kindInteger}, "7"},
		{"-0", colType{kind: kindInteger}, "0"},
		{"7.5", colType{kind: kindDecimal, scale: 2}, "7.50"},
		{"-0.5", colType{kind: kindDecimal, scale: 2}, "-0.50"},
		{" 2024-03-01", colType{kind: kindDate}, "2024-03-01"},
		{"2024-03-01T10:00:00.500", colType{kind: kindTimestamp}, "2024-03-01 10:00:00.5"},
		{"2024-03-01", colType{kind: kindTimestamp}, "2024-03-01 00:00:00"},
		{" Acme ", colType{kind: kindText}, " Acme "},
	}
	for _, c := range cases {
		if got := render(parse(&c.raw, c.t), c.t); got != c.want {
			t.Errorf("render(%q as %v) = %q, want %q", c.raw, c.t, got, c.want)
		}
	}
}

func TestSimilarity(t *testing.T) {
	cases := []struct {
		a, b string
		want string
	}{
		{"", "", "1"},
		{"kitten", "sitting", "4/7"},
		{"abc", "", "0"},
		{"café", "cafe", "3/4"},
	}
	for _, c := range cases {
		if got := similarity(c.a, c.b).RatString(); got != c.want {
			t.Errorf("similarity(%q, %q) = %s, want %s", c.a, c.b, got, c.want)
		}
	}
}
