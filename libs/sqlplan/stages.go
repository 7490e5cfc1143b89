package sqlplan

import (
	"math"
	"math/big"

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
	// apart.
	Bound int64
	// Start is the radius of the stage after the one of equal values: a
	// unit, but a second for timestamps, which rarely share a microsecond.
	Start int64
	// Unit and Units measure a radius as Widening's do.
	Unit  *big.Rat
	Units string
	stage func(radius int64) (count, statement string)
}

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

// stages is the rule's Stages, nil where its first condition that ranks
// measures no distance in units (a fuzzy one, whose inUnits fails).
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
	_, _, w, unit, ok := first.inUnits(true)
	if !ok {
		return nil
	}
	freeWay := candidateWay{left: free(Left, "lid"), right: free(Right, "rid"), band: -1, within: -1, offset: true}
	st := &Stages{Bound: math.MaxInt64, Start: max(w, 1), Unit: unit, Units: first.units()}
	if first.bounded() {
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
