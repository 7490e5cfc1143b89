// Package settings reads a service's configuration from KALLA_* environment
// variables; a missing or malformed value is an error naming the variable.
package settings

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Reader collects every problem, so a service reports all of them at once.
type Reader struct {
	errs []error
}

// Required returns a variable that must be set.
func (r *Reader) Required(name string) string {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		r.errs = append(r.errs, fmt.Errorf("%s is required", name))
	}
	return v
}

// String returns a variable or its default.
func (r *Reader) String(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Int returns a positive whole number or its default.
func (r *Reader) Int(name string, def int) int {
	return parse(r, name, def, "a positive whole number", func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n > 0
	})
}

// Duration returns a Go duration such as "30s" or its default.
func (r *Reader) Duration(name string, def time.Duration) time.Duration {
	return parse(r, name, def, "a duration such as 30s or 2h", func(v string) (time.Duration, bool) {
		d, err := time.ParseDuration(v)
		return d, err == nil && d > 0
	})
}

// parse reads a variable as String does (trimmed; blank is unset) and
// converts it with conv; a value conv refuses is recorded as an error that
// says what is wanted, and the default stands.
func parse[T any](r *Reader, name string, def T, want string, conv func(string) (T, bool)) T {
	v := r.String(name, "")
	if v == "" {
		return def
	}
	x, ok := conv(v)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("%s=%q: want %s", name, v, want))
		return def
	}
	return x
}

// Fail records a problem found by the caller's own checks.
func (r *Reader) Fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// Err returns every problem found, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }
