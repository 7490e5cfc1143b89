package oracle_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/reconcile/oracle"
)

func TestRandomCaseIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	ra, err := oracle.RandomCase(42, a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := oracle.RandomCase(42, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"left.csv", "right.csv"} {
		if !bytes.Equal(readFile(t, filepath.Join(a, name)), readFile(t, filepath.Join(b, name))) {
			t.Errorf("%s differs between two runs of seed 42", name)
		}
	}
	if len(ra.GetMatchRules()) != len(rb.GetMatchRules()) {
		t.Fatal("rules differ between two runs of seed 42")
	}
	for i := range ra.GetMatchRules() {
		if !proto.Equal(ra.GetMatchRules()[i], rb.GetMatchRules()[i]) {
			t.Errorf("rule %d differs between two runs of seed 42", i)
		}
	}
	if want := "file://" + filepath.Join(a, "left.csv"); ra.GetSources().GetLeft().GetUri() != want {
		t.Errorf("left uri = %q, want %q", ra.GetSources().GetLeft().GetUri(), want)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRandomCasesReconcile checks that generated cases are valid input and
// that every record ends up exactly once in a group or unmatched; it also
// checks the generator reaches every pattern with matches and misses, and
// writes timestamps in some cases.
func TestRandomCasesReconcile(t *testing.T) {
	matchedBy := map[string]int{}
	unmatchedTotal, timed := 0, 0
	for seed := range int64(300) {
		dir := t.TempDir()
		r, err := oracle.RandomCase(seed, dir)
		if err != nil {
			t.Fatal(err)
		}
		left, right := readTable(t, dir, "left.csv"), readTable(t, dir, "right.csv")
		res, err := oracle.Reconcile(r, left, right)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		// Every record read is matched, unmatched or left out by a filter.
		checkPartition(t, seed, res, len(left.Rows)-int(res.LeftFilteredOut), len(right.Rows)-int(res.RightFilteredOut))
		for _, rc := range res.Rules {
			if rc.Groups > 0 {
				matchedBy[rc.Pattern+aggregateTag(r, rc.Name)]++
			}
		}
		unmatchedTotal += len(res.UnmatchedLeft) + len(res.UnmatchedRight)
		if booked := slices.Index(left.Columns, "booked"); booked >= 0 && left.Rows[0][booked] != nil && strings.Contains(*left.Rows[0][booked], ":") {
			timed++
		}
	}
	if timed == 0 {
		t.Error("no random case wrote timestamps")
	}
	for _, p := range []string{"1:1", "1:N", "1:N+agg", "M:1", "M:1+agg", "M:N"} {
		if matchedBy[p] == 0 {
			t.Errorf("no random case matched anything with %s", p)
		}
	}
	if unmatchedTotal == 0 {
		t.Error("no random case left anything unmatched")
	}
	t.Logf("rules with matches by pattern: %v; unmatched records: %d", matchedBy, unmatchedTotal)
}

func aggregateTag(r *kallav1.Recipe, rule string) string {
	for _, mr := range r.GetMatchRules() {
		if mr.GetName() == rule && mr.GetAggregate() != nil {
			return "+agg"
		}
	}
	return ""
}

func readTable(t *testing.T, dir, name string) oracle.Table {
	t.Helper()
	tab, err := oracle.ReadCSV(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func checkPartition(t *testing.T, seed int64, res oracle.Result, nLeft, nRight int) {
	t.Helper()
	seenLeft, seenRight := map[string]int{}, map[string]int{}
	for i, g := range res.Groups {
		if g.MatchID != int64(i+1) || len(g.Left) == 0 || len(g.Right) == 0 {
			t.Errorf("seed %d: bad group %+v at %d", seed, g, i)
		}
		for _, k := range g.Left {
			seenLeft[k]++
		}
		for _, k := range g.Right {
			seenRight[k]++
		}
	}
	for _, u := range res.UnmatchedLeft {
		seenLeft[u.Key]++
	}
	for _, u := range res.UnmatchedRight {
		seenRight[u.Key]++
	}
	if len(seenLeft) != nLeft || len(seenRight) != nRight {
		t.Errorf("seed %d: %d left and %d right keys accounted for, want %d and %d", seed, len(seenLeft), len(seenRight), nLeft, nRight)
	}
	for k, n := range seenLeft {
		if n != 1 {
			t.Errorf("seed %d: left key %q appears %d times", seed, k, n)
		}
	}
	for k, n := range seenRight {
		if n != 1 {
			t.Errorf("seed %d: right key %q appears %d times", seed, k, n)
		}
	}
}

// TestRandomCaseScaled: a scaled case has scale times the records of its
// seed's case (its rules, drawn after the records, are others).
func TestRandomCaseScaled(t *testing.T) {
	t.Parallel()
	for seed := int64(1); seed <= 20; seed++ {
		one, ten := t.TempDir(), t.TempDir()
		if _, err := oracle.RandomCase(seed, one); err != nil {
			t.Fatal(err)
		}
		if _, err := oracle.RandomCaseScaled(seed, ten, 10); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"left.csv", "right.csv"} {
			records := func(dir string) int { return bytes.Count(readFile(t, filepath.Join(dir, name)), []byte("\n")) - 1 }
			if got, want := records(ten), 10*records(one); got != want {
				t.Errorf("seed %d: %s has %d records at scale 10, want %d", seed, name, got, want)
			}
		}
	}
}
