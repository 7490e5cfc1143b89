package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/gen/kalla/v1/kallav1connect"
	"github.com/kallahq/kalla/libs/evidence"
)

// pageWalk is what services/web/e2e/run.mjs saw on the page.
type pageWalk struct {
	Unauthenticated string            `json:"unauthenticated"`
	Invalid         []string          `json:"invalid"`
	Valid           string            `json:"valid"`
	ExplainedRules  []string          `json:"explainedRules"`
	RunID           string            `json:"runId"`
	Status          string            `json:"status"`
	Fields          map[string]string `json:"fields"`
	Downloads       []string          `json:"downloads"`
	SummaryDownload struct {
		Status int             `json:"status"`
		JSON   json.RawMessage `json:"json"`
	} `json:"summaryDownload"`
	UnmatchedLeftRows int      `json:"unmatchedLeftRows"`
	NearMiss          string   `json:"nearMiss"`
	Listed            []string `json:"listed"`
	CancelledRunID    string   `json:"cancelledRunId"`
	LivePhase         string   `json:"livePhase"`
	Cancelled         string   `json:"cancelled"`
}

// TestWebPage walks the page in real headless Chromium against the real
// services: upload the example recipe, watch the run complete, compare the
// page's numbers with summary.json, open a near miss, cancel a long run.
func TestWebPage(t *testing.T) {
	t.Parallel()
	chromium := browserFor(t)
	s := startSystem(t)
	url := s.startPlanner()
	s.start("reaper", "reaper")
	s.start("stager", "stager")
	s.start("executor", "executor")

	recipePath := absoluteSources(t, example(t))
	longPath := absoluteSources(t, writeLedger(t, 600_000))
	artifacts := artifactsDir(t)
	// A screenshot left by an earlier run must not pass for this one's.
	if err := os.Remove(filepath.Join(artifacts, "run-page.png")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	walk := runPageWalk(t, chromium, url, artifacts, map[string]string{
		"RECIPE_FILE":      recipePath,
		"LONG_RECIPE_FILE": longPath,
		"NEAR_MISS_KEY":    "INV-2024-006",
	})

	client := kallav1connect.NewRunServiceClient(http.DefaultClient, url)
	run := getRun(t, client, walk.RunID)
	var sum evidence.Summary
	if err := json.Unmarshal(walk.SummaryDownload.JSON, &sum); err != nil || walk.SummaryDownload.Status != http.StatusOK {
		t.Fatalf("summary.json through the page's link: status %d, %v: %s", walk.SummaryDownload.Status, err, walk.SummaryDownload.JSON)
	}

	t.Run("asks_for_a_token", func(t *testing.T) {
		if !strings.Contains(walk.Unauthenticated, "token") {
			t.Errorf("before the token the page said %q", walk.Unauthenticated)
		}
	})
	t.Run("validates_and_explains", func(t *testing.T) {
		if len(walk.Invalid) != 1 || !strings.HasPrefix(walk.Invalid[0], "match_rules[0].conditions[0].right") ||
			!strings.Contains(walk.Invalid[0], "payment_ref") {
			t.Errorf("a missing column is shown as %q", walk.Invalid)
		}
		if walk.Valid == "" || strings.Join(walk.ExplainedRules, ",") != "Rule id_and_amount_match,Rule split_payments" {
			t.Errorf("valid %q, explained %q", walk.Valid, walk.ExplainedRules)
		}
	})
	t.Run("numbers_equal_summary_json", func(t *testing.T) {
		if run.GetStatus() != kallav1.RunStatus_RUN_STATUS_COMPLETED || walk.Status != "completed" {
			t.Fatalf("run %s, page says %q", run.GetStatus(), walk.Status)
		}
		want := summaryFields(sum)
		for k, v := range want {
			if walk.Fields[k] != v {
				t.Errorf("%s: page shows %q, summary.json says %q", k, walk.Fields[k], v)
			}
		}
		if len(walk.Fields) != len(want) {
			t.Errorf("page fields %v; want %v", walk.Fields, want)
		}
		if sum.Left.Rows != 15 || sum.MatchGroups != run.GetSummary().GetMatchGroups() {
			t.Errorf("summary.json %+v; GetRun %v", sum, run.GetSummary())
		}
	})
	t.Run("evidence_links", func(t *testing.T) {
		want := []string{"matched.parquet", "unmatched_left.parquet", "unmatched_right.parquet", "summary.json", "matched.xlsx", "unmatched_left.xlsx", "unmatched_right.xlsx"}
		if !slices.Equal(walk.Downloads, want) {
			t.Errorf("download links %q, want %q", walk.Downloads, want)
		}
	})
	t.Run("near_miss", func(t *testing.T) {
		rec := unmatchedRecord(t, client, walk.RunID, "INV-2024-006")
		nm := rec.GetNearMiss()
		if walk.UnmatchedLeftRows != 1 || nm.GetRule() == "" ||
			!strings.Contains(walk.NearMiss, nm.GetReason()) || !strings.Contains(walk.NearMiss, "under rule "+nm.GetRule()) ||
			!strings.Contains(walk.NearMiss, nm.GetOtherKey()) {
			t.Errorf("page: %d rows, near miss %q; API: %v", walk.UnmatchedLeftRows, walk.NearMiss, nm)
		}
	})
	t.Run("runs_list", func(t *testing.T) {
		want := []string{walk.RunID, "completed", sum.RecipeID}
		if len(walk.Listed) != 7 || strings.Join(walk.Listed[:3], "|") != strings.Join(want, "|") ||
			walk.Listed[5] != pageRate(sum.Left.Matched, sum.Left.Rows) || walk.Listed[6] != pageRate(sum.Right.Matched, sum.Right.Rows) {
			t.Errorf("runs list row %q", walk.Listed)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		cancelled := getRun(t, client, walk.CancelledRunID)
		if walk.LivePhase == "" || walk.LivePhase == "done" {
			t.Errorf("while it ran the page showed phase %q", walk.LivePhase)
		}
		if walk.Cancelled != "The run was cancelled" || cancelled.GetStatus() != kallav1.RunStatus_RUN_STATUS_CANCELLED {
			t.Errorf("page %q, run %s", walk.Cancelled, cancelled.GetStatus())
		}
	})
	t.Run("screenshot", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(artifacts, "run-page.png"))
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("run-page.png: %v", err)
		}
	})
}

