// Package oracle is a deliberately plain, in-memory reference implementation
// of Kalla's reconciliation semantics. Tests compare the real SQL engine
// against it, so it favours code that is obviously right over speed: nested
// loops, exact big.Rat arithmetic and explicit sorting. Inputs are small.
package oracle

import (
	"fmt"
	"math/big"
	"sort"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/recipe"
)

// Result is everything a reconciliation decides.
type Result struct {
	Groups         []Group // in match-id order, MatchID 1..n
	UnmatchedLeft  []Unmatched
	UnmatchedRight []Unmatched // both in key order
	Rules          []RuleCount // in execution order
	// LeftTotals and RightTotals are the sums the sources' totals ask for.
	LeftTotals, RightTotals []Total
	// LeftFilteredOut and RightFilteredOut count the records the sources'
	// filters left out.
	LeftFilteredOut, RightFilteredOut int64
	// RuleTotals are the totals over the records each rule matched, in
	// execution order.
	RuleTotals []RuleTotals
}

// RuleTotals are the sides' totals over the records one rule matched (a
// Total's Records, Empty and Total; its matched fields are the same).
type RuleTotals struct {
	Rule        string
	Left, Right []Total
}

// Group is one match: the keys of its members, each list in key order.
type Group struct {
	MatchID     int64
	Rule        string
	Left, Right []string
}

// Unmatched is a record in no group, with its nearest miss if it has one.
type Unmatched struct {
	Key      string
	NearMiss *NearMiss
}

// NearMiss names the rule and the record of the other side that came
// closest to matching, and how many of the rule's non-key conditions failed.
type NearMiss struct {
	Rule     string
	OtherKey string
	Failed   int
}

// RuleCount says how much one rule matched.
type RuleCount struct {
	Name, Pattern                     string
	Groups, LeftMatched, RightMatched int64
}

// rule is a recipe rule bound to the columns of both sides.
type rule struct {
	name       string
	pattern    kallav1.Pattern
	conditions []condition
	aggregate  *aggregate
}

// aggregate checks |single value - sum of the many values| <= tolerance.
type aggregate struct {
	left, right int // column indexes
	tolerance   *big.Rat
}

// group is one match while reconciling.
type group struct {
	rule        string
	left, right []*record
}

// Reconcile matches the records of two tables by a recipe's rules.
func Reconcile(r *kallav1.Recipe, left, right Table) (Result, error) {
	if err := recipe.Validate(r); err != nil {
		return Result{}, err
	}
	src := r.GetSources()
	l, err := newSide(src.GetLeft().GetAlias(), left)
	if err != nil {
		return Result{}, err
	}
	rt, err := newSide(src.GetRight().GetAlias(), right)
	if err != nil {
		return Result{}, err
	}
	tallies := make([]tally, 2)
	for i, s := range []struct {
		side *side
		src  *kallav1.Source
	}{{l, src.GetLeft()}, {rt, src.GetRight()}} {
		// Derived from the values as written; reverse_sign, last, turns
		// what rules compare.
		if err := s.side.extract(s.src.GetExtract()); err != nil {
			return Result{}, err
		}
		if err := s.side.net(s.src.GetNet()); err != nil {
			return Result{}, err
		}
		if err := s.side.signed(s.src.GetSigned()); err != nil {
			return Result{}, err
		}
		// The filter, keys and totals read the values as written.
		if err := s.side.filter(s.src.GetFilter()); err != nil {
			return Result{}, err
		}
		if err := s.side.keyRecords(s.src.GetPrimaryKey()); err != nil {
			return Result{}, err
		}
		if tallies[i], err = s.side.tally(s.src.GetTotals()); err != nil {
			return Result{}, err
		}
		if err := s.side.reverseSigns(s.src.GetReverseSign()); err != nil {
			return Result{}, err
		}
	}
	rules, err := bindRules(r, l, rt)
	if err != nil {
		return Result{}, err
	}
	var res Result
	var groups []group
	for _, ru := range rules {
		found := ru.match(l, rt)
		groups = append(groups, found...)
		res.Rules = append(res.Rules, count(ru, found))
		var lm, rm []*record
		for _, g := range found {
			lm, rm = append(lm, g.left...), append(rm, g.right...)
		}
		res.RuleTotals = append(res.RuleTotals, RuleTotals{Rule: ru.name, Left: tallies[0].lines(distinct(lm)), Right: tallies[1].lines(distinct(rm))})
	}
	for i, g := range groups {
		res.Groups = append(res.Groups, Group{MatchID: int64(i + 1), Rule: g.rule, Left: keys(g.left), Right: keys(g.right)})
	}
	res.UnmatchedLeft = unmatched(rules, l, rt, true)
	res.UnmatchedRight = unmatched(rules, rt, l, false)
	res.LeftTotals, res.RightTotals = tallies[0].lines(l.records), tallies[1].lines(rt.records)
	res.LeftFilteredOut, res.RightFilteredOut = int64(len(left.Rows)-len(l.records)), int64(len(right.Rows)-len(rt.records))
	return res, nil
}

