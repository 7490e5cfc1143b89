package oracle_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile/oracle"
)

// table builds a table from comma-separated lines; the first line names the
// columns and an empty field is NULL.
func table(lines ...string) oracle.Table {
	t := oracle.Table{Columns: strings.Split(lines[0], ",")}
	for _, line := range lines[1:] {
		var row []*string
		for _, f := range strings.Split(line, ",") {
			if f == "" {
				row = append(row, nil)
			} else {
				row = append(row, &f)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// recipeOf parses a recipe whose sides (ledger, bank) are keyed by the
// given columns ("" for row numbers) and whose match_rules are the YAML
// list given.
func recipeOf(t *testing.T, leftKey, rightKey, rules string) *kallav1.Recipe {
	t.Helper()
	key := func(k string) string {
		if k == "" {
			return ""
		}
		return ", primary_key: [" + k + "]"
	}
	text := "recipe_id: test\nsources:\n" +
		"  left: {alias: ledger, uri: \"file:///l.csv\"" + key(leftKey) + "}\n" +
		"  right: {alias: bank, uri: \"file:///r.csv\"" + key(rightKey) + "}\n" +
		"match_rules:\n" + rules
	r, err := recipe.Parse([]byte(text))
	if err != nil {
		t.Fatalf("parse recipe: %v\n%s", err, text)
	}
	return r
}

func reconcile(t *testing.T, r *kallav1.Recipe, left, right oracle.Table) oracle.Result {
	t.Helper()
	res, err := oracle.Reconcile(r, left, right)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return res
}

// groups renders groups as "id rule: left keys = right keys".
func groups(res oracle.Result) []string {
	var out []string
	for _, g := range res.Groups {
		out = append(out, fmt.Sprintf("%d %s: %s = %s", g.MatchID, g.Rule, strings.Join(g.Left, " "), strings.Join(g.Right, " ")))
	}
	return out
}

// unmatched renders unmatched records as "key" or "key ~ rule other failed".
func unmatched(list []oracle.Unmatched) []string {
	var out []string
	for _, u := range list {
		s := u.Key
		if m := u.NearMiss; m != nil {
			s += fmt.Sprintf(" ~ %s %s %d", m.Rule, m.OtherKey, m.Failed)
		}
		out = append(out, s)
	}
	return out
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestOneToOneTieBrokenByKeys(t *testing.T) {
	// Every pair ties on the order tuple, so keys decide: left 9 before 10
	// (numerically, though "10" < "9" as text), right a before b.
	r := recipeOf(t, "id", "id", `
  - name: exact
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}]
`)
	left := table("id,ref", "10,A", "9,A")
	right := table("id,ref", "b,A", "a,A")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 exact: 9 = a", "2 exact: 10 = b"})
}

func TestOneToOneGreedyChain(t *testing.T) {
	// Candidates in order: L1-R1 0.01, L2-R1 0.03, L2-R2 0.03, L3-R2 0.04,
	// L1-R2 0.05, L3-R1 0.10. L2's best partner R1 is taken by L1, so L2
	// takes R2, which L3 wanted; L3 is left over.
	r := recipeOf(t, "id", "id", `
  - name: close
    pattern: "1:1"
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: amount, op: tolerance, right: amount, threshold: 0.10}
`)
	left := table("id,ref,amount", "L1,A,100.01", "L2,A,100.03", "L3,A,100.10")
	right := table("id,ref,amount", "R1,A,100.00", "R2,A,100.06")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 close: L1 = R1", "2 close: L2 = R2"})
	// L3 satisfies the rule with both rights; R2 is nearer (0.04 < 0.10).
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"L3 ~ close R2 0"})
}

func TestTimestampComparisonRanksByTime(t *testing.T) {
	// A comparison ranks by |l - r|: of timestamps, the time between them,
	// not the days. Both invoices are dated the day after R1; L2 a second
	// after it, L1 a day less a second after. L2 takes R1 though L1's
	// amount is nearer, and L1 is left with R1 as its near miss (passing,
	// taken by L2). Counted in days, both would be 1 day apart and L1
	// would take R1 by the amount.
	r := recipeOf(t, "id", "id", `
  - name: later
    pattern: "1:1"
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: at, op: gte, right: at}
      - {left: amount, op: tolerance, right: amount, threshold: 5}
`)
	left := table("id,ref,at,amount", "L1,A,2024-01-02 23:59:58,100.00", "L2,A,2024-01-02 00:00:00,104.00")
	right := table("id,ref,at,amount", "R1,A,2024-01-01 23:59:59,100.00")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 later: L2 = R1"})
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"L1 ~ later R1 0"})
}

func TestDecimalToleranceIsExact(t *testing.T) {
	// In float64, 1.10 - 1.08 is a little more than 0.02.
	r := recipeOf(t, "id", "id", `
  - name: cents
    pattern: "1:1"
    conditions:
      - {left: id, op: eq, right: id}
      - {left: amount, op: tolerance, right: amount, threshold: 0.02}
`)
	left := table("id,amount", "1,1.10", "2,1.10")
	right := table("id,amount", "1,1.08", "2,1.07")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 cents: 1 = 1"})
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"2 ~ cents 2 1"})
	check(t, "unmatched right", unmatched(res.UnmatchedRight), []string{"2 ~ cents 2 1"})
}