// summaryFields is what the page should show for a summary, by data-field,
// computed here without the page's code.
func summaryFields(s evidence.Summary) map[string]string {
	f := map[string]string{"match-groups": fmt.Sprint(s.MatchGroups)}
	for side, v := range map[string]evidence.SideSummary{"left": s.Left, "right": s.Right} {
		f[side+"-rows"] = fmt.Sprint(v.Rows)
		f[side+"-matched"] = fmt.Sprint(v.Matched)
		f[side+"-unmatched"] = fmt.Sprint(v.Unmatched)
		f[side+"-rate"] = pageRate(v.Matched, v.Rows)
	}
	for _, r := range s.Rules {
		f[r.Name+".groups"] = fmt.Sprint(r.Groups)
		f[r.Name+".left-matched"] = fmt.Sprint(r.LeftMatched)
		f[r.Name+".right-matched"] = fmt.Sprint(r.RightMatched)
	}
	// Totals rows are named "alias/column, by value", a rule's
	// "rule/side/column, by value".
	for _, v := range []evidence.SideSummary{s.Left, s.Right} {
		for _, t := range v.Totals {
			row := v.Alias + "/" + pageTotalName(t.Column, t.By, t.Value)
			f[row+".records"] = fmt.Sprint(t.Records)
			f[row+".empty"] = fmt.Sprint(t.Empty)
			f[row+".total"], f[row+".matched"], f[row+".unmatched"] = t.Total, t.Matched, t.Unmatched
		}
	}
	for _, r := range s.Rules {
		for _, t := range r.Totals {
			row := r.Name + "/" + t.Side + "/" + pageTotalName(t.Column, t.By, t.Value)
			f[row+".records"], f[row+".total"] = fmt.Sprint(t.Records), t.Total
		}
	}
	return f
}

