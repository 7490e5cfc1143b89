package duckdb_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestManyToManyChains compares with the oracle M:N groups that are long
// chains, each record within the tolerance of the next on the other side,
// their ids shuffled so that a chain's smallest id sits anywhere in it: the
// labels must reach it whatever the order. Gaps in the amounts cut some
// chains in pieces.
func TestManyToManyChains(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(24, 1))
	ids := rng.Perm(3000)
	left := strings.Builder{}
	right := strings.Builder{}
	left.WriteString("id,ref,amount\n")
	right.WriteString("id,ref,amount\n")
	n := 0
	for _, chain := range []struct {
		ref   string
		steps int
	}{{"A", 700}, {"B", 1}, {"C", 300}, {"D", 2}} {
		ref, amount := chain.ref, 0
		for range chain.steps {
			fmt.Fprintf(&left, "%d,%s,%d\n", ids[n], ref, amount)
			fmt.Fprintf(&right, "%d,%s,%d\n", ids[n], ref, amount+1)
			n++
			amount += 2
			if rng.IntN(100) < 3 {
				amount += 3 // a gap: this record's pair and the next are 4 apart
			}
		}
	}
	r, dir := oracleCase(t, left.String(), right.String(), recipeYAML(`
  - name: chained
    pattern: M:N
    conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 1}]
`))
	want := oracleResult(t, r, dir)
	longest := 0
	for _, g := range want.Groups {
		longest = max(longest, len(g.Left)+len(g.Right))
	}
	if longest < 100 {
		t.Fatalf("the longest chain has %d records: the data do not test long chains", longest)
	}
	compare(t, r, engineResult(t, r), want)
}