func TestNullOperandIsFalse(t *testing.T) {
	r := recipeOf(t, "id", "id", `
  - name: exact
    pattern: "1:1"
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: amount, op: tolerance, right: amount, threshold: 5}
`)
	// 1: NULL amount on the left. 2: NULL references on both sides never
	// equal each other. 3: a plain match.
	left := table("id,ref,amount", "1,A,", "2,,10", "3,C,10")
	right := table("id,ref,amount", "1,A,10", "2,,10", "3,C,10")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 exact: 3 = 3"})
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"1 ~ exact 1 1", "2"})
	check(t, "unmatched right", unmatched(res.UnmatchedRight), []string{"1 ~ exact 1 1", "2"})
}

func TestTolerancePercentBoundary(t *testing.T) {
	// |l - r| * 100 <= 1 * |l|: 2 * 100 <= 200 holds for 1; 2.01 misses
	// for 2; for 3 the base is the left value 198, so 200 > 198 misses.
	r := recipeOf(t, "id", "id", `
  - name: pct
    pattern: "1:1"
    conditions:
      - {left: id, op: eq, right: id}
      - {left: amount, op: tolerance_pct, right: amount, threshold: 1}
`)
	left := table("id,amount", "1,200.00", "2,200.00", "3,198.00")
	right := table("id,amount", "1,198.00", "2,197.99", "3,200.00")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 pct: 1 = 1"})
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"2 ~ pct 2 1", "3 ~ pct 3 1"})
}

func TestOneToManyAggregate(t *testing.T) {
	// A's rights sum to 100.00 exactly; B's sum to 40.00, not 50.00, so
	// nothing of B matches in "split" and the later 1:1 rule gets them.
	r := recipeOf(t, "id", "id", `
  - name: split
    pattern: 1:N
    priority: 1
    conditions: [{left: ref, op: eq, right: ref}]
    aggregate: {left: amount, right: amount, tolerance: 0}
  - name: single
    pattern: "1:1"
    priority: 2
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: amount, op: tolerance, right: amount, threshold: 20}
`)
	left := table("id,ref,amount", "1,A,100.00", "2,B,50.00")
	right := table("id,ref,amount", "1,A,60.00", "2,A,40.00", "3,B,30.00", "4,B,10.00")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 split: 1 = 1 2", "2 single: 2 = 3"})
	// The aggregate is no condition, so "split" missed 4 by no condition.
	check(t, "unmatched right", unmatched(res.UnmatchedRight), []string{"4 ~ split 2 0"})
	want := []oracle.RuleCount{
		{Name: "split", Pattern: "1:N", Groups: 1, LeftMatched: 1, RightMatched: 2},
		{Name: "single", Pattern: "1:1", Groups: 1, LeftMatched: 1, RightMatched: 1},
	}
	if !reflect.DeepEqual(res.Rules, want) {
		t.Errorf("rules = %+v, want %+v", res.Rules, want)
	}
}

func TestOneToManyRightPicksBestLeft(t *testing.T) {
	// Right 1 is nearer left 2; right 2 ties and takes the smaller left key.
	r := recipeOf(t, "id", "id", `
  - name: fan
    pattern: 1:N
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: amount, op: tolerance, right: amount, threshold: 5}
`)
	left := table("id,ref,amount", "1,A,10", "2,A,12")
	right := table("id,ref,amount", "1,A,11.50", "2,A,11")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 fan: 1 = 2", "2 fan: 2 = 1"})
}

