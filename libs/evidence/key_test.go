package evidence_test

import (
	"testing"

	"github.com/kallahq/kalla/libs/evidence"
)

func TestKeyText(t *testing.T) {
	t.Parallel()
	for want, parts := range map[string][]string{
		`a|b`:      {"a|b"}, // one column: as it is
		`a\|b|c`:   {"a|b", "c"},
		`a|b\|c`:   {"a", "b|c"},
		`a\\|\|`:   {`a\`, "|"},
		`INV-1|42`: {"INV-1", "42"},
	} {
		if got := evidence.KeyText(parts); got != want {
			t.Errorf("KeyText(%q) = %q, want %q", parts, got, want)
		}
	}
}
