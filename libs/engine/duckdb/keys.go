package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/sqlplan"
)

// checkKey refuses a side whose keys are NULL or not unique, naming
// examples; the cheap pass over the stored order says whether there is
// anything to name. A side stored as read whose records were not all in key
// order is sorted first (sorted reports that it was). read is the query
// load read the side with.
func checkKey(ctx context.Context, s *session, table string, in plan.Input, read string, order sqlplan.Order) (sorted bool, err error) {
	q := sqlplan.KeyOrderBreaks(table, in)
	if q == "" {
		return false, nil
	}
	breaks, err := s.int64(ctx, q)
	if err == nil && breaks > 0 && order == sqlplan.ReadOrder {
		if err := s.exec(ctx, sqlplan.SortLoaded(table, in)); err != nil {
			return false, err
		}
		sorted = true
		breaks, err = s.int64(ctx, q)
	}
	if err != nil || breaks == 0 {
		return sorted, err
	}
	return sorted, keyProblems(ctx, s, in, table, read, breaks)
}

// keyProblems is the error of a side whose keys broke their order breaks
// times: bad input naming keys that repeat or are empty and, in a file,
// where their records are; else the engine's fault.
func keyProblems(ctx context.Context, s *session, in plan.Input, table, read string, breaks int64) error {
	keys, counts, err := keyExamples(ctx, s, in, table)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		// Unique keys out of order: the numbering is wrong, not the input.
		return fmt.Errorf("duckdb: %s was not stored in key order (%d records out of place)", in.Alias, breaks)
	}
	places := keyPlaces(ctx, s, table, in, read, keys)
	// A directory's parts are named with their records; a file by its base
	// name, which the recipe gives (the pipeline's executor reads a copy).
	parts := len(in.Schema.Files) > 0 && in.Schema.Files[0] != in.Ref.Path
	examples := make([]string, len(keys))
	for i, k := range keys {
		rows := source.RowCount(counts[i])
		if p := places[k]; p != nil {
			rows += ": " + p.text(counts[i], parts)
		}
		examples[i] = fmt.Sprintf("%s (%s)", k, rows)
	}
	names := make([]string, len(in.Key))
	for i, c := range in.Key {
		names[i] = c.Name
	}
	where := ""
	if len(places) > 0 && !parts {
		where = " in " + filepath.Base(in.Ref.Path)
	}
	return engine.BadInput("%s: the primary key (%s) must be unique and not empty%s; for example: %s",
		in.Alias, strings.Join(names, ", "), where, strings.Join(examples, ", "))
}

