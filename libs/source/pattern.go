package source

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Pattern says whether path names several files by a pattern: a file name
// holding *, which stands for any run of characters, none included, as a
// month of daily exports is named by statement-2024-01-*.csv. Only * is
// special: ?, [ and \ are themselves, as file names hold them. A file
// whose own name holds * is read as itself.
func Pattern(path string) bool {
	if !strings.Contains(filepath.Base(path), "*") {
		return false
	}
	_, err := os.Lstat(path)
	return err != nil
}

// checkPattern refuses a pattern (a path, or an object's URI) Kalla cannot
// read its files by: one with * in a directory's name, or whose files would
// not all be of one kind (the kind its ending says, as a file's does).
func checkPattern(path string) error {
	if !strings.Contains(path, "*") {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return nil // a file or directory of that very name
	}
	if dir := path[:max(strings.LastIndex(path, "/"), 0)]; strings.Contains(dir, "*") {
		return fmt.Errorf("* may stand only in the file name, not in a directory's (%s)", dir)
	}
	if FileExt(path) == "" {
		return fmt.Errorf("the pattern %s must end in %s, so that every file it names is read alike", filepath.Base(path), allowedExts)
	}
	return nil
}

// patternFiles lists the files pattern names, in the byte order of their
// names: the order their records are numbered in. A name beginning with a
// dot (an editor's or a download's hidden file) is named only by a pattern
// beginning with one, as a shell has it.
func patternFiles(pattern string) ([]string, error) {
	dir := filepath.Dir(pattern)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err // names the directory
	}
	var files []string
	for _, e := range entries { // sorted by name
		path := filepath.Join(dir, e.Name())
		if !e.IsDir() && PatternMatches(pattern, path) {
			files = append(files, path)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no file in %s matches %s", dir, filepath.Base(pattern))
	}
	return files, nil
}

// PatternMatches says whether pattern names the file at path. It reads
// nothing from the disk: a caller lists a folder's files through it.
func PatternMatches(pattern, path string) bool {
	if filepath.Clean(filepath.Dir(pattern)) != filepath.Clean(filepath.Dir(path)) {
		return false
	}
	glob, name := filepath.Base(pattern), filepath.Base(path)
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(glob, ".") {
		return false
	}
	if strings.HasPrefix(name, "~$") && !strings.HasPrefix(glob, "~") {
		return false // the lock file Excel keeps beside a workbook it has open
	}
	return globMatches(glob, name)
}

// globMatches says whether glob, where * stands for any run of
// characters, matches name.
func globMatches(glob, name string) bool {
	if !strings.Contains(glob, "*") {
		return glob == name
	}
	parts := strings.Split(glob, "*")
	first, last := parts[0], parts[len(parts)-1]
	if len(name) < len(first)+len(last) || !strings.HasPrefix(name, first) || !strings.HasSuffix(name, last) {
		return false
	}
	rest := name[len(first) : len(name)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		// The leftmost place leaves the most room to the parts after it.
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}
