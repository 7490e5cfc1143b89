package source

import (
	"os"
	"testing"
	"time"
)

func TestZZTime(t *testing.T) {
	for _, p := range []string{os.Getenv("P1"), os.Getenv("P2")} {
		start := time.Now()
		s, err := CSVSchema(p)
		t.Logf("%s %v rows=%d err=%v", p, time.Since(start), s.Rows, err)
	}
}
