package jobs

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Page sizes of ListRuns and ListRecipes, and of the planner's API: a
// size of 0 means DefaultPageSize, a larger one than MaxPageSize is cut.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageSize is n as a page size: DefaultPageSize for 0 or less, at most
// MaxPageSize.
func PageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// ListRuns returns runs newest first, only those with status when status is
// not empty, and the token of the next page ("" on the last page).
func (s *Store) ListRuns(ctx context.Context, status string, size int, pageToken string) ([]Run, string, error) {
	if status != "" && !isRunStatus(status) {
		return nil, "", fmt.Errorf("list runs: unknown status %q", status)
	}
	size = PageSize(size)
	sql, args, err := listRunsSQL(status, size, pageToken)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) { return scanRun(row) })
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	if len(runs) <= size {
		return runs, "", nil
	}
	last := runs[size-1]
	return runs[:size], encodeToken(strconv.FormatInt(last.CreatedAt.UnixMicro(), 10) + "|" + last.ID), nil
}

func listRunsSQL(status string, size int, pageToken string) (string, []any, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if status != "" {
		where = append(where, "status = "+arg(status))
	}
	if pageToken != "" {
		at, id, err := decodeRunToken(pageToken)
		if err != nil {
			return "", nil, err
		}
		where = append(where, fmt.Sprintf("(created_at, id) < (%s, %s::uuid)", arg(at), arg(id)))
	}
	sql := "SELECT " + runColumns + " FROM runs"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY created_at DESC, id DESC LIMIT " + arg(size+1)
	return sql, args, nil
}

func decodeRunToken(token string) (time.Time, string, error) {
	s, err := decodeToken(token)
	micros, id, ok := strings.Cut(s, "|")
	n, perr := strconv.ParseInt(micros, 10, 64)
	if err != nil || !ok || perr != nil || !validID(id) {
		return time.Time{}, "", fmt.Errorf("%w %q", ErrBadPageToken, token)
	}
	return time.UnixMicro(n), id, nil
}

func isRunStatus(s string) bool {
	switch s {
	case RunQueued, RunStaging, RunExecuting, RunCompleted, RunFailed, RunCancelled:
		return true
	}
	return false
}

// Page tokens are opaque to clients: base64url of the last row's key.
func encodeToken(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeToken(token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return string(b), err
}
