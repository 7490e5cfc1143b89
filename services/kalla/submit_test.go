package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/gen/kalla/v1/kallav1connect"
	"github.com/kallahq/kalla/libs/recipe"
)

const testToken = "s3cret"

// runAPI is a small stand-in for the planner's RunService: it checks what
// kalla submit sends and replays a scripted run.
type runAPI struct {
	kallav1connect.UnimplementedRunServiceHandler
	createErr error          // CreateRun's answer instead of a run id
	states    []*kallav1.Run // WatchRun streams these in order
	cutAfter  int            // the first WatchRun drops the connection after this many states (0: never)
	cut       func()

	mu      sync.Mutex
	recipe  string // the recipe text CreateRun received
	watches int    // WatchRun calls
}

func (a *runAPI) authorized(h http.Header) error {
	if h.Get("Authorization") != "Bearer "+testToken {
		return connect.NewError(connect.CodeUnauthenticated, nil)
	}
	return nil
}

func (a *runAPI) CreateRun(_ context.Context, req *connect.Request[kallav1.CreateRunRequest]) (*connect.Response[kallav1.CreateRunResponse], error) {
	if err := a.authorized(req.Header()); err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.recipe = req.Msg.GetRecipe()
	a.mu.Unlock()
	switch req.Msg.GetRecipeId() {
	case "":
	case "saved":
		return connect.NewResponse(&kallav1.CreateRunResponse{RunId: "run-1"}), nil
	default:
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("recipe %q not found", req.Msg.GetRecipeId()))
	}
	r, err := recipe.Parse([]byte(req.Msg.GetRecipe()))
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	for _, s := range []*kallav1.Source{r.GetSources().GetLeft(), r.GetSources().GetRight()} {
		if p, ok := strings.CutPrefix(s.GetUri(), "file://"); !ok || !filepath.IsAbs(p) {
			return nil, connect.NewError(connect.CodeInvalidArgument, nil)
		}
	}
	if a.createErr != nil {
		return nil, a.createErr
	}
	return connect.NewResponse(&kallav1.CreateRunResponse{RunId: "run-1"}), nil
}

func (a *runAPI) WatchRun(ctx context.Context, req *connect.Request[kallav1.WatchRunRequest], stream *connect.ServerStream[kallav1.WatchRunResponse]) error {
	if err := a.authorized(req.Header()); err != nil {
		return err
	}
	a.mu.Lock()
	a.watches++
	first := a.watches == 1
	a.mu.Unlock()
	for i, r := range a.states {
		if first && a.cutAfter > 0 && i == a.cutAfter {
			a.cut() // the server "restarts" mid-stream
			<-ctx.Done()
			return ctx.Err()
		}
		if err := stream.Send(&kallav1.WatchRunResponse{Run: r}); err != nil {
			return err
		}
	}
	return nil
}

func (a *runAPI) GetRun(_ context.Context, req *connect.Request[kallav1.GetRunRequest]) (*connect.Response[kallav1.GetRunResponse], error) {
	if err := a.authorized(req.Header()); err != nil {
		return nil, err
	}
	run := a.states[len(a.states)-1]
	if a.cutAfter > 0 {
		run = a.states[a.cutAfter-1] // still running after the restart
	}
	return connect.NewResponse(&kallav1.GetRunResponse{Run: run}), nil
}

func (a *runAPI) received() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.recipe
}

func serve(t *testing.T, a *runAPI) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(kallav1connect.NewRunServiceHandler(a))
	srv := httptest.NewServer(mux)
	a.cut = srv.CloseClientConnections
	t.Cleanup(srv.Close)
	return srv.URL
}

func state(status kallav1.RunStatus, phase string, staged, total int32, rows int64) *kallav1.Run {
	return &kallav1.Run{RunId: "run-1", Status: status, Progress: &kallav1.Progress{Phase: phase, ChunksStaged: staged, ChunksTotal: total, RowsStaged: rows}}
}

