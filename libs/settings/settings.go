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
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		r.errs = append(r.errs, fmt.Errorf("%s=%q: want a positive whole number", name, v))
		return def
	}
	return n
}

// Duration returns a Go duration such as "30s" or its default.
func (r *Reader) Duration(name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		r.errs = append(r.errs, fmt.Errorf("%s=%q: want a duration such as 30s or 2h", name, v))
		return def
	}
	return d
}

// Fail records a problem found by the caller's own checks.
func (r *Reader) Fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// Err returns every problem found, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }
