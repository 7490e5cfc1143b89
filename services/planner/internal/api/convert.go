package api

import (
	"encoding/json"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/jobs"
)

var runStatuses = map[string]kallav1.RunStatus{
	jobs.RunQueued:    kallav1.RunStatus_RUN_STATUS_QUEUED,
	jobs.RunStaging:   kallav1.RunStatus_RUN_STATUS_STAGING,
	jobs.RunExecuting: kallav1.RunStatus_RUN_STATUS_EXECUTING,
	jobs.RunCompleted: kallav1.RunStatus_RUN_STATUS_COMPLETED,
	jobs.RunFailed:    kallav1.RunStatus_RUN_STATUS_FAILED,
	jobs.RunCancelled: kallav1.RunStatus_RUN_STATUS_CANCELLED,
}

// statusName is the store's spelling of a status enum; "" for unspecified.
func statusName(s kallav1.RunStatus) string {
	for name, v := range runStatuses {
		if v == s {
			return name
		}
	}
	return ""
}

// ended reports whether a run will not change any more.
func ended(status string) bool {
	return status == jobs.RunCompleted || status == jobs.RunFailed || status == jobs.RunCancelled
}

// toProto maps a run record to the API's Run. Stored JSON that cannot be
// read is left out rather than failing the call.
func toProto(r jobs.Run) *kallav1.Run {
	out := &kallav1.Run{
		RunId:    r.ID,
		RecipeId: r.RecipeID,
		Status:   runStatuses[r.Status],
		Progress: &kallav1.Progress{
			Phase:        r.Phase,
			ChunksStaged: int32(r.ChunksStaged),
			ChunksTotal:  int32(r.ChunksTotal),
			RowsStaged:   r.RowsStaged,
		},
		Error:      r.Error,
		BadInput:   r.BadInput,
		CreatedAt:  timestamp(r.CreatedAt),
		UpdatedAt:  timestamp(r.UpdatedAt),
		FinishedAt: timestamp(r.FinishedAt),
	}
	if len(r.Summary) > 0 {
		var s evidence.Summary
		if json.Unmarshal(r.Summary, &s) == nil {
			out.Summary = summaryProto(&s)
		}
	}
	if u, ok := evidenceURIs(r); ok {
		out.Evidence = &kallav1.Evidence{
			MatchedUri:        u.Matched,
			UnmatchedLeftUri:  u.UnmatchedLeft,
			UnmatchedRightUri: u.UnmatchedRight,
			SummaryUri:        u.Summary,
		}
	}
	return out
}

// evidenceURIs reads the run's stored evidence locations.
func evidenceURIs(r jobs.Run) (evidence.URIs, bool) {
	var u evidence.URIs
	if len(r.Evidence) == 0 || json.Unmarshal(r.Evidence, &u) != nil {
		return u, false
	}
	return u, u != evidence.URIs{}
}

func summaryProto(s *evidence.Summary) *kallav1.Summary {
	side := func(x evidence.SideSummary) *kallav1.SideSummary {
		out := &kallav1.SideSummary{Alias: x.Alias, Rows: x.Rows, Matched: x.Matched, Unmatched: x.Unmatched, FilteredOut: x.FilteredOut, Sheet: x.Sheet}
		for _, t := range x.Totals {
			out.Totals = append(out.Totals, &kallav1.TotalSummary{
				Column: t.Column, By: t.By, Value: t.Value, Records: t.Records, MatchedRecords: t.MatchedRecords,
				UnmatchedRecords: t.UnmatchedRecords, Empty: t.Empty, Total: t.Total, Matched: t.Matched, Unmatched: t.Unmatched,
			})
		}
		for _, f := range x.Files {
			out.Files = append(out.Files, &kallav1.FileSummary{Name: f.Name, Rows: f.Rows})
		}
		return out
	}
	out := &kallav1.Summary{
		RecipeId:    s.RecipeID,
		Engine:      s.Engine,
		Left:        side(s.Left),
		Right:       side(s.Right),
		MatchGroups: s.MatchGroups,
		TimingsMs: &kallav1.Timings{
			Load: s.TimingsMS.Load, Match: s.TimingsMS.Match, Write: s.TimingsMS.Write, Total: s.TimingsMS.Total,
		},
	}
	for _, r := range s.Rules {
		rule := &kallav1.RuleSummary{
			Name: r.Name, Pattern: r.Pattern, Groups: r.Groups, LeftMatched: r.LeftMatched, RightMatched: r.RightMatched,
		}
		for _, t := range r.Totals {
			rule.Totals = append(rule.Totals, &kallav1.RuleTotal{
				Side: t.Side, Column: t.Column, By: t.By, Value: t.Value, Records: t.Records, Empty: t.Empty, Total: t.Total,
			})
		}
		out.Rules = append(out.Rules, rule)
	}
	return out
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