func TestManyToOneMirror(t *testing.T) {
	// Lefts 1 and 2 sum to right 1; lefts 3 and 4 sum to 6.00, not 5.00.
	r := recipeOf(t, "id", "id", `
  - name: gather
    pattern: M:1
    conditions: [{left: ref, op: eq, right: ref}]
    aggregate: {left: amount, right: amount, tolerance: 0.99}
`)
	left := table("id,ref,amount", "1,A,60.00", "2,A,40.00", "3,B,5.00", "4,B,1.00")
	right := table("id,ref,amount", "1,A,100.00", "2,B,5.00")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 gather: 1 2 = 1"})
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"3 ~ gather 2 0", "4 ~ gather 2 0"})
}

func TestManyToOneLeftPicksBestRight(t *testing.T) {
	// Left 1 is nearest right 2, left 2 nearest right 1; match ids follow
	// the smallest left key of each group.
	r := recipeOf(t, "id", "id", `
  - name: gather
    pattern: M:1
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: amount, op: tolerance, right: amount, threshold: 5}
`)
	left := table("id,ref,amount", "1,C,10.00", "2,C,12.00")
	right := table("id,ref,amount", "1,C,11.50", "2,C,10.00")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 gather: 1 = 2", "2 gather: 2 = 1"})
}

func TestManyToManyComponents(t *testing.T) {
	// A: 1-1 and 2-1 and 2-2 link all four records, though left 1 and
	// right 2 (3.00 apart) are no candidate. B: 4.00 apart, no match.
	r := recipeOf(t, "id", "id", `
  - name: web
    pattern: M:N
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: amount, op: tolerance, right: amount, threshold: 1}
`)
	left := table("id,ref,amount", "1,A,10", "2,A,12", "3,B,5", "4,C,1")
	right := table("id,ref,amount", "1,A,11", "2,A,13", "3,B,9", "4,C,1", "5,C,1.5")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 web: 1 2 = 1 2", "2 web: 4 = 4 5"})
	want := []oracle.RuleCount{{Name: "web", Pattern: "M:N", Groups: 2, LeftMatched: 3, RightMatched: 4}}
	if !reflect.DeepEqual(res.Rules, want) {
		t.Errorf("rules = %+v, want %+v", res.Rules, want)
	}
}

func TestWaterfallRunsByPriority(t *testing.T) {
	// "strict" is written second but runs first; "loose" would have paired
	// by keys alone (1-1, 2-2) and is left with nothing.
	r := recipeOf(t, "id", "id", `
  - name: loose
    pattern: "1:1"
    priority: 2
    conditions: [{left: ref, op: eq, right: ref}]
  - name: strict
    pattern: "1:1"
    priority: 1
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: amount, op: tolerance, right: amount, threshold: 0}
  - name: tie
    pattern: "1:1"
    priority: 2
    conditions: [{left: ref, op: eq, right: ref}]
`)
	left := table("id,ref,amount", "1,A,10", "2,A,20", "3,A,30")
	right := table("id,ref,amount", "1,A,20", "2,A,10", "3,A,99")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 strict: 1 = 2", "2 strict: 2 = 1", "3 loose: 3 = 3"})
	var order []string
	for _, rc := range res.Rules {
		order = append(order, fmt.Sprintf("%s %d", rc.Name, rc.Groups))
	}
	check(t, "rules", order, []string{"strict 2", "loose 1", "tie 0"})
}

func TestKeyErrors(t *testing.T) {
	r := recipeOf(t, "id", "id", `
  - name: exact
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}]
`)
	right := table("id,ref", "1,A")
	for name, left := range map[string]oracle.Table{
		"duplicate":            table("id,ref", "1,A", "2,A", "1,B"),
		"duplicate by value":   table("id,ref", "1.5,A", "1.50,B"),
		"NULL key":             table("id,ref", "1,A", ",B"),
		"key column not found": table("code,ref", "1,A"),
	} {
		_, err := oracle.Reconcile(r, left, right)
		if err == nil || !strings.Contains(err.Error(), "ledger") {
			t.Errorf("%s: error = %v, want one naming ledger", name, err)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestRowNumberKeys(t *testing.T) {
	r := recipeOf(t, "", "", `
  - name: exact
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}]
`)
	left := table("ref", "B", "A", "A")
	right := table("ref", "A", "A", "B")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 exact: 1 = 3", "2 exact: 2 = 1", "3 exact: 3 = 2"})
}

func TestNearMissFewestFailed(t *testing.T) {
	// Right a fails both non-key conditions, right z only the date; the key
	// order alone would have picked a. Right b has another reference.
	r := recipeOf(t, "id", "id", `
  - name: full
    pattern: "1:1"
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: amount, op: tolerance, right: amount, threshold: 0.5}
      - {left: day, op: date_within, right: day, threshold: 3}
`)
	left := table("id,ref,amount,day", "1,A,10.00,2024-01-01")
	right := table("id,ref,amount,day", "a,A,99.00,2024-03-01", "z,A,10.00,2024-03-01", "b,B,10.00,2024-01-01")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), nil)
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"1 ~ full z 1"})
	check(t, "unmatched right", unmatched(res.UnmatchedRight), []string{"a ~ full 1 2", "b", "z ~ full 1 1"})
}

