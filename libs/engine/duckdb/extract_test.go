package duckdb_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	t.Run("references_in_bank_memos", func(t *testing.T) {
		t.Parallel()
		o := mustReconcile(t,
			"id,invoice,amount\n1,INV-1042,500.00\n2,INV-7,20.00\n3,INV-9,30.00\n",
			"id,memo,amount\n10,PAYMENT INV-1042 ACME,500.00\n11,inv-7 thanks,20.01\n12,Transfer,30.00\n13,,5\n",
			withSourceField(recipeYAML(`
  - name: by_ref
    pattern: "1:1"
    conditions: [{left: invoice, op: eq_ci, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0}]
`), "right", "extract", `{ref: {from: memo, pattern: "(?i)INV-[0-9]+"}}`))
		if got, want := o.pairs(), []string{"by_ref: l1 r10"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		wantReasons(t, o.unmatchedRight, map[string]string{
			"11": "l.amount differs from r.amount by 0.01, tolerance 0",
			"12": `its ref (taken from memo by "(?i)INV-[0-9]+") is empty, so no l record can share it (rule by_ref)`,
			"13": `its ref (taken from memo by "(?i)INV-[0-9]+") is empty, so no l record can share it (rule by_ref)`,
		})
		// The evidence keeps the bank's own columns only.
		if cols := slices.Sorted(maps.Keys(o.unmatchedRight[0])); !slices.Equal(cols, []string{"amount", "id", "kalla_near_failed", "kalla_near_key", "kalla_near_reason", "kalla_near_rule", "memo"}) {
			t.Errorf("unmatched right columns = %v", cols)
		}
	})
	t.Run("first_group_is_the_value", func(t *testing.T) {
		t.Parallel()
		// The first match counts: "Invoice 12 and 13" is 12.
		o := mustReconcile(t,
			"id,memo\n1,Invoice 1042 paid\n2,Invoice 12 and 13\n3,invoice 5\n",
			"id,number\n10,1042\n11,13\n12,12\n13,5\n",
			withSourceField(withSourceField(recipeYAML(`
  - {name: by_number, pattern: "1:1", conditions: [{left: number, op: eq, right: number}]}
`), "left", "extract", `{number: {from: memo, pattern: "Invoice ([0-9]+)"}}`), "right", "types", `{number: text}`))
		if got, want := o.pairs(), []string{"by_number: l1 r10", "by_number: l2 r12"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("integers", func(t *testing.T) {
		t.Parallel()
		// An integer invoice number, as a database keeps it, against the
		// digits a memo quotes. Only whole numbers of at most 18 digits
		// count, not what a lenient cast reads (1e3, 1_000, 0x1F).
		o := mustReconcile(t,
			"id,number\n1,12\n2,7\n3,1000\n4,31\n5,42\n6,123456789012345678\n7,-5\n",
			"id,memo\n10,INV-0012\n11,INV-+7\n12,INV-1e3\n13,INV-0x1F\n14,INV-00000000000000000000042\n15,INV-1234567890123456789\n16,INV-1_000\n17,INV-123456789012345678\n18,INV--5\n",
			withSourceField(recipeYAML(`
  - {name: by_number, pattern: "1:1", conditions: [{left: number, op: eq, right: number}]}
`), "right", "extract", `{number: {from: memo, pattern: "INV-(\\S+)", type: integer}}`))
		want := []string{"by_number: l1 r10", "by_number: l2 r11", "by_number: l5 r14", "by_number: l6 r17", "by_number: l7 r18"}
		if got := o.pairs(); !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		if got := keys(o.unmatchedRight, "id"); !slices.Equal(got, []string{"12", "13", "15", "16"}) {
			t.Errorf("unmatched right = %v", got)
		}
	})
	t.Run("refused_with_the_field", func(t *testing.T) {
		t.Parallel()
		base := recipeYAML(`
  - {name: by_ref, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}]}
`)
		left, right := "id,ref\n1,A\n", "id,memo,amount,Memo2\n10,A,5,x\n"
		for _, tt := range []struct{ extract, want string }{
			{`{ref: {from: memo, pattern: "INV-[0-9"}}`, `sources.right.extract.ref.pattern: "INV-[0-9" is no regular expression: missing closing ]`},
			{`{ref: {from: note, pattern: "A"}}`, `sources.right.extract.ref.from: column "note" is not in r`},
			{`{ref: {from: amount, pattern: "5"}}`, `sources.right.extract.ref.from: column "amount" of r is integer; extract reads text (set its type to text in the source's types: {"amount": "text"})`},
			{`{ref: {from: memo, pattern: "A"}, memo2: {from: memo, pattern: "A"}}`, `sources.right.extract.memo2: r already has a column "Memo2"`},
			{`{ref: {from: memo, pattern: "A"}, kalla_x: {from: memo, pattern: "A"}}`, `sources.right.extract.kalla_x: "kalla_x" is a name Kalla reserves`},
			{`{ref: {from: memo}}`, `sources.right.extract.ref.pattern: is required`},
			{`{ref: {from: memo, pattern: "A", type: decimal}}`, `sources.right.extract.ref.type: "decimal" is not a type an extract takes; allowed: text (when left out), integer`},
			// Go's regexp reads these; the engine's RE2 does not.
			{`{ref: {from: memo, pattern: "(?<n>[0-9]+)"}}`, `sources.right.extract.ref.pattern: "(?<n>[0-9]+)" is a regular expression the engine cannot run: invalid perl operator: (?<; a named group is written (?P<name>...)`},
			{`{ref: {from: memo, pattern: "\\pL{1000}"}}`, `sources.right.extract.ref.pattern: "\\pL{1000}" is a regular expression the engine cannot run: pattern too large`},
			{`{ref: {from: memo, pattern: "a\0b"}}`, `sources.right.extract.ref.pattern: holds a NUL character; write it \x00`},
		} {
			_, err := reconcileFiles(t, left, right, withSourceField(base, "right", "extract", tt.extract))
			wantBadInput(t, err, tt.want)
		}
		// A refused extract is refused once, not again where a rule uses it.
		_, err := reconcileFiles(t, left, right, withSourceField(base, "right", "extract", `{ref: {from: amount, pattern: "5"}}`))
		if err == nil || strings.Count(err.Error(), "\n") != 0 {
			t.Errorf("err = %v, want one line", err)
		}
	})
}

// TestExtractsReadAsGoDoes runs patterns over random memos in the engine
// and with Go's regexp, which the oracle and recipe checks use: the engine
// must take out the same value, or none where Go finds none.
func TestExtractsReadAsGoDoes(t *testing.T) {
	t.Parallel()
	patterns := []string{`INV-[0-9]+`, `(?i)inv-([0-9]+)`, `\bREF:?\s*(\w+)`, `[A-Z]{2}\d{2,}`, `(\d+)/(\d+)`, `^\s*(\S+)`,
		`(?:PO|P\.O\.)\s*#?\s*(\d+)`, `(?i)straße (\pL+)`, `(a|ab)(c|bcd)`, `x*`, `(é+)|(ab)`, `[[:upper:]]+`, `"([^"]*)"`, `.+`}
	tokens := []string{"INV-", "inv-", "1042", "7", " ", "\t", "REF:", "ref ", "PO", "P.O.", "#", "Straße", "STRASSE", "STRAẞE", "é", "ab",
		"c", "bcd", "x", "12/34", "ÄÖ", "_", ",", `"`, "AB", "\n", "Zürich"}
	for i, pattern := range patterns {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			re := regexp.MustCompile(pattern)
			group := min(re.NumSubexp(), 1)
			rng := rand.New(rand.NewPCG(uint64(i), 29))
			left, right := [][]string{{"id", "want"}}, [][]string{{"id", "memo"}}
			found := 0
			for id := range 300 {
				var memo strings.Builder
				for range rng.IntN(7) {
					memo.WriteString(tokens[rng.IntN(len(tokens))])
				}
				want := ""
				if m := re.FindStringSubmatch(memo.String()); m != nil {
					want = m[group]
				}
				if want != "" {
					found++
				}
				left = append(left, []string{fmt.Sprint(id), want})
				right = append(right, []string{fmt.Sprint(id), memo.String()})
			}
			recipe := withSourceField(recipeYAML("  - {name: t, pattern: \"1:1\", conditions: [{left: id, op: eq, right: id}, {left: want, op: eq, right: got}]}\n"),
				"right", "extract", fmt.Sprintf("{got: {from: memo, pattern: %q}}", pattern))
			recipe = withSourceField(recipe, "left", "types", "{want: text}")
			recipe = withSourceField(recipe, "right", "types", "{memo: text}")
			o := mustReconcile(t, csvText(t, left), csvText(t, right), recipe)
			// Every record with a value matches, and no other one has one:
			// its reason says its value is empty.
			if got := len(o.pairs()); got != found {
				t.Errorf("%d of %d values taken out alike; unmatched right, first: %v", got, found, o.unmatchedRight[:min(3, len(o.unmatchedRight))])
			}
			for _, u := range o.unmatchedRight {
				if !strings.HasPrefix(u["kalla_near_reason"], "its got (taken from memo") {
					t.Errorf("memo %q: the engine took out a value where Go finds none: %s", u["memo"], u["kalla_near_reason"])
				}
			}
		})
	}
}
