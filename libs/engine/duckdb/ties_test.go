package duckdb_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestOneToOneTies compares with the oracle 1:1 rules over records that
// tie in blocks: few references, few amounts, so that many pairs have the
// same costs, some blocks whole (each left record with each right one),
// some broken by a pair as cheap to a record outside. A round takes a pair
// of such a block at a time; the rounds alone, the walk after the first and
// the engine's own choice must all come out as the oracle's greedy walk.
func TestOneToOneTies(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 60; seed++ {
		t.Run(fmt.Sprintf("seed_%d", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 24))
			amounts := []string{"10.00", "10.01", "10.02", "10.03", "10.04", "10.06"}
			var left, right strings.Builder
			left.WriteString("id,ref,amount,day\n")
			right.WriteString("id,ref,amount,day\n")
			refs := 1 + rng.IntN(4)
			ids := rng.Perm(400)
			n := 0
			row := func(b *strings.Builder) {
				fmt.Fprintf(b, "%d,R%d,%s,2024-01-0%d\n", ids[n], rng.IntN(refs), amounts[rng.IntN(1+rng.IntN(len(amounts)))], 1+rng.IntN(4))
				n++
			}
			for range 20 + rng.IntN(150) {
				row(&left)
			}
			for range 20 + rng.IntN(150) {
				row(&right)
			}
			rule := `
  - name: tied
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.02}]
`
			if seed%3 == 0 { // costs of two elements, pairs of a reference no longer alike
				rule = `
  - name: tied
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.02}, {left: day, op: date_within, right: day, threshold: 1}]
`
			}
			if seed%4 == 0 { // no cost at all: every pair of a reference ties
				rule = `
  - name: tied
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}]
`
			}
			r, dir := oracleCase(t, left.String(), right.String(), recipeYAML(rule))
			compareEachWay(t, r, oracleResult(t, r, dir), append(slices.Clone(walks), fineWay, firstChoicesWay))
		})
	}
}

// TestOneToOnePaths compares with the oracle 1:1 rules whose pairs form
// long paths: each invoice within the tolerance of the payment below it
// and the one above. With the amounts tied (every pair 1 apart) and the
// ids in the path's order, each record's first choice is taken by the one
// before, and a round takes one pair of a path; shuffled ids or amounts
// jittered by up to 0.30 break the paths into shorter runs.
func TestOneToOnePaths(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name             string
		shuffled, jitter bool
	}{{"tied_in_order", false, false}, {"tied_shuffled", true, false}, {"jittered_shuffled", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(25, 1))
			ids := rng.Perm(1000)
			if !tt.shuffled {
				slices.Sort(ids)
			}
			var left, right strings.Builder
			left.WriteString("id,ref,amount\n")
			right.WriteString("id,ref,amount\n")
			n := 0
			cents := func() int {
				if tt.jitter {
					return rng.IntN(31)
				}
				return 0
			}
			for ref, steps := range []int{300, 1, 200, 2, 120} {
				for k := range steps {
					fmt.Fprintf(&left, "%d,R%d,%d.%02d\n", ids[n], ref, 2*k, cents())
					fmt.Fprintf(&right, "%d,R%d,%d.%02d\n", ids[n], ref, 2*k+1, cents())
					n++
				}
			}
			r, dir := oracleCase(t, left.String(), right.String(), recipeYAML(`
  - name: path
    pattern: "1:1"
    conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 1.3}]
`))
			compareEachWay(t, r, oracleResult(t, r, dir), append(slices.Clone(walks), fineWay, firstChoicesWay))
		})
	}
}

// TestOneToOneTiedPairs: records tied at cost 0 (a rule of eq and contains
// only), each left record's tags naming the right records it pairs with,
// so any set of pairs can be written. The greedy walk then takes pairs in
// key order, derived here by hand. l0 and r9 come first and take the first
// round; each case but the first is not quite a block of ties (each left
// record with each right one), and taking it as one would pair the records
// wrongly.
func TestOneToOneTiedPairs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tags map[int]string // left id: right ids
		want []string
	}{
		{"a_whole_block", map[int]string{1: "9 10 11", 3: "10 11", 5: "10 11"},
			[]string{"t: l0 r9", "t: l1 r10", "t: l3 r11"}},
		// r11 is also tied with l2, which comes before l3.
		{"a_right_record_tied_outside", map[int]string{1: "9 10 11", 2: "11", 3: "10 11"},
			[]string{"t: l0 r9", "t: l1 r10", "t: l2 r11"}},
		// l2 is also tied with r11, which comes before r12.
		{"a_left_record_tied_outside", map[int]string{1: "9 10 12", 2: "10 11 12"},
			[]string{"t: l0 r9", "t: l1 r10", "t: l2 r11"}},
		// l3 and r11 are no pair: the block has 8 pairs of 9, and l3
		// takes r12 before l5 could.
		{"a_pair_missing", map[int]string{1: "9 10 11 12", 3: "10 12 13", 4: "11", 5: "10 11 12"},
			[]string{"t: l0 r9", "t: l1 r10", "t: l3 r12", "t: l4 r11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Tags are written " r9 r10 ", so that " r1 " is not in it.
			left := "id,g,tags\n0,G, r9 \n"
			rights := map[string]bool{"9": true}
			for _, id := range []int{1, 2, 3, 4, 5} {
				if tags, ok := tt.tags[id]; ok {
					left += fmt.Sprintf("%d,G, r%s \n", id, strings.ReplaceAll(tags, " ", " r"))
					for _, r := range strings.Fields(tags) {
						rights[r] = true
					}
				}
			}
			right := "id,g,tag\n"
			for _, r := range []string{"9", "10", "11", "12", "13"} {
				if rights[r] {
					right += fmt.Sprintf("%s,G, r%s \n", r, r)
				}
			}
			r, _ := oracleCase(t, left, right, recipeYAML(`
  - name: t
    pattern: "1:1"
    conditions: [{left: g, op: eq, right: g}, {left: tags, op: contains, right: tag}]
`))
			for _, walk := range append(slices.Clone(walks), fineWay, firstChoicesWay) {
				if got := engineResult(t, r, walk.set).pairs(); !slices.Equal(got, tt.want) {
					t.Errorf("%s: pairs = %v, want %v", walk.name, got, tt.want)
				}
			}
		})
	}
}
