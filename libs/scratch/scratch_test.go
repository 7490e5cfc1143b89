package scratch_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/kallahq/kalla/libs/scratch"
)

const prefix = "kalla-test-"

// TestMain lets the test binary play a run that makes a scratch folder and
// is then killed: with SCRATCH_HOLD_IN set it makes one there, prints its
// path and waits.
func TestMain(m *testing.M) {
	if parent := os.Getenv("SCRATCH_HOLD_IN"); parent != "" {
		h, err := scratch.Mkdir(parent, prefix)
		if err != nil {
			os.Exit(3)
		}
		os.WriteFile(filepath.Join(h.Path, "spill.tmp"), []byte("x"), 0o644)
		os.Stdout.WriteString(h.Path + "\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSweep(t *testing.T) {
	t.Parallel()

	t.Run("killed_process", func(t *testing.T) {
		t.Parallel()
		parent := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SCRATCH_HOLD_IN="+parent)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			t.Fatalf("the holding process printed no path: %v", err)
		}
		dir := line[:len(line)-1]
		if got := scratch.Sweep(parent, prefix, 0); len(got) != 0 {
			t.Errorf("swept %v while its process lived", got)
		}
		cmd.Process.Kill()
		cmd.Wait()
		if got := scratch.Sweep(parent, prefix, 0); !slices.Equal(got, []string{dir}) {
			t.Errorf("swept %v after its process was killed, want [%s]", got, dir)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", dir, err)
		}
	})

	t.Run("held_here_is_spared", func(t *testing.T) {
		t.Parallel()
		parent := t.TempDir()
		h, err := scratch.Mkdir(parent, prefix)
		if err != nil {
			t.Fatal(err)
		}
		defer h.RemoveAll()
		if got := scratch.Sweep(parent, prefix, 0); len(got) != 0 {
			t.Errorf("swept %v, held by this process", got)
		}
	})

	t.Run("held_file_keeps_its_lock_when_renamed", func(t *testing.T) {
		t.Parallel()
		parent := t.TempDir()
		h, err := scratch.CreateTemp(parent, "elsewhere-")
		if err != nil {
			t.Fatal(err)
		}
		defer h.Release()
		if err := os.Rename(h.Path, filepath.Join(parent, prefix+"7")); err != nil {
			t.Fatal(err)
		}
		if got := scratch.Sweep(parent, prefix, 0); len(got) != 0 {
			t.Errorf("swept %v, held under its old name", got)
		}
	})

	t.Run("released_is_swept", func(t *testing.T) {
		t.Parallel()
		parent := t.TempDir()
		h, err := scratch.Mkdir(parent, prefix)
		if err != nil {
			t.Fatal(err)
		}
		h.Release()
		file := filepath.Join(parent, prefix+"123")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		got := scratch.Sweep(parent, prefix, 0)
		slices.Sort(got)
		want := []string{file, h.Path}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("swept %v, want %v", got, want)
		}
	})

	t.Run("recent_is_spared", func(t *testing.T) {
		t.Parallel()
		parent := t.TempDir()
		if err := os.Mkdir(filepath.Join(parent, prefix+"new"), 0o755); err != nil {
			t.Fatal(err)
		}
		if got := scratch.Sweep(parent, prefix, scratch.Grace); len(got) != 0 {
			t.Errorf("swept %v, made just now", got)
		}
	})

	t.Run("other_names_links_and_fifos_are_left", func(t *testing.T) {
		t.Parallel()
		parent, elsewhere := t.TempDir(), t.TempDir()
		// A user's folder that only starts like Kalla's names.
		for _, name := range []string{"kalla-keep", prefix + "notes", prefix} {
			if err := os.Mkdir(filepath.Join(parent, name), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(elsewhere, filepath.Join(parent, prefix+"1")); err != nil {
			t.Fatal(err)
		}
		// Opening a FIFO would wait for a writer, forever.
		if err := syscall.Mkfifo(filepath.Join(parent, prefix+"2"), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := scratch.Sweep(parent, prefix, 0); len(got) != 0 {
			t.Errorf("swept %v", got)
		}
		if _, err := os.Stat(elsewhere); err != nil {
			t.Errorf("the link's target: %v", err)
		}
	})
}
