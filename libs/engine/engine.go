// Package engine is what runs a plan. Engines (engine/duckdb on one
// machine, engine/ballista on a cluster) implement Engine; nothing outside
// them knows which one runs.
package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kallahq/kalla/libs/plan"
)

// ErrBadInput marks failures caused by the user's input (a duplicated key, a
// malformed file) rather than by the system.
var ErrBadInput = errors.New("bad input")

// BadInput returns an error wrapping ErrBadInput.
func BadInput(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadInput, fmt.Sprintf(format, args...))
}

// MarkBadInput returns err marked as caused by the user's input
// (errors.Is(err, ErrBadInput)), its message unchanged.
func MarkBadInput(err error) error {
	if err == nil || errors.Is(err, ErrBadInput) {
		return err
	}
	return badInput{err}
}

type badInput struct{ error }

func (b badInput) Is(target error) bool { return target == ErrBadInput }
func (b badInput) Unwrap() error        { return b.error }

// Format is the file format of evidence.
type Format string

const (
	Parquet Format = "parquet"
	CSV     Format = "csv"
	// XLSX is written from the engine's Parquet by the caller (see
	// libs/xlsx): no engine is asked for it.
	XLSX Format = "xlsx"
)

// Formats are the evidence formats, for messages and checks.
var Formats = []Format{Parquet, CSV, XLSX}

// Evidence file names, without the format's extension.
const (
	MatchedFile        = "matched"
	UnmatchedLeftFile  = "unmatched_left"
	UnmatchedRightFile = "unmatched_right"
)

// EvidenceFiles are the evidence file names in their order: matched,
// unmatched left, unmatched right.
var EvidenceFiles = []string{MatchedFile, UnmatchedLeftFile, UnmatchedRightFile}

// File is the name of the evidence file name written in format f:
// matched.parquet.
func (f Format) File(name string) string { return name + "." + string(f) }

// Output says where an engine writes evidence: a local directory that the
// caller then publishes.
type Output struct {
	Dir    string
	Format Format
}

// Result is what a run counted.
type Result struct {
	// LeftRows and RightRows count the records reconciled: those the
	// sources' filters kept. LeftFilteredOut and RightFilteredOut count
	// those they left out.
	LeftRows, RightRows               int64
	LeftFilteredOut, RightFilteredOut int64
	// Rules are in execution order.
	Rules []RuleCounts
	// LeftTotals and RightTotals are the sides' plan.Totals, in order, a
	// Sums per value of a total's by column.
	LeftTotals, RightTotals [][]Sums
	// RuleTotals break the totals' matched sums down by the rule that
	// matched the records.
	RuleTotals []RuleSums
	Timings    Timings
}

// RuleSums is one total over the records of one side that one rule
// matched, with one value of the total's by column (or all of them).
type RuleSums struct {
	// Rule is the rule's place in execution order; Side is "left" or
	// "right"; Total is the total's place among the side's.
	Rule    int
	Side    string
	Total   int
	Value   *string
	Records int64
	Empty   int64
	Sum     string
}

// Sums is one total over the records with one value of its by column, or
// over all records. The sums are exact decimals as text, at the column's
// scale.
type Sums struct {
	// Value is the by column's value as text; nil for an empty value and
	// for a total without by.
	Value                          *string
	Records, MatchedRecords, Empty int64
	Total, Matched, Unmatched      string
}

// RuleCounts is what one rule matched.
type RuleCounts struct {
	Groups, LeftMatched, RightMatched int64
}

// Timings of the phases of a run.
type Timings struct {
	Load, Match, Write time.Duration
}

// Phase names a step of a run, for progress displays.
type Phase string

const (
	// PhaseRead is reading the sources' schemas (a CSV's types, from all
	// its values), before the engine starts.
	PhaseRead  Phase = "read"
	PhaseLoad  Phase = "load"
	PhaseMatch Phase = "match"
	PhaseWrite Phase = "write"
)

// Progress is reported between steps.
type Progress struct {
	Phase  Phase
	Detail string
}

// Engine runs plans.
type Engine interface {
	// Name is the engine's name in summaries, such as "duckdb".
	Name() string
	// Reconcile runs the plan and writes matched, unmatched_left and
	// unmatched_right files into out.Dir.
	Reconcile(ctx context.Context, p *plan.Plan, out Output, progress func(Progress)) (*Result, error)
}
