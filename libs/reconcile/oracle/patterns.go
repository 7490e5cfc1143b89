package oracle

import (
	"fmt"
	"math/big"
	"sort"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// candidate is a pair of free records that satisfies every condition of a
// rule, with its order tuple.
type candidate struct {
	l, r  *record
	tuple []*big.Rat
}

// before is the total order of candidates: tuple, left key, right key.
func before(a, b candidate) bool {
	if c := compareTuples(a.tuple, b.tuple); c != 0 {
		return c < 0
	}
	if a.l.rank != b.l.rank {
		return a.l.rank < b.l.rank
	}
	return a.r.rank < b.r.rank
}

func (ru rule) tuple(l, r *record) []*big.Rat {
	t := make([]*big.Rat, len(ru.conditions))
	for i, c := range ru.conditions {
		t[i] = c.distance(l, r)
	}
	return t
}

// candidates lists every pair of free records satisfying all conditions,
// sorted in candidate order.
func (ru rule) candidates(l, r *side) []candidate {
	var out []candidate
	for _, a := range l.records {
		for _, b := range r.records {
			if !a.matched && !b.matched && ru.holdsAll(a, b) {
				out = append(out, candidate{l: a, r: b, tuple: ru.tuple(a, b)})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return before(out[i], out[j]) })
	return out
}

func (ru rule) holdsAll(l, r *record) bool {
	for _, c := range ru.conditions {
		if !c.holds(l, r) {
			return false
		}
	}
	return true
}

// match runs one rule over the free records, marks the records it matches
// and returns its groups ordered by their smallest left key.
func (ru rule) match(l, r *side) []group {
	cands := ru.candidates(l, r)
	var groups []group
	switch ru.pattern {
	case kallav1.Pattern_PATTERN_ONE_TO_ONE:
		groups = oneToOne(cands)
	case kallav1.Pattern_PATTERN_ONE_TO_MANY:
		groups = ru.fan(cands, true)
	case kallav1.Pattern_PATTERN_MANY_TO_ONE:
		groups = ru.fan(cands, false)
	case kallav1.Pattern_PATTERN_MANY_TO_MANY:
		groups = components(cands)
	default:
		panic(fmt.Sprintf("unknown pattern %v", ru.pattern))
	}
	for i := range groups {
		groups[i].rule = ru.name
		sortByKey(groups[i].left)
		sortByKey(groups[i].right)
		for _, m := range append(append([]*record{}, groups[i].left...), groups[i].right...) {
			m.matched = true
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].left[0].rank < groups[j].left[0].rank })
	return groups
}

// oneToOne accepts candidates greedily in order, each record at most once.
func oneToOne(cands []candidate) []group {
	used := map[*record]bool{}
	var groups []group
	for _, c := range cands {
		if used[c.l] || used[c.r] {
			continue
		}
		used[c.l], used[c.r] = true, true
		groups = append(groups, group{left: []*record{c.l}, right: []*record{c.r}})
	}
	return groups
}

// fan handles 1:N (oneLeft) and its mirror M:1. Each record of the "many"
// side picks its best partner on the "one" side; the first candidate in
// candidate order that holds a record is its best, because within one
// record the order is tuple, then the partner's key. Groups failing the
// aggregate check match nothing.
func (ru rule) fan(cands []candidate, oneLeft bool) []group {
	picked := map[*record]bool{}
	members := map[*record][]*record{}
	var hubs []*record
	for _, c := range cands {
		hub, many := c.l, c.r
		if !oneLeft {
			hub, many = c.r, c.l
		}
		if picked[many] {
			continue
		}
		picked[many] = true
		if members[hub] == nil {
			hubs = append(hubs, hub)
		}
		members[hub] = append(members[hub], many)
	}
	var groups []group
	for _, hub := range hubs {
		if !ru.aggregateHolds(hub, members[hub], oneLeft) {
			continue
		}
		g := group{left: []*record{hub}, right: members[hub]}
		if !oneLeft {
			g = group{left: members[hub], right: []*record{hub}}
		}
		groups = append(groups, g)
	}
	return groups
}

// aggregateHolds checks |hub value - sum of member values| <= tolerance;
// any NULL fails it. Without an aggregate every group holds.
func (ru rule) aggregateHolds(hub *record, many []*record, oneLeft bool) bool {
	a := ru.aggregate
	if a == nil {
		return true
	}
	hubCol, manyCol := a.left, a.right
	if !oneLeft {
		hubCol, manyCol = a.right, a.left
	}
	single := hub.cells[hubCol]
	if single == nil {
		return false
	}
	sum := new(big.Rat)
	for _, m := range many {
		v := m.cells[manyCol]
		if v == nil {
			return false
		}
		sum.Add(sum, v.num)
	}
	diff := new(big.Rat).Sub(single.num, sum)
	return diff.Abs(diff).Cmp(a.tolerance) <= 0
}

// components groups the records linked by candidate pairs (M:N).
func components(cands []candidate) []group {
	links := map[*record][]*record{}
	isLeft := map[*record]bool{}
	for _, c := range cands {
		links[c.l] = append(links[c.l], c.r)
		links[c.r] = append(links[c.r], c.l)
		isLeft[c.l] = true
	}
	seen := map[*record]bool{}
	var groups []group
	for _, c := range cands {
		if seen[c.l] {
			continue
		}
		var g group
		for _, x := range reach(c.l, links, seen) {
			if isLeft[x] {
				g.left = append(g.left, x)
			} else {
				g.right = append(g.right, x)
			}
		}
		groups = append(groups, g)
	}
	return groups
}

// reach returns every record linked to start, directly or not, marking
// them seen.
func reach(start *record, links map[*record][]*record, seen map[*record]bool) []*record {
	seen[start] = true
	out := []*record{start}
	for i := 0; i < len(out); i++ {
		for _, y := range links[out[i]] {
			if !seen[y] {
				seen[y] = true
				out = append(out, y)
			}
		}
	}
	return out
}

func sortByKey(records []*record) {
	sort.Slice(records, func(i, j int) bool { return records[i].rank < records[j].rank })
}