// bindRules binds every rule and puts them in execution order: ascending
// priority, ties in the order written.
func bindRules(r *kallav1.Recipe, l, rt *side) ([]rule, error) {
	var rules []rule
	var priorities []int32
	for _, mr := range r.GetMatchRules() {
		ru, err := bindRule(mr, l, rt)
		if err != nil {
			return nil, err
		}
		rules = append(rules, ru)
		priorities = append(priorities, mr.GetPriority())
	}
	order := make([]int, len(rules))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return priorities[order[i]] < priorities[order[j]] })
	sorted := make([]rule, len(rules))
	for i, o := range order {
		sorted[i] = rules[o]
	}
	return sorted, nil
}

func bindRule(mr *kallav1.MatchRule, l, rt *side) (rule, error) {
	ru := rule{name: mr.GetName(), pattern: mr.GetPattern()}
	for _, c := range mr.GetConditions() {
		bound, err := bindCondition(ru.name, c, l, rt)
		if err != nil {
			return rule{}, err
		}
		ru.conditions = append(ru.conditions, bound)
	}
	if a := mr.GetAggregate(); a != nil {
		agg, err := bindAggregate(ru.name, a, l, rt)
		if err != nil {
			return rule{}, err
		}
		ru.aggregate = agg
	}
	return ru, nil
}

func bindAggregate(name string, a *kallav1.Aggregate, l, rt *side) (*aggregate, error) {
	li, err := l.column(a.GetLeft())
	if err != nil {
		return nil, fmt.Errorf("rule %q: aggregate: %w", name, err)
	}
	ri, err := rt.column(a.GetRight())
	if err != nil {
		return nil, fmt.Errorf("rule %q: aggregate: %w", name, err)
	}
	lt, rtt := l.types[li], rt.types[ri]
	if lt.kind.family() != familyNumber || rtt.kind.family() != familyNumber {
		return nil, fmt.Errorf("rule %q: aggregate needs numbers, not %s.%s (%s) and %s.%s (%s)",
			name, l.alias, a.GetLeft(), lt, rt.alias, a.GetRight(), rtt)
	}
	tol, _ := recipe.Rat(a.GetTolerance()) // Validate checked it
	return &aggregate{left: li, right: ri, tolerance: tol}, nil
}

func count(ru rule, groups []group) RuleCount {
	rc := RuleCount{Name: ru.name, Pattern: recipe.PatternName(ru.pattern), Groups: int64(len(groups))}
	for _, g := range groups {
		rc.LeftMatched += int64(len(g.left))
		rc.RightMatched += int64(len(g.right))
	}
	return rc
}

func keys(records []*record) []string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = r.keyText
	}
	return out
}
