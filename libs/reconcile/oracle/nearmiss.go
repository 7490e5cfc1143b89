package oracle

import (
	"math/big"

	"github.com/kallahq/kalla/libs/recipe"
)

// unmatched lists the records of own that no rule matched, in key order,
// each with its near miss among the records of other.
func unmatched(rules []rule, own, other *side, ownIsLeft bool) []Unmatched {
	var out []Unmatched
	for _, x := range own.records {
		if !x.matched {
			out = append(out, Unmatched{Key: x.keyText, NearMiss: nearMiss(rules, x, other, ownIsLeft)})
		}
	}
	return out
}

// miss is one pair the near miss considers, with what it is ranked by.
type miss struct {
	rule   int // execution index
	other  *record
	failed int
	tuple  []*big.Rat
}

// closer ranks misses: fewest failed conditions, earliest rule, order
// tuple, then the other record's key.
func closer(a, b miss) bool {
	if a.failed != b.failed {
		return a.failed < b.failed
	}
	if a.rule != b.rule {
		return a.rule < b.rule
	}
	if c := compareTuples(a.tuple, b.tuple); c != 0 {
		return c < 0
	}
	return a.other.rank < b.other.rank
}

// nearMiss finds, over every rule and every record of the other side
// (matched or not) that agrees with x on all the rule's eq and eq_ci
// conditions, the pair that came closest; nil when there is none.
func nearMiss(rules []rule, x *record, other *side, xIsLeft bool) *NearMiss {
	var best *miss
	for i, ru := range rules {
		for _, y := range other.records {
			l, r := x, y
			if !xIsLeft {
				l, r = y, x
			}
			m, ok := ru.miss(l, r)
			if !ok {
				continue
			}
			m.rule, m.other = i, y
			if best == nil || closer(m, *best) {
				best = &m
			}
		}
	}
	if best == nil {
		return nil
	}
	return &NearMiss{Rule: rules[best.rule].name, OtherKey: best.other.keyText, Failed: best.failed}
}

// miss counts the rule's failed non-key conditions for a pair; ok is false
// when a key condition (eq, eq_ci) fails.
func (ru rule) miss(l, r *record) (miss, bool) {
	m := miss{tuple: ru.tuple(l, r)}
	for _, c := range ru.conditions {
		holds := c.holds(l, r)
		if recipe.IsJoinKey(c.op) && !holds {
			return miss{}, false
		}
		if !holds {
			m.failed++
		}
	}
	return m, true
}