// keyExamples are up to five keys at fault, as KeyProblems shows them, and
// how many records have each.
func keyExamples(ctx context.Context, s *session, in plan.Input, table string) (keys []string, counts []int64, err error) {
	rows, err := s.conn.QueryContext(ctx, sqlplan.KeyProblems(table, in))
	if err != nil {
		return nil, nil, fmt.Errorf("duckdb: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var n int64
		if err := rows.Scan(&key, &n); err != nil {
			return nil, nil, err
		}
		keys, counts = append(keys, key), append(counts, n)
	}
	return keys, counts, rows.Err()
}

// keyPlace is where a key's first records are in a side's file: the line
// each starts on (CSV; a workbook sheet's row), or the file and the
// record's number in it (Parquet).
type keyPlace struct {
	lines   []int
	line    string // what lines count: "line" or "row"
	files   []string
	records []int64
}

// keyPlaces finds, for a side read from a file, where each key's first
// records are (sqlplan.KeyPlaces); nil for another source, or where they
// cannot be found, which leaves the error without them rather than hide it.
func keyPlaces(ctx context.Context, s *session, table string, in plan.Input, read string, keys []string) map[string]*keyPlace {
	store, query := sqlplan.KeyPlaces(table, in, read, keys)
	if store == "" || s.exec(ctx, store) != nil {
		return nil
	}
	places, err := scanPlaces(ctx, s, query)
	if err == nil && in.Ref.Format == source.FormatCSV {
		err = addLines(places, in)
	}
	if err != nil || in.Schema.Unchanged() != nil {
		return nil // read again, the file may not be the one loaded
	}
	return places
}

// scanPlaces reads KeyPlaces' query by key.
func scanPlaces(ctx context.Context, s *session, query string) (map[string]*keyPlace, error) {
	rows, err := s.conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	places := map[string]*keyPlace{}
	for rows.Next() {
		var key string
		var file sql.NullString
		var record int64
		if err := rows.Scan(&key, &file, &record); err != nil {
			return nil, err
		}
		p := places[key]
		if p == nil {
			p = &keyPlace{}
			places[key] = p
		}
		p.files, p.records = append(p.files, file.String), append(p.records, record)
	}
	return places, rows.Err()
}

// addLines sets the line each CSV record of places starts on and, where a
// pattern names the side's files, its file.
func addLines(places map[string]*keyPlace, in plan.Input) error {
	parts := in.Schema.CSVParts(in.Ref.Path)
	wanted := make([][]int64, len(parts))
	for _, p := range places {
		for _, r := range p.records {
			i, n := partRecord(parts, r)
			wanted[i] = append(wanted[i], n)
		}
	}
	lines := make([]map[int64]int, len(parts))
	for i, records := range wanted {
		if len(records) == 0 {
			continue
		}
		var err error
		if lines[i], err = source.CSVLines(parts[i].Path, parts[i].Layout, records); err != nil {
			return err
		}
	}
	for _, p := range places {
		for j, r := range p.records {
			i, n := partRecord(parts, r)
			p.lines, p.line = append(p.lines, lines[i][n]), source.LineWord(parts[i].Path)
			if len(in.Schema.Parts) > 0 {
				p.files[j] = in.Schema.Files[i] // a sheet's is [book.xlsx]sheet
			}
		}
	}
	return nil
}

// partRecord is the part that the side's record r (from 1, counting
// through the parts in turn) is in, and its number there.
func partRecord(parts []source.CSVPart, r int64) (int, int64) {
	for i, p := range parts[:len(parts)-1] {
		if r <= p.Rows {
			return i, r
		}
		r -= p.Rows
	}
	return len(parts) - 1, r
}

// text renders the places of a key's n records: "lines 5 and 41",
// "records 2, 7, 9 and 4 more", or in parts "records 1 and 2 of
// part-0.parquet and record 3 of part-1.parquet" ("line 5 of
// 2024-01-02.csv" where a pattern names CSV files).
func (p *keyPlace) text(n int64, parts bool) string {
	more := n - int64(len(p.records))
	noun, places := "record", numbers(p.records)
	if p.lines != nil {
		noun, places = p.line, numbers(p.lines)
	}
	if !parts {
		return listed(noun, places, more)
	}
	var groups []string
	for i := 0; i < len(places); {
		j := i
		for j < len(places) && p.files[j] == p.files[i] {
			j++
		}
		groups = append(groups, listed(noun, places[i:j], 0)+" of "+filepath.Base(p.files[i]))
		i = j
	}
	return listed("", groups, more)
}

func numbers[N int | int64](ns []N) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprint(n)
	}
	return out
}

// listed lists items after noun, plural for more than one, and says how
// many more there are: "lines 5 and 41", "line 5 and 1 more".
func listed(noun string, items []string, more int64) string {
	if noun != "" {
		if len(items) > 1 {
			noun += "s"
		}
		noun += " "
	}
	if more > 0 {
		return fmt.Sprintf("%s%s and %d more", noun, strings.Join(items, ", "), more)
	}
	last := len(items) - 1
	if last == 0 {
		return noun + items[0]
	}
	return fmt.Sprintf("%s%s and %s", noun, strings.Join(items[:last], ", "), items[last])
}