// completedRun goes queued -> staging -> executing -> completed.
func completedRun() []*kallav1.Run {
	done := state(kallav1.RunStatus_RUN_STATUS_COMPLETED, "done", 4, 4, 200000)
	done.Summary = &kallav1.Summary{
		RecipeId: "invoice-payment-match", Engine: "duckdb",
		Left: &kallav1.SideSummary{Alias: "invoices", Rows: 15, Matched: 12, Unmatched: 3, Totals: []*kallav1.TotalSummary{
			{Column: "amount", By: "currency", Value: proto.String("EUR"), Records: 15, MatchedRecords: 12, UnmatchedRecords: 3, Empty: 1, Total: "100.50", Matched: "90.00", Unmatched: "10.50"},
			{Column: "amount", By: "currency", Records: 0, Total: "0.00", Matched: "0.00", Unmatched: "0.00"},
			{Column: "amount", By: "currency", Value: proto.String("EUR "), Records: 1, Total: "1.00", Matched: "1.00", Unmatched: "0.00"},
		}},
		Right:       &kallav1.SideSummary{Alias: "payments", Rows: 14, Matched: 13, Unmatched: 1, FilteredOut: 6},
		MatchGroups: 10,
		Rules: []*kallav1.RuleSummary{
			{Name: "id_and_amount_match", Pattern: "1:1", Groups: 9, LeftMatched: 9, RightMatched: 9},
			{Name: "split_payments", Pattern: "1:N", Groups: 1, LeftMatched: 3, RightMatched: 4, Totals: []*kallav1.RuleTotal{
				{Side: "left", Column: "amount", By: "currency", Value: proto.String("EUR"), Records: 3, Total: "60.00"},
			}},
		},
		TimingsMs: &kallav1.Timings{Load: 5, Match: 7, Write: 3, Total: 15},
	}
	return []*kallav1.Run{
		state(kallav1.RunStatus_RUN_STATUS_QUEUED, "queued", 0, 0, 0),
		state(kallav1.RunStatus_RUN_STATUS_STAGING, "staging", 2, 4, 100000),
		state(kallav1.RunStatus_RUN_STATUS_EXECUTING, "executing", 4, 4, 200000),
		done,
	}
}

func wantFailure(t *testing.T, r result, code int, stderr string) {
	t.Helper()
	if r.code != code || r.stdout != "" || !strings.Contains(r.stderr, stderr) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, no stdout and stderr with %q", r.code, r.stdout, r.stderr, code, stderr)
	}
}

