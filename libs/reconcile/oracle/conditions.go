package oracle

import (
	"fmt"
	"math/big"
	"strings"
	"unicode"

	"golang.org/x/text/cases"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/recipe"
)

// condition is a recipe condition bound to the columns of both sides.
type condition struct {
	op          kallav1.Operator
	left, right int // column indexes
	family      family
	threshold   *big.Rat
}

// needs says which family both operands of an operator must have; 0 means
// any family, as long as both sides share it.
func needs(op kallav1.Operator) family {
	switch op {
	case kallav1.Operator_OPERATOR_EQ_CI, kallav1.Operator_OPERATOR_CONTAINS,
		kallav1.Operator_OPERATOR_STARTSWITH, kallav1.Operator_OPERATOR_ENDSWITH,
		kallav1.Operator_OPERATOR_FUZZY:
		return familyText
	case kallav1.Operator_OPERATOR_TOLERANCE, kallav1.Operator_OPERATOR_TOLERANCE_PCT:
		return familyNumber
	case kallav1.Operator_OPERATOR_DATE_WITHIN:
		return familyTime
	}
	return 0
}

// bindCondition finds a condition's columns and checks their types suit
// the operator.
func bindCondition(rule string, c *kallav1.Condition, l, r *side) (condition, error) {
	li, err := l.column(c.GetLeft())
	if err != nil {
		return condition{}, fmt.Errorf("rule %q: %w", rule, err)
	}
	ri, err := r.column(c.GetRight())
	if err != nil {
		return condition{}, fmt.Errorf("rule %q: %w", rule, err)
	}
	lt, rt := l.types[li], r.types[ri]
	f := lt.kind.family()
	if want := needs(c.GetOp()); f != rt.kind.family() || (want != 0 && f != want) {
		return condition{}, fmt.Errorf("rule %q: %s cannot compare %s.%s (%s) with %s.%s (%s)",
			rule, recipe.OperatorName(c.GetOp()), l.alias, c.GetLeft(), lt, r.alias, c.GetRight(), rt)
	}
	bound := condition{op: c.GetOp(), left: li, right: ri, family: f}
	if recipe.NeedsThreshold(c.GetOp()) {
		t, ok := recipe.Rat(c.GetThreshold())
		if !ok {
			return condition{}, fmt.Errorf("rule %q: %s needs a decimal threshold", rule, recipe.OperatorName(c.GetOp()))
		}
		bound.threshold = t
	}
	return bound, nil
}

// holds reports whether the condition is true for a pair; a NULL operand
// makes it false.
func (c condition) holds(l, r *record) bool {
	a, b := l.cells[c.left], r.cells[c.right]
	if a == nil || b == nil {
		return false
	}
	switch c.op {
	case kallav1.Operator_OPERATOR_EQ:
		return compare(a, b, c.family) == 0
	case kallav1.Operator_OPERATOR_EQ_CI:
		// A blank value (white space only) is no key.
		return foldCase(a.text) == foldCase(b.text) && foldCase(a.text) != ""
	case kallav1.Operator_OPERATOR_TOLERANCE:
		return difference(a, b).Cmp(c.threshold) <= 0
	case kallav1.Operator_OPERATOR_TOLERANCE_PCT:
		percent := new(big.Rat).Mul(difference(a, b), big.NewRat(100, 1))
		allowed := new(big.Rat).Mul(c.threshold, new(big.Rat).Abs(a.num))
		return percent.Cmp(allowed) <= 0
	case kallav1.Operator_OPERATOR_GT:
		return compare(a, b, c.family) > 0
	case kallav1.Operator_OPERATOR_LT:
		return compare(a, b, c.family) < 0
	case kallav1.Operator_OPERATOR_GTE:
		return compare(a, b, c.family) >= 0
	case kallav1.Operator_OPERATOR_LTE:
		return compare(a, b, c.family) <= 0
	case kallav1.Operator_OPERATOR_CONTAINS:
		return strings.Contains(a.text, b.text)
	case kallav1.Operator_OPERATOR_STARTSWITH:
		return strings.HasPrefix(a.text, b.text)
	case kallav1.Operator_OPERATOR_ENDSWITH:
		return strings.HasSuffix(a.text, b.text)
	case kallav1.Operator_OPERATOR_DATE_WITHIN:
		return dayDistance(a, b).Cmp(c.threshold) <= 0
	case kallav1.Operator_OPERATOR_FUZZY:
		return similarity(a.text, b.text).Cmp(c.threshold) >= 0
	}
	panic(fmt.Sprintf("unknown operator %v", c.op))
}

// distance is the condition's element of the order tuple: how far apart
// the pair is in the condition's own unit. It is nil when an operand is
// NULL (only the near miss meets those).
func (c condition) distance(l, r *record) *big.Rat {
	a, b := l.cells[c.left], r.cells[c.right]
	if a == nil || b == nil {
		return nil
	}
	switch c.op {
	case kallav1.Operator_OPERATOR_TOLERANCE, kallav1.Operator_OPERATOR_TOLERANCE_PCT,
		kallav1.Operator_OPERATOR_GT, kallav1.Operator_OPERATOR_LT,
		kallav1.Operator_OPERATOR_GTE, kallav1.Operator_OPERATOR_LTE:
		switch c.family {
		case familyNumber:
			return difference(a, b)
		case familyTime:
			return timeDistance(a, b)
		}
	case kallav1.Operator_OPERATOR_DATE_WITHIN:
		return dayDistance(a, b)
	case kallav1.Operator_OPERATOR_FUZZY:
		return new(big.Rat).Sub(big.NewRat(1, 1), similarity(a.text, b.text))
	}
	return new(big.Rat)
}

// difference is |a - b| of two numbers.
func difference(a, b *value) *big.Rat {
	d := new(big.Rat).Sub(a.num, b.num)
	return d.Abs(d)
}

// timeDistance is |a - b| of two dates or timestamps, in microseconds: a
// comparison ranks a pair by the time between its values, not the days.
func timeDistance(a, b *value) *big.Rat {
	const day = 24 * 60 * 60 * 1_000_000
	d := (a.day-b.day)*day + a.micros - b.micros
	if d < 0 {
		d = -d
	}
	return big.NewRat(d, 1)
}

// dayDistance is the number of whole days between two dates; a timestamp
// counts as its date.
func dayDistance(a, b *value) *big.Rat {
	d := a.day - b.day
	if d < 0 {
		d = -d
	}
	return big.NewRat(d, 1)
}

func foldCase(s string) string {
	return cases.Fold().String(strings.TrimFunc(s, unicode.IsSpace))
}

// similarity is 1 - levenshtein / longer length, over runes; two empty
// strings are identical.
func similarity(a, b string) *big.Rat {
	ra, rb := []rune(a), []rune(b)
	longest := max(len(ra), len(rb))
	if longest == 0 {
		return big.NewRat(1, 1)
	}
	return big.NewRat(int64(longest-levenshtein(ra, rb)), int64(longest))
}

// levenshtein counts the single-rune insertions, deletions and
// substitutions that turn a into b.
func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// compareTuples orders two order tuples element by element; a nil (NULL)
// element sorts after every value.
func compareTuples(a, b []*big.Rat) int {
	for i := range a {
		switch {
		case a[i] == nil && b[i] == nil:
			continue
		case a[i] == nil:
			return 1
		case b[i] == nil:
			return -1
		}
		if c := a[i].Cmp(b[i]); c != 0 {
			return c
		}
	}
	return 0
}