func TestNearMissTupleAndNull(t *testing.T) {
	// Both rights fail one condition; right 1's amount is NULL, which sorts
	// after right 2's distance 5.
	r := recipeOf(t, "id", "id", `
  - name: full
    pattern: "1:1"
    conditions:
      - {left: ref, op: eq, right: ref}
      - {left: amount, op: tolerance, right: amount, threshold: 0.5}
`)
	left := table("id,ref,amount", "1,A,10")
	right := table("id,ref,amount", "1,A,", "2,A,15")
	res := reconcile(t, r, left, right)
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"1 ~ full 2 1"})
}

func TestTypesShowInKeysAndEquality(t *testing.T) {
	// Keys: DECIMAL keeps the column's largest scale, text keeps its spaces,
	// INTEGER drops '+' and surrounding blanks.
	r := recipeOf(t, "id", "id", `
  - name: exact
    pattern: "1:1"
    conditions:
      - {left: n, op: eq, right: n}
      - {left: day, op: eq, right: day}
      - {left: who, op: eq_ci, right: who}
`)
	left := table("id,n,day,who", "7.5,2,2024-02-29,Acme", "3.25,+3, 2024-03-01,x", "-0.5,4,2024-03-02,y")
	right := table("id,n,day,who", " b,2.00,2024-02-29,  ACME\t", "a ,3,2024-03-01,x", "c,4.5,2024-03-02,y")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 exact: 3.25 = a ", "2 exact: 7.50 =  b"})
	// Every condition here is a key condition, and 4 = 4.5 fails, so no
	// near miss.
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"-0.50"})
	check(t, "unmatched right", unmatched(res.UnmatchedRight), []string{"c"})
}

func TestCompositeKeys(t *testing.T) {
	// Column by column: text first, then seq numerically (9 before 10).
	r := recipeOf(t, "branch, seq", "id", `
  - name: exact
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}]
`)
	left := table("branch,seq,ref", "north,10,A", "north,9,A", "east,1,B")
	right := table("id,ref", "1,A", "2,A", "3,B")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 exact: east|1 = 3", "2 exact: north|9 = 1", "3 exact: north|10 = 2"})
}

func TestIntegerKeysRender(t *testing.T) {
	r := recipeOf(t, "id", "id", `
  - name: exact
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}]
`)
	left := table("id,ref", "+5,A", " 12 ,A", "-7,A")
	right := table("id,ref", "x,B")
	res := reconcile(t, r, left, right)
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"-7", "5", "12"})
}

func TestLeadingZerosAreText(t *testing.T) {
	// 007 and 7 are two codes, ordered by bytes, written as they came.
	r := recipeOf(t, "id", "id", `
  - name: exact
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}]
`)
	left := table("id,ref", "7,42", "007,0042", "08,042")
	right := table("id,ref", "1,042", "2,42.0")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 exact: 08 = 1"})
	check(t, "unmatched left", unmatched(res.UnmatchedLeft), []string{"007", "7"})
}

func TestTypeAndColumnErrors(t *testing.T) {
	left := table("id,amount,name", "1,10.00,Acme")
	right := table("id,amt,payee", "1,10.00,Acme")
	for _, c := range []struct{ rule, want string }{
		{"{left: name, op: tolerance, right: payee, threshold: 1}", "ledger.name (TEXT)"},
		{"{left: amount, op: eq, right: payee}", "bank.payee (TEXT)"},
		{"{left: amount, op: fuzzy, right: amt, threshold: 1}", "DECIMAL"},
		{"{left: amount, op: eq, right: amount}", "id, amt, payee"},
	} {
		r := recipeOf(t, "id", "id", `
  - name: broken
    pattern: "1:1"
    conditions: [{left: id, op: eq, right: id}, `+c.rule+`]
`)
		_, err := oracle.Reconcile(r, left, right)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "broken") {
			t.Errorf("%s: error = %v, want one naming the rule and %q", c.rule, err, c.want)
		}
	}
}