func TestSubmit(t *testing.T) {
	t.Parallel()
	t.Run("wait_prints_the_summary_table", func(t *testing.T) {
		t.Parallel()
		api := &runAPI{states: completedRun()}
		rec := example(t)
		r := kalla(t, "submit", "--server", serve(t, api), "--recipe", rec, "--token", testToken, "--wait")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		// Compared with the table's runs of spaces made one.
		table := strings.Join(strings.Fields(r.stdout), " ")
		for _, want := range []string{"run run-1 completed", "match rate filtered out", "split_payments", "80.0%", "right payments 14 13 1 92.9% 6",
			"left amount, currency EUR 15 1 100.50 90.00 10.50", "left amount, currency (empty) 0 0 0.00", `left amount, currency "EUR " 1 0 1.00`,
			"split_payments left amount, currency EUR 3 60.00"} {
			if !strings.Contains(table, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		// Relative file:// URIs reach the server resolved against the recipe's folder.
		if want := "file://" + filepath.Join(filepath.Dir(rec), "invoices.csv"); !strings.Contains(api.received(), want) {
			t.Errorf("server got recipe without %q:\n%s", want, api.received())
		}
	})
	t.Run("wait_json_is_the_summary_with_run_id_and_status", func(t *testing.T) {
		t.Parallel()
		r := kalla(t, "submit", "--server", serve(t, &runAPI{states: completedRun()}), "--recipe", example(t), "--token", testToken, "--wait", "--json")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var got submitResult
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
		}
		if got.RunID != "run-1" || got.Status != "completed" || got.Summary == nil ||
			got.MatchGroups != 10 || got.Left.Rows != 15 || got.Right.Alias != "payments" || len(got.Rules) != 2 || got.TimingsMS.Total != 15 {
			t.Errorf("got %s", r.stdout)
		}
		// The totals come through as summary.json writes them: an empty
		// value left out.
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(r.stdout)); err != nil {
			t.Fatal(err)
		}
		if want := `{"column":"amount","by":"currency","value":"EUR","records":15,"matched_records":12,"unmatched_records":3,"empty":1,"total":"100.50","matched":"90.00","unmatched":"10.50"},{"column":"amount","by":"currency","records":0,`; !strings.Contains(compact.String(), want) || !strings.Contains(compact.String(), `"unmatched":1,"filtered_out":6`) ||
			!strings.Contains(compact.String(), `"totals":[{"side":"left","column":"amount","by":"currency","value":"EUR","records":3,"empty":0,"total":"60.00"}]`) {
			t.Errorf("got %s", r.stdout)
		}
	})
	t.Run("without_wait_prints_the_run_id", func(t *testing.T) {
		t.Parallel()
		url := serve(t, &runAPI{states: completedRun()})
		r := kalla(t, "submit", "--server", url, "--recipe", example(t), "--token", testToken)
		if r.code != exitOK || r.stdout != "run-1\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		r = kalla(t, "submit", "--server", url, "--recipe", example(t), "--token", testToken, "--json")
		var got map[string]any
		if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &got) != nil || got["run_id"] != "run-1" || got["status"] != "queued" || len(got) != 2 {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("stream_break_polls_then_watches_again", func(t *testing.T) {
		t.Parallel()
		api := &runAPI{states: completedRun(), cutAfter: 2}
		r := kalla(t, "submit", "--server", serve(t, api), "--recipe", example(t), "--token", testToken, "--wait", "--json")
		if r.code != exitOK || !strings.Contains(r.stdout, `"status": "completed"`) {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		api.mu.Lock()
		defer api.mu.Unlock()
		if api.watches != 2 {
			t.Errorf("WatchRun called %d times, want 2 (before and after the break)", api.watches)
		}
	})
	t.Run("invalid_argument_exits_2_with_the_fields", func(t *testing.T) {
		t.Parallel()
		cerr := connect.NewError(connect.CodeInvalidArgument, nil)
		d, err := connect.NewErrorDetail(&kallav1.FieldError{Field: "match_rules[0].conditions[0].right", Line: 21, Column: 52, Message: `column "payment_ref" is not in payments`})
		if err != nil {
			t.Fatal(err)
		}
		cerr.AddDetail(d)
		r := kalla(t, "submit", "--server", serve(t, &runAPI{createErr: cerr}), "--recipe", example(t), "--token", testToken, "--wait")
		wantFailure(t, r, exitBadInput, `match_rules[0].conditions[0].right (line 21, column 52): column "payment_ref" is not in payments`)
	})
	t.Run("wrong_token_exits_1", func(t *testing.T) {
		t.Parallel()
		r := kalla(t, "submit", "--server", serve(t, &runAPI{states: completedRun()}), "--recipe", example(t), "--token", "nope", "--wait")
		wantFailure(t, r, exitFailure, "token")
	})
	t.Run("failed_run_exits_1_with_its_error", func(t *testing.T) {
		t.Parallel()
		failed := state(kallav1.RunStatus_RUN_STATUS_FAILED, "staging", 1, 4, 50000)
		failed.Error = "job stage-2 failed after 5 attempts: connection refused"
		api := &runAPI{states: []*kallav1.Run{state(kallav1.RunStatus_RUN_STATUS_QUEUED, "queued", 0, 0, 0), failed}}
		r := kalla(t, "submit", "--server", serve(t, api), "--recipe", example(t), "--token", testToken, "--wait", "--json")
		wantFailure(t, r, exitFailure, "run run-1 failed: job stage-2 failed after 5 attempts")
	})
	t.Run("run_failed_on_its_input_exits_2", func(t *testing.T) {
		t.Parallel()
		failed := state(kallav1.RunStatus_RUN_STATUS_FAILED, "executing", 4, 4, 50000)
		failed.Error, failed.BadInput = "exec job exec-1 failed: bad input: invoices: the primary key invoice_id must be unique", true
		api := &runAPI{states: []*kallav1.Run{failed}}
		r := kalla(t, "submit", "--server", serve(t, api), "--recipe", example(t), "--token", testToken, "--wait")
		wantFailure(t, r, exitBadInput, "must be unique")
	})
	t.Run("cancelled_run_exits_1", func(t *testing.T) {
		t.Parallel()
		api := &runAPI{states: []*kallav1.Run{state(kallav1.RunStatus_RUN_STATUS_CANCELLED, "staging", 1, 4, 50000)}}
		r := kalla(t, "submit", "--server", serve(t, api), "--recipe", example(t), "--token", testToken, "--wait")
		wantFailure(t, r, exitFailure, "cancelled")
	})
	t.Run("unreachable_server_exits_1", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		// Credentials in the server's URL are not shown.
		r := kalla(t, "submit", "--server", "http://bob:TokPW@"+addr, "--recipe", example(t), "--token", testToken, "--wait")
		wantFailure(t, r, exitFailure, "cannot reach the server at http://bob:REDACTED@"+addr)
		if strings.Contains(r.stderr, "TokPW") {
			t.Errorf("stderr shows the server's password: %s", r.stderr)
		}
	})
	t.Run("saved_recipe_by_id", func(t *testing.T) {
		t.Parallel()
		r := kalla(t, "submit", "--server", serve(t, &runAPI{states: completedRun()}), "--recipe-id", "saved", "--token", testToken, "--wait", "--json")
		if r.code != exitOK || !strings.Contains(r.stdout, `"status": "completed"`) {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("unknown_recipe_id_exits_2", func(t *testing.T) {
		t.Parallel()
		r := kalla(t, "submit", "--server", serve(t, &runAPI{states: completedRun()}), "--recipe-id", "nope", "--token", testToken, "--wait")
		wantFailure(t, r, exitBadInput, `no recipe is saved on the server under that id: recipe "nope" not found`)
	})
	t.Run("bad_flags_exit_2", func(t *testing.T) {
		t.Parallel()
		wantFailure(t, kalla(t, "submit", "--server", "http://localhost:1"), exitBadInput, "give --recipe FILE or --recipe-id ID")
		wantFailure(t, kalla(t, "submit", "--server", "http://localhost:1", "--recipe", "r.json", "--recipe-id", "saved"), exitBadInput, "one of them")
		wantFailure(t, kalla(t, "submit", "--server", "localhost:1", "--recipe", "r.json"), exitBadInput, "http://")
		wantFailure(t, kalla(t, "submit", "--server", "http://localhost:1", "--recipe", "/nonexistent/recipe.json"), exitBadInput, "no such file")
	})
}

// These set the environment, so they cannot run in parallel.
func TestSubmitEnvironment(t *testing.T) {
	t.Run("missing_token_exits_1", func(t *testing.T) {
		t.Setenv("KALLA_API_TOKEN", "")
		r := kalla(t, "submit", "--server", serve(t, &runAPI{states: completedRun()}), "--recipe", example(t), "--wait")
		wantFailure(t, r, exitFailure, "token is missing or wrong")
	})
	t.Run("server_and_token_from_the_environment", func(t *testing.T) {
		t.Setenv("KALLA_SERVER", serve(t, &runAPI{states: completedRun()}))
		t.Setenv("KALLA_API_TOKEN", testToken)
		r := kalla(t, "submit", "--recipe", example(t))
		if r.code != exitOK || r.stdout != "run-1\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}
