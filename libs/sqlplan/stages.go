package sqlplan

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/plan"
)

// Stages take a 1:1 rule's candidates a distance at a time, where the
// first condition that ranks pairs measures a distance in whole units (a
// number, a date or a timestamp: see cond.inUnits). The greedy walk takes
// pairs in the total order, whose first element is that distance: the
// pairs at most R apart come first, so the pairs a walk over them alone
// takes are the walk's, and the walk's next pairs are those of the records
// left that are closest. A stage of radius R takes the pairs of the free
// records at most R apart; after it, no two free records are within R, so
// the next stage, of radius WidenBy x R, finds those next pairs. Where keys
// are coarse, a loose rule (currency keys, amount gte paid_amount, amount
// within 5: a thousand candidates an invoice on the 1M bench book, about
// a billion in all) so never makes its candidates all at once, and each
// stage compares few pairs: the records left by a stage are far apart.
type Stages struct {
	// Rest are the ways to make the candidates of the free records at
	// once, each the count of the pairs it compares and the statement:
	// Rest[0] by keys alone, each next also in the bands of a condition
	// that bands, in the order written. The engine takes the way of the
	// fewest pairs: the first condition that bands, which Banded takes,
	// may be far looser than another (30 days against a cent).
	Rest [][2]string
	// Bound is the radius from which a stage would keep every pair the
	// rule's conditions pass: a tolerance's or date_within's threshold in
	// units; math.MaxInt64 for a condition passing values however far
	// apart; 0 where the first condition that ranks measures no distance
	// in units (a fuzzy one): no stage then runs but Equal's.
	Bound int64
	// Start is the radius of the stage after the one of equal values: a
	// unit, but a second for timestamps, which rarely share a microsecond.
	Start int64
	// Equal, where every condition of the rule ranks a pair 0 exactly
	// where its values are equal (see equalPairs), makes the candidates of
	// the free records equal in every condition: the first pairs of the
	// order, taken before the stages. "" for other rules.
	Equal string
	// Unit and Units measure a radius as Widening's do.
	Unit  *big.Rat
	Units string
	stage func(radius int64) (count, statement string)
}

// AheadShare bounds a step ahead of a larger one that it may spare (a
// stage ahead of the candidates of the free records at once; a round of
// near misses ahead of Widening's Passing): where the larger compares
// many pairs (the engine's aheadFrom), it runs where it compares at most
// 1/AheadShare of the pairs the larger would. One that settles
// nothing so costs at most half of the larger more; one that settles its
// records leaves the larger far fewer pairs. At 1/4, under currency keys
// with 100 amounts a currency (190,000 invoices against 155,000 payments,
// within 2% and on or after the payment's day), the stage of the same
// value (18 million pairs of 67 million) did not run, and the candidates
// at once took 21 s; the stage takes 7 s and leaves 0.5 million.
const AheadShare = 2

// Next is the radius of the stage after one of radius R: Start after 0,
// else as Widening's rounds grow (see Next); ok is false where it would
// overflow.
func (s *Stages) Next(radius int64) (next int64, ok bool) {
	if radius == 0 {
		return s.Start, true
	}
	return Next(radius)
}

// PairsTaken counts the pairs taken so far, by every rule.
const PairsTaken = "SELECT count(*) FROM " + Pairs

// Stage is the count of the pairs a stage of radius R units compares, and
// the statement making its candidates.
func (s *Stages) Stage(radius int64) (count, statement string) { return s.stage(radius) }

// Distance is a radius as the condition's values write it (see
// Widening.Distance).
func (s *Stages) Distance(radius int64) string { return distance(radius, s.Unit, s.Units) }

// stages is the rule's Stages, nil where no condition ranks, or where the
// first that does measures no distance in units (a fuzzy one, whose
// inUnits fails) and the rule has no Equal.
func stages(r plan.Rule) *Stages {
	var first *cond
	for _, c := range r.Conditions {
		if sc := newCond(c, "l", "r"); !c.Join() && sc.Cost() != "" {
			first = &sc
			break
		}
	}
	if first == nil {
		return nil
	}
	_, _, w, unit, inUnits := first.inUnits(true)
	freeWay := candidateWay{left: free(Left, "lid"), right: free(Right, "rid"), band: -1, within: -1}
	equal := equalPairs(r, freeWay.left, freeWay.right)
	if !inUnits && equal == "" {
		return nil
	}
	st := &Stages{Bound: math.MaxInt64, Start: max(w, 1), Unit: unit, Units: first.units(), Equal: equal}
	switch {
	case !inUnits:
		st.Bound = 0 // a fuzzy first: the equal pairs, then the rest
	case first.bounded():
		st.Bound, st.Start = w, 1
	}
	for _, band := range append([]int{-1}, banding(r)...) {
		way := freeWay
		way.band = band
		statement, count := candidatesOf(r, way)
		st.Rest = append(st.Rest, [2]string{count, statement})
	}
	st.stage = func(radius int64) (string, string) {
		way := freeWay
		way.within = radius
		statement, count := candidatesOf(r, way)
		return count, statement
	}
	return st
}