func TestTextOperators(t *testing.T) {
	// kitten/sitting: 3 edits over 7 runes, similarity 4/7 = 0.571428...
	cases := []struct {
		cond      string
		l, r      string
		wantMatch bool
	}{
		{"{left: s, op: fuzzy, right: s, threshold: 0.5714}", "kitten", "sitting", true},
		{"{left: s, op: fuzzy, right: s, threshold: 0.5715}", "kitten", "sitting", false},
		{"{left: s, op: fuzzy, right: s, threshold: 0.75}", "café", "cafe", true},
		{"{left: s, op: contains, right: s}", "Payment INV-1", "INV-1", true},
		{"{left: s, op: contains, right: s}", "INV-1", "Payment INV-1", false},
		{"{left: s, op: startswith, right: s}", "INV-1 Acme", "INV", true},
		{"{left: s, op: endswith, right: s}", "INV-1 Acme", "acme", false},
		{"{left: s, op: gt, right: s}", "b", "a", true},
		{"{left: s, op: lte, right: s}", "b", "a", false},
	}
	for _, c := range cases {
		r := recipeOf(t, "id", "id", `
  - name: text
    pattern: "1:1"
    conditions: [{left: id, op: eq, right: id}, `+c.cond+`]
`)
		res := reconcile(t, r, table("id,s", "1,"+c.l), table("id,s", "1,"+c.r))
		if got := len(res.Groups) == 1; got != c.wantMatch {
			t.Errorf("%s with %q, %q: matched = %v, want %v", c.cond, c.l, c.r, got, c.wantMatch)
		}
	}
}

func TestDateWithinTruncatesTimestamps(t *testing.T) {
	// 23:59 on the 1st and 00:00 on the 3rd are two days apart by date.
	r := recipeOf(t, "id", "id", `
  - name: days
    pattern: "1:1"
    conditions:
      - {left: id, op: eq, right: id}
      - {left: at, op: date_within, right: at, threshold: 2}
`)
	left := table("id,at", "1,2024-01-01 23:59:00", "2,2024-01-01T00:00:00.5")
	right := table("id,at", "1,2024-01-03", "2,2024-01-04")
	res := reconcile(t, r, left, right)
	check(t, "groups", groups(res), []string{"1 days: 1 = 1"})
}

func TestTotalsAsWrittenPerValue(t *testing.T) {
	t.Parallel()
	r := recipeOf(t, "id", "id", "  - {name: exact, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amt, op: eq, right: amt}]}\n")
	r.Sources.Right.ReverseSign = []string{"amt"}
	r.Sources.Right.Totals = []*kallav1.Total{{Column: "amt"}, {Column: "amt", By: "cur"}}
	res := reconcile(t, r,
		table("id,ref,amt", "1,A,10.00", "2,B,3.00"),
		table("id,ref,amt,cur", "10,A,-10.00,EUR", "11,B,4.5,", "12,C,,USD", "13,D,1.25,EUR"))
	var got []string
	for _, x := range res.RightTotals {
		value := "<empty>"
		if x.Value != nil {
			value = *x.Value
		}
		got = append(got, fmt.Sprintf("%s/%s=%s: %d %d %d | %s %s %s", x.Column, x.By, value, x.Records, x.MatchedRecords, x.Empty, x.Total, x.Matched, x.Unmatched))
	}
	// The bank's -10.00 is matched with the ledger's 10.00 and summed as
	// written; 4.5 takes the column's scale; the empty currency comes last.
	check(t, "totals", got, []string{
		"amt/=<empty>: 4 1 1 | -4.25 -10.00 5.75",
		"amt/cur=EUR: 2 1 0 | -8.75 -10.00 1.25",
		"amt/cur=USD: 1 0 1 | 0.00 0.00 0.00",
		"amt/cur=<empty>: 1 0 0 | 4.50 0.00 4.50",
	})
	if len(res.LeftTotals) != 0 {
		t.Errorf("left totals = %v, want none", res.LeftTotals)
	}
	// A column without any value sums to the integer 0, as the engine's.
	r.Sources.Right.Totals = []*kallav1.Total{{Column: "fee"}}
	res = reconcile(t, r, table("id,ref,amt", "1,A,10.00"), table("id,ref,amt,fee", "10,A,-10.00,"))
	if got := res.RightTotals; len(got) != 1 || got[0].Total != "0" || got[0].Empty != 1 {
		t.Errorf("total of a column without values = %+v", got)
	}
}