// pageTotalName is a total as the page names it: "column" or "column, by
// value", an empty value "(empty)" (the example's values need no quotes).
func pageTotalName(column, by string, value *string) string {
	if by == "" {
		return column
	}
	v := "(empty)"
	if value != nil {
		v = *value
	}
	return column + ", " + by + " " + v
}

// pageRate is the matched share to a tenth of a percent, half up: 8 of 15 is "53.3%".
func pageRate(matched, rows int64) string {
	tenths := (matched*1000 + rows/2) / rows
	return fmt.Sprintf("%d.%d%%", tenths/10, tenths%10)
}

// browserFor finds Chromium and the built page; without them the test is
// skipped on a workstation and fails in CI, where make test installs them.
func browserFor(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		if os.Getenv("CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("no Chromium at %s (apt-get install chromium, or set CHROMIUM): %v", chromium, err)
	}
	for _, p := range []string{"../../node_modules/playwright-core", "../planner/internal/webui/dist/index.html"} {
		if _, err := os.Stat(p); err != nil {
			missing("%s is missing: run `make web` first (npm ci and the web build)", p)
		}
	}
	return chromium
}

// absoluteSources rewrites a recipe's relative file:// URIs to absolute
// ones: a recipe pasted or uploaded into the page has no folder of its own.
func absoluteSources(t *testing.T, path string) string {
	t.Helper()
	text := string(readFile(t, path))
	text = strings.ReplaceAll(text, "file://", "file://"+filepath.Dir(path)+"/")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// artifactsDir is where the walk's screenshot is kept after the test:
// $KALLA_ARTIFACTS_DIR, or out/test-artifacts at the repository's root.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KALLA_ARTIFACTS_DIR")
	if dir == "" {
		dir = "../../out/test-artifacts"
	}
	dir, _ = filepath.Abs(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runPageWalk(t *testing.T, chromium, url, artifacts string, env map[string]string) pageWalk {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "services/web/e2e/run.mjs")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "KALLA_URL="+url, "KALLA_TOKEN="+apiToken, "CHROMIUM="+chromium, "ARTIFACTS_DIR="+artifacts)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the page walk failed: %v\n%s", err, tail(stderr.String(), 6000))
	}
	var walk pageWalk
	if err := json.Unmarshal(stdout.Bytes(), &walk); err != nil {
		t.Fatalf("page walk printed %q: %v", stdout.String(), err)
	}
	return walk
}

func getRun(t *testing.T, client kallav1connect.RunServiceClient, id string) *kallav1.Run {
	t.Helper()
	req := connect.NewRequest(&kallav1.GetRunRequest{RunId: id})
	req.Header().Set("Authorization", "Bearer "+apiToken)
	res, err := client.GetRun(context.Background(), req)
	if err != nil {
		t.Fatalf("GetRun %q: %v", id, err)
	}
	return res.Msg.GetRun()
}

func unmatchedRecord(t *testing.T, client kallav1connect.RunServiceClient, runID, key string) *kallav1.UnmatchedRecord {
	t.Helper()
	req := connect.NewRequest(&kallav1.ListUnmatchedRequest{RunId: runID, Side: kallav1.Side_SIDE_LEFT, Key: key})
	req.Header().Set("Authorization", "Bearer "+apiToken)
	res, err := client.ListUnmatched(context.Background(), req)
	if err != nil || len(res.Msg.GetRecords()) != 1 {
		t.Fatalf("ListUnmatched %q: %v %v", key, err, res)
	}
	return res.Msg.GetRecords()[0]
}