// equalPairs makes the candidates of a 1:1 rule that rank 0 in every
// condition, where those are the pairs equal in every condition (see
// cond.equal); "" where a condition is not so. They come first in the
// order, and they fall in blocks: the records sharing their values, each
// left record of a block with each right one, all ranked alike. The greedy
// walk pairs a block's records in key order, the n-th left record with the
// n-th right one, so the statement numbers each side's records within
// their block and joins on the number: a block of a thousand records a
// side is a thousand pairs, not a million. Each of their costs is 0 (see
// oneToOne), and each record is in one pair.
func equalPairs(r plan.Rule, left, right string) string {
	b, ok := equalBlocks(r)
	if !ok {
		return ""
	}
	numbered := func(records string) string {
		return fmt.Sprintf("(SELECT *, row_number() OVER (PARTITION BY %s ORDER BY id) AS __n FROM %s)", b.by(), records)
	}
	cols := []string{"l.id AS lid", "r.id AS rid"}
	for _, c := range costs(r) {
		cols = append(cols, "0 AS "+c)
	}
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT %s FROM %s l JOIN %s r ON %s AND l.__n = r.__n",
		Candidates, strings.Join(cols, ", "), numbered(b.records(left, "l", b.left)), numbered(b.records(right, "r", b.right)), b.on)
}

// blockPairs makes the candidates of a rule of join keys alone, whose
// records sharing keys (a block) all tie, without making every pair of a
// block: a block of a thousand records a side makes about a thousand
// pairs, not a million. 1:1 takes the equal pairs (see equalPairs), all of
// its candidates here. 1:N gives each right record the block's
// first left record in key order, its best (M:1 the mirror). M:N matches
// every pair of a block, one group: a star of pairs (each right record
// with the block's first left one, each left record with its first right
// one) links the same records into the same group, and the evidence lists
// a group's members, not its pairs.
func blockPairs(r plan.Rule, left, right string, pattern kallav1.Pattern) string {
	if pattern == kallav1.Pattern_PATTERN_ONE_TO_ONE {
		return equalPairs(r, left, right)
	}
	b, _ := equalBlocks(r) // a join key always is
	first := func(records string) string {
		return fmt.Sprintf("(SELECT min(id) AS id, %[1]s FROM %[2]s GROUP BY %[1]s)", b.by(), records)
	}
	join := func(l, r string) string {
		return fmt.Sprintf("SELECT l.id AS lid, r.id AS rid FROM %s l JOIN %s r ON %s", l, r, b.on)
	}
	l, rt := b.records(left, "l", b.left), b.records(right, "r", b.right)
	var pairs string
	switch pattern {
	case kallav1.Pattern_PATTERN_ONE_TO_MANY:
		pairs = join(first(l), rt)
	case kallav1.Pattern_PATTERN_MANY_TO_ONE:
		pairs = join(l, first(rt))
	default:
		pairs = join(first(l), rt) + " UNION " + join(l, first(rt))
	}
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT lid, rid, row_number() OVER (ORDER BY lid, rid) AS ord FROM (%s)", Candidates, pairs)
}

// blocks are the values a rule's pairs equal in every condition share
// (see cond.equal): each side's, named e<i> for the rule's i-th condition
// (names), and on, which joins a left record's to a right one's.
type blocks struct {
	left, right, names []string
	on                 string
}

// equalBlocks is the rule's blocks; ok is false where a condition ranks
// 0 pairs that are not equal, or fails some that are (see cond.equal).
func equalBlocks(r plan.Rule) (b blocks, ok bool) {
	var on []string
	for i, c := range r.Conditions {
		l, rt, equal := newCond(c, "l", "r").equal()
		if !equal {
			return blocks{}, false
		}
		name := fmt.Sprintf("e%d", i)
		b.left, b.right = append(b.left, l+" AS "+name), append(b.right, rt+" AS "+name)
		b.names, on = append(b.names, name), append(on, fmt.Sprintf("l.%[1]s = r.%[1]s", name))
	}
	b.on = strings.Join(on, " AND ")
	return b, true
}

// by lists the block's values, to partition or group by.
func (b blocks) by() string { return strings.Join(b.names, ", ") }

// records is table's records (aliased alias) with values, one of each
// side's (b.left for "l", b.right for "r"): their id and their values. A
// NULL value is equal to none: its record is in no block.
func (b blocks) records(table, alias string, values []string) string {
	return fmt.Sprintf("(SELECT * FROM (SELECT %[2]s.__id AS id, %[3]s FROM %[1]s %[2]s) WHERE %[4]s IS NOT NULL)",
		table, alias, strings.Join(values, ", "), strings.Join(b.names, " IS NOT NULL AND "))
}
