package reconcile

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
)

// TestOutputError: an output folder the user may not write in is bad input
// naming the folder, not the run's staging folder inside it; any other
// failure to make the staging folder is the machine's.
func TestOutputError(t *testing.T) {
	t.Parallel()
	staging := "/data/out/.kalla-run-123"
	tests := []struct {
		name string
		err  error
		bad  bool
		want string
	}{
		{"permission", &fs.PathError{Op: "mkdir", Path: staging, Err: syscall.EACCES}, true,
			"output: cannot write in /data/out (permission denied); give a folder this user may write to"},
		{"read_only_file_system", &fs.PathError{Op: "mkdir", Path: staging, Err: syscall.EROFS}, true,
			"output: cannot write in /data/out (read-only file system)"},
		{"disk_full", &fs.PathError{Op: "mkdir", Path: staging, Err: syscall.ENOSPC}, false,
			"output: cannot write in /data/out: mkdir /data/out/.kalla-run-123: no space left on device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := outputError("/data/out", tt.err)
			if IsBadInput(err) != tt.bad || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v (bad input: %v), want bad input %v saying %q", err, IsBadInput(err), tt.bad, tt.want)
			}
		})
	}
}

// TestCopyFailure: a workbook's CSV copy that cannot be written (a full
// disk, a temp folder gone) is the machine's failure, not the recipe's.
func TestCopyFailure(t *testing.T) {
	t.Parallel()
	r, err := recipe.Load("../../examples/bank/recipe-workbook.json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = planWith(context.Background(), r, filepath.Join(t.TempDir(), "gone"))
	var copyErr *source.CopyError
	if !errors.As(err, &copyErr) || IsBadInput(err) {
		t.Errorf("err = %v (bad input: %v), want a CopyError that is no bad input", err, IsBadInput(err))
	}
}
