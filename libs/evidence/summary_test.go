package evidence_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/evidence"
)

func TestPublish(t *testing.T) {
	t.Parallel()
	t.Run("same_file_system", func(t *testing.T) {
		t.Parallel()
		publishAndCheck(t, t.TempDir())
	})
	t.Run("another_file_system", func(t *testing.T) {
		t.Parallel()
		// /dev/shm is a tmpfs on most Linux machines; where it shares a
		// device with the test's temp dir, the copy path cannot be reached.
		staging, err := os.MkdirTemp("/dev/shm", "kalla-evidence-")
		if err != nil {
			t.Skipf("no /dev/shm: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(staging) })
		if device(t, staging) == device(t, t.TempDir()) {
			t.Skip("/dev/shm is on the same file system as the temp dir")
		}
		publishAndCheck(t, staging)
	})
}

// TestPublishFailure: a publish that fails leaves the earlier outputs as
// they were, with no temporary file and no folder it made.
func TestPublishFailure(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (staging, out string, moves []evidence.Move) {
		staging, out = t.TempDir(), t.TempDir()
		for _, name := range []string{"matched.csv", "unmatched_left.csv", evidence.SummaryFile} {
			os.WriteFile(filepath.Join(staging, name), []byte("new"), 0o644)
			os.WriteFile(filepath.Join(out, name), []byte("old"), 0o644)
			moves = append(moves, evidence.Move{From: filepath.Join(staging, name), To: filepath.Join(out, name)})
		}
		return staging, out, moves
	}
	unchanged := func(t *testing.T, out string) {
		t.Helper()
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(out, e.Name())); e.Type().IsRegular() && (err != nil || string(b) != "old") {
				t.Errorf("%s holds %q, want the earlier output", e.Name(), b)
			}
			if strings.HasPrefix(e.Name(), ".kalla-publish-") {
				t.Errorf("temporary file %s left", e.Name())
			}
		}
	}
	t.Run("a_file_that_cannot_be_brought", func(t *testing.T) {
		t.Parallel()
		_, out, moves := setup(t)
		moves[1].From += ".missing"
		moves[1].To = filepath.Join(out, "new", "deeper", "unmatched_left.csv")
		if err := evidence.Publish(moves, nil); err == nil {
			t.Fatal("Publish succeeded")
		}
		unchanged(t, out)
		if _, err := os.Stat(filepath.Join(out, "new")); !os.IsNotExist(err) {
			t.Errorf("the folder Publish made is left: %v", err)
		}
	})
	t.Run("a_directory_in_the_way", func(t *testing.T) {
		t.Parallel()
		_, out, moves := setup(t)
		os.Remove(moves[1].To)
		os.MkdirAll(filepath.Join(moves[1].To, "x"), 0o755)
		if err := evidence.Publish(moves, nil); err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("err = %v, want the directory named", err)
		}
		unchanged(t, out)
	})
	t.Run("a_stale_directory_is_no_output", func(t *testing.T) {
		t.Parallel()
		_, out, moves := setup(t)
		stale := filepath.Join(out, "matched.parquet")
		os.Mkdir(stale, 0o755)
		if err := evidence.Publish(moves, []string{stale}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(stale); err != nil || !fi.IsDir() {
			t.Errorf("the directory %s was removed: %v", stale, err)
		}
	})
}

// TestPublishTakesTurns: a publish waits while another holds the output
// folder, so two runs into one place never leave a mix of both.
func TestPublishTakesTurns(t *testing.T) {
	t.Parallel()
	staging, out := t.TempDir(), t.TempDir()
	from, to := filepath.Join(staging, evidence.SummaryFile), filepath.Join(out, evidence.SummaryFile)
	os.WriteFile(from, []byte("new"), 0o644)
	os.WriteFile(to, []byte("old"), 0o644)
	other, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- evidence.Publish([]evidence.Move{{From: from, To: to}}, nil) }()
	select {
	case err := <-done:
		t.Fatalf("Publish finished (%v) while another held the folder", err)
	case <-time.After(300 * time.Millisecond):
	}
	if b, _ := os.ReadFile(to); string(b) != "old" {
		t.Errorf("the earlier summary changed while another held the folder: %q", b)
	}
	other.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(to); string(b) != "new" {
		t.Errorf("summary holds %q after its turn, want new", b)
	}
}

// publishAndCheck publishes two files written in staging into a fresh
// directory over older outputs, and checks that the new contents arrived
// and that no temp file or stale output is left beside them.
func publishAndCheck(t *testing.T, staging string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	var moves []evidence.Move
	for _, name := range []string{"matched.csv", evidence.SummaryFile} {
		from, to := filepath.Join(staging, name), filepath.Join(out, name)
		if err := os.WriteFile(from, []byte("new "+name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		moves = append(moves, evidence.Move{From: from, To: to})
	}
	// The other format's evidence of an earlier run goes too.
	stale := filepath.Join(out, "matched.parquet")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := evidence.Publish(moves, []string{stale, filepath.Join(out, "unmatched_left.parquet")}); err != nil {
		t.Fatal(err)
	}
	for _, m := range moves {
		b, err := os.ReadFile(m.To)
		if want := "new " + filepath.Base(m.To); err != nil || string(b) != want {
			t.Errorf("%s holds %q (%v), want %q", m.To, b, err, want)
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(moves) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("output directory holds %v, want only the published files", names)
	}
}

func device(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(st.Dev)
}
