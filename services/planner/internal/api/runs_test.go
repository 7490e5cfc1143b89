package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/services/planner/internal/api"
)

func TestCreateRun(t *testing.T) {
	t.Parallel()
	t.Run("csv_sources_queue_one_exec_job", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		runID := e.createRun(t)
		if got := e.jobTypes(t, runID); !slices.Equal(got, []string{"exec/pending"}) {
			t.Fatalf("jobs = %v, want one pending exec job", got)
		}
		env := e.fetch(t, queue.ExecStream, queue.ExecConsumer)
		if env.GetRunId() != runID || env.GetAttempt() != 1 || len(env.GetExec().GetSources()) != 2 {
			t.Fatalf("published envelope = %v", env)
		}
		if uri := env.GetExec().GetSources()[0].GetUri(); !strings.HasSuffix(uri, "/invoices.csv") {
			t.Errorf("left source uri = %q", uri)
		}
		r, err := e.store.GetRun(e.ctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		if r.RecipeID != "ar-payments" || r.Status != jobs.RunQueued || len(r.Recipe) == 0 || !strings.Contains(r.RecipeText, "ar-payments") {
			t.Errorf("run = %+v", r)
		}
		if d := r.Deadline.Sub(r.CreatedAt); d < 59*time.Minute || d > 61*time.Minute {
			t.Errorf("deadline %v after creation, want the run timeout of 1h", d)
		}
		// The outbox entry is marked published, just after its message went
		// out: the dispatcher publishes, then marks.
		unpublished := e.count(t, "outbox WHERE published_at IS NULL")
		for deadline := time.Now().Add(5 * time.Second); unpublished != 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			unpublished = e.count(t, "outbox WHERE published_at IS NULL")
		}
		if unpublished != 0 || e.count(t, "outbox") == 0 {
			t.Errorf("%d outbox entries left unpublished", unpublished)
		}
	})
	t.Run("pattern_source_goes_to_the_executor_as_named", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		os.WriteFile(filepath.Join(e.dir, "inv-1.csv"), []byte("invoice_id,amount,issued\nINV-1,100.00,2024-01-01\n"), 0o644)
		os.WriteFile(filepath.Join(e.dir, "inv-2.csv"), []byte("invoice_id;amount;issued\nINV-2;250.50;2024-01-02\n"), 0o644)
		pattern := "file://" + filepath.Join(e.dir, "inv-*.csv")
		resp, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe(pattern, "", "")}))
		if err != nil {
			t.Fatal(err)
		}
		env := e.fetch(t, queue.ExecStream, queue.ExecConsumer)
		if env.GetRunId() != resp.Msg.GetRunId() || env.GetExec().GetSources()[0].GetUri() != pattern {
			t.Errorf("published envelope = %v, want the left source %s", env, pattern)
		}
		// Files whose headers differ are refused, both named.
		os.WriteFile(filepath.Join(e.dir, "inv-2.csv"), []byte("invoice_id,amount_due,issued\n"), 0o644)
		_, err = e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe(pattern, "", "")}))
		if cerr := wantCode(t, err, connect.CodeInvalidArgument); !strings.Contains(cerr.Message(), "inv-2.csv: its header names the columns invoice_id, amount_due, issued, and inv-1.csv's names invoice_id, amount, issued") {
			t.Errorf("message %q does not say how the headers differ", cerr.Message())
		}
	})
	t.Run("lines_before_the_header_skipped", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		path := filepath.Join(e.dir, "statement.csv")
		os.WriteFile(path, []byte("Invoices \"2024\nAccount 1234\ninvoice_id,amount,issued\nINV-1,100.00,2024-01-01\n"), 0o644)
		text := e.recipe("file://"+path, "", "")
		if _, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: text})); err == nil {
			t.Error("a file whose first lines are no header was read without skipping them")
		}
		skipping := strings.Replace(text, `"primary_key": ["invoice_id"]}`, `"primary_key": ["invoice_id"], "skip_lines": 2}`, 1)
		if _, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: skipping})); err != nil || skipping == text {
			t.Errorf("skipping its first two lines: %v", err)
		}
	})
	t.Run("no_header_row", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		path := filepath.Join(e.dir, "statement.csv")
		os.WriteFile(path, []byte("INV-1,100.00,2024-01-01\nINV-2,5.00,2024-01-02\n"), 0o644)
		text := e.recipe("file://"+path, "", "")
		if _, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: text})); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("a file without a header, read as if its first record were one: %v", err)
		}
		named := strings.Replace(text, `"primary_key": ["invoice_id"]}`, `"primary_key": ["invoice_id"], "columns": ["invoice_id", "amount", "issued"]}`, 1)
		if _, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: named})); err != nil || named == text {
			t.Errorf("its columns named: %v", err)
		}
		wide := strings.Replace(named, `"issued"]`, `"issued", "memo"]`, 1)
		_, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: wide}))
		if want := "does not split into the 4 fields the recipe's columns name"; connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want InvalidArgument saying %s", err, want)
		}
	})
	t.Run("workbook_without_the_sheet_named", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		b, err := os.ReadFile("../../../../examples/bank/statement.xlsx")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(e.dir, "statement.xlsx")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(e.recipe("file://"+path, "", ""), `"primary_key": ["invoice_id"]}`, `"primary_key": ["invoice_id"], "sheet": "Statement"}`, 1)
		_, err = e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: text}))
		cerr := wantCode(t, err, connect.CodeInvalidArgument)
		fields := fieldsOf(cerr)
		if want := `it has no sheet named "Statement"; its sheets are "Summary", "Transactions"`; !slices.Equal(fields, []string{"sources.left.sheet"}) || !strings.Contains(cerr.Message(), want) {
			t.Errorf("field errors %v, message %s; want sources.left.sheet saying %s", fields, cerr.Message(), want)
		}
	})
	t.Run("missing_column_is_rejected_and_nothing_recorded", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		_, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe("", "", "amount_due")}))
		cerr := wantCode(t, err, connect.CodeInvalidArgument)
		if !strings.Contains(cerr.Message(), "amount_due") || !strings.Contains(cerr.Message(), "invoice_id, amount, issued") {
			t.Errorf("message %q does not name the column and list the existing ones", cerr.Message())
		}
		var fields []string
		for _, d := range cerr.Details() {
			v, err := d.Value()
			if err != nil {
				t.Fatal(err)
			}
			if fe, ok := v.(*kallav1.FieldError); ok {
				fields = append(fields, fe.GetField())
				if !strings.Contains(fe.GetMessage(), "its columns are") {
					t.Errorf("field error message %q", fe.GetMessage())
				}
			}
		}
		if !slices.Equal(fields, []string{"match_rules[0].conditions[1].left"}) {
			t.Errorf("field error details = %v", fields)
		}
		if n := e.count(t, "runs") + e.count(t, "jobs") + e.count(t, "outbox"); n != 0 {
			t.Errorf("%d rows recorded for a rejected recipe", n)
		}
	})
	t.Run("filter_and_totals_checked_against_the_schema", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		text := strings.Replace(e.recipe("", "", ""), `"primary_key": ["invoice_id"]}`,
			`"primary_key": ["invoice_id"], "filter": [{"column": "issued", "op": "gte", "value": "01.02.2024"}], "totals": ["invoice_id"]}`, 1)
		_, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: text}))
		cerr := wantCode(t, err, connect.CodeInvalidArgument)
		fields := fieldsOf(cerr)
		if want := []string{"sources.left.totals[0]", "sources.left.filter[0].value"}; !slices.Equal(fields, want) {
			t.Errorf("field errors %v, want %v (%s)", fields, want, cerr.Message())
		}
		if n := e.count(t, "runs"); n != 0 {
			t.Errorf("%d runs recorded for a rejected recipe", n)
		}
	})
	t.Run("bad_input_is_invalid_argument_an_away_database_unavailable", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		wrongPassword, err := url.Parse(e.dbURL)
		if err != nil {
			t.Fatal(err)
		}
		wrongPassword.User = url.UserPassword(wrongPassword.User.Username(), "s3cret")
		for name, tt := range map[string]struct {
			recipe string
			code   connect.Code
		}{
			"syntax":                 {`{"version": "1.0",`, connect.CodeInvalidArgument},
			"relative_path":          {e.recipe("file://data/invoices.csv", "", ""), connect.CodeInvalidArgument},
			"missing_file":           {e.recipe("file:///nonexistent/invoices.csv", "", ""), connect.CodeInvalidArgument},
			"pattern_naming_no_file": {e.recipe("file://"+filepath.Join(e.dir, "invoices-*.csv"), "", ""), connect.CodeInvalidArgument},
			// A planner without S3 credentials cannot read objects: its
			// settings, not the recipe, are wrong.
			"object_pattern": {e.recipe("s3://bucket/invoices-*.csv", "", ""), connect.CodeFailedPrecondition},
			"wrong_password": {e.recipe(wrongPassword.String()+"&table=public.x", "", ""), connect.CodeInvalidArgument},
			// A database that does not answer is away, not wrong.
			"unreachable_database": {e.recipe("postgres://kalla:s3cret@127.0.0.1:1/db?table=public.x", "", ""), connect.CodeUnavailable},
			"password_param":       {e.recipe("postgres://kalla@127.0.0.1:1/db?table=public.x&password=s3cret", "", ""), connect.CodeUnavailable},
		} {
			_, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: tt.recipe}))
			cerr := wantCode(t, err, tt.code)
			if strings.Contains(cerr.Message(), "s3cret") {
				t.Errorf("%s: message leaks the password: %s", name, cerr.Message())
			}
			if name != "syntax" && !strings.Contains(cerr.Message(), "invoices") {
				t.Errorf("%s: message %q does not name the source alias", name, cerr.Message())
			}
		}
		if n := e.count(t, "runs"); n != 0 {
			t.Errorf("%d runs recorded", n)
		}
	})
	t.Run("postgres_source_gets_a_stage_plan_job", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		_, err := e.pool.Exec(e.ctx, `CREATE TABLE invoices (invoice_id text PRIMARY KEY, amount numeric(12,2), issued date);
			INSERT INTO invoices VALUES ('INV-1', 100.00, '2024-01-01')`)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe(e.dbURL+"&table=public.invoices", "", "")}))
		if err != nil {
			t.Fatal(err)
		}
		runID := resp.Msg.GetRunId()
		if got := e.jobTypes(t, runID); !slices.Equal(got, []string{"stage_plan/pending"}) {
			t.Fatalf("jobs = %v, want one stage plan job", got)
		}
		env := e.fetch(t, queue.StageStream, queue.StageConsumer)
		if sp := env.GetStagePlan(); env.GetRunId() != runID || sp.GetSide() != kallav1.Side_SIDE_LEFT || sp.GetAlias() != "invoices" {
			t.Fatalf("published envelope = %v", env)
		}
	})
	t.Run("saved_recipe_runs_as_saved", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.writeCSVs(t)
		// The test database trusts every connection, so the password is
		// only ever checked here: the run must get it, not its mask.
		left := strings.Replace(e.dbURL, "@127.0.0.1", ":s3cret@127.0.0.1", 1)
		if _, err := e.pool.Exec(e.ctx, `CREATE TABLE invoices (invoice_id text PRIMARY KEY, amount numeric(12,2), issued date)`); err != nil {
			t.Fatal(err)
		}
		text := e.recipe(left+"&table=public.invoices", "", "")
		if _, err := e.recipes.SaveRecipe(e.ctx, connect.NewRequest(&kallav1.SaveRecipeRequest{Recipe: text})); err != nil {
			t.Fatal(err)
		}
		resp, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{RecipeId: "ar-payments"}))
		if err != nil {
			t.Fatal(err)
		}
		var recorded string
		if err := e.pool.QueryRow(e.ctx, `SELECT recipe_text FROM runs WHERE id = $1`, resp.Msg.GetRunId()).Scan(&recorded); err != nil {
			t.Fatal(err)
		}
		if recorded != text {
			t.Errorf("the run recorded %q, want the recipe as saved, password included: %q", recorded, text)
		}
		if got := e.jobTypes(t, resp.Msg.GetRunId()); !slices.Equal(got, []string{"stage_plan/pending"}) {
			t.Errorf("jobs = %v, want one stage plan job", got)
		}

		_, err = e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{RecipeId: "nope"}))
		wantCode(t, err, connect.CodeNotFound)
		_, err = e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{RecipeId: "ar-payments", Recipe: text}))
		if cerr := wantCode(t, err, connect.CodeInvalidArgument); !strings.Contains(cerr.Message(), "not both") {
			t.Errorf("both given: %v", cerr)
		}
	})
}

func TestGetAndListRuns(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.writeCSVs(t)
	var ids []string
	for range 3 {
		ids = append(ids, e.createRun(t))
	}
	t.Run("get_run", func(t *testing.T) {
		resp, err := e.runs.GetRun(e.ctx, connect.NewRequest(&kallav1.GetRunRequest{RunId: ids[0]}))
		if err != nil {
			t.Fatal(err)
		}
		r := resp.Msg.GetRun()
		if r.GetRunId() != ids[0] || r.GetStatus() != kallav1.RunStatus_RUN_STATUS_QUEUED || r.GetRecipeId() != "ar-payments" ||
			r.GetProgress().GetPhase() != "queued" || r.GetCreatedAt() == nil || r.GetFinishedAt() != nil || r.GetBadInput() {
			t.Errorf("run = %v", r)
		}
	})
	t.Run("failed_on_its_input", func(t *testing.T) {
		if _, err := e.pool.Exec(e.ctx, "UPDATE runs SET bad_input = true WHERE id = $1", ids[2]); err != nil {
			t.Fatal(err)
		}
		resp, err := e.runs.GetRun(e.ctx, connect.NewRequest(&kallav1.GetRunRequest{RunId: ids[2]}))
		if err != nil || !resp.Msg.GetRun().GetBadInput() {
			t.Errorf("run = %v, %v; want bad_input", resp, err)
		}
	})
	t.Run("unknown_and_malformed_ids", func(t *testing.T) {
		_, err := e.runs.GetRun(e.ctx, connect.NewRequest(&kallav1.GetRunRequest{RunId: jobs.NewID()}))
		wantCode(t, err, connect.CodeNotFound)
		_, err = e.runs.GetRun(e.ctx, connect.NewRequest(&kallav1.GetRunRequest{RunId: "nope"}))
		wantCode(t, err, connect.CodeInvalidArgument)
	})
	t.Run("paging", func(t *testing.T) {
		var got []string
		token := ""
		for page := 0; ; page++ {
			resp, err := e.runs.ListRuns(e.ctx, connect.NewRequest(&kallav1.ListRunsRequest{PageSize: 2, PageToken: token}))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Msg.GetRuns()) > 2 {
				t.Fatalf("page of %d runs, want at most 2", len(resp.Msg.GetRuns()))
			}
			for _, r := range resp.Msg.GetRuns() {
				got = append(got, r.GetRunId())
			}
			if token = resp.Msg.GetNextPageToken(); token == "" {
				break
			}
			if page > 3 {
				t.Fatal("paging does not end")
			}
		}
		want := slices.Clone(ids)
		slices.Reverse(want) // newest first
		if !slices.Equal(got, want) {
			t.Errorf("runs = %v, want %v", got, want)
		}
		for _, token := range []string{"garbage", "%%%", base64.RawURLEncoding.EncodeToString([]byte("123|not-a-run-id"))} {
			_, err := e.runs.ListRuns(e.ctx, connect.NewRequest(&kallav1.ListRunsRequest{PageToken: token}))
			wantCode(t, err, connect.CodeInvalidArgument)
		}
	})
	t.Run("status_filter", func(t *testing.T) {
		if _, err := e.store.CancelRun(e.ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		resp, err := e.runs.ListRuns(e.ctx, connect.NewRequest(&kallav1.ListRunsRequest{Status: kallav1.RunStatus_RUN_STATUS_CANCELLED}))
		if err != nil {
			t.Fatal(err)
		}
		if runs := resp.Msg.GetRuns(); len(runs) != 1 || runs[0].GetRunId() != ids[1] {
			t.Errorf("cancelled runs = %v", runs)
		}
		// A status from a newer client is refused, not ignored.
		_, err = e.runs.ListRuns(e.ctx, connect.NewRequest(&kallav1.ListRunsRequest{Status: kallav1.RunStatus(99)}))
		wantCode(t, err, connect.CodeInvalidArgument)
	})
}

func TestWatchRun(t *testing.T) {
	t.Parallel()
	// Without a poll worth the name, updates can only come from LISTEN.
	e := setup(t, func(c *api.Config) { c.PollInterval = time.Hour })
	e.writeCSVs(t)
	runID := e.createRun(t)
	stream, err := e.runs.WatchRun(e.ctx, connect.NewRequest(&kallav1.WatchRunRequest{RunId: runID}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	next := func() *kallav1.Run {
		t.Helper()
		if !stream.Receive() {
			t.Fatalf("stream ended: %v", stream.Err())
		}
		return stream.Msg().GetRun()
	}
	if r := next(); r.GetStatus() != kallav1.RunStatus_RUN_STATUS_QUEUED {
		t.Fatalf("first update = %v", r)
	}
	start := time.Now()
	if err := e.store.SetStatus(e.ctx, runID, jobs.RunExecuting, "executing"); err != nil {
		t.Fatal(err)
	}
	if r := next(); r.GetStatus() != kallav1.RunStatus_RUN_STATUS_EXECUTING || r.GetProgress().GetPhase() != "executing" {
		t.Fatalf("second update = %v", r)
	}
	t.Logf("update arrived after %v", time.Since(start))
	summary, _ := json.Marshal(evidence.Summary{RecipeID: "ar-payments", Engine: "duckdb",
		Left: evidence.SideSummary{Alias: "invoices", Rows: 3, Matched: 2, Unmatched: 1, FilteredOut: 4, Totals: []evidence.TotalSummary{
			{Column: "amount", By: "currency", Records: 3, MatchedRecords: 2, UnmatchedRecords: 1, Empty: 1, Total: "12.50", Matched: "10.00", Unmatched: "2.50"}}},
		Right: evidence.SideSummary{Alias: "payments", Rows: 3, Matched: 2, Unmatched: 1}, MatchGroups: 2,
		Rules: []evidence.RuleSummary{{Name: "exact", Pattern: "1:1", Groups: 2, LeftMatched: 2, RightMatched: 2,
			Totals: []evidence.RuleTotal{{Side: "right", Column: "paid", Records: 2, Empty: 1, Total: "7.00"}}}}})
	uris, _ := json.Marshal(evidence.URIs{Matched: "file:///e/matched.parquet", UnmatchedLeft: "file:///e/ul.parquet",
		UnmatchedRight: "file:///e/ur.parquet", Summary: "file:///e/summary.json"})
	if err := e.store.CompleteRun(e.ctx, runID, summary, uris); err != nil {
		t.Fatal(err)
	}
	r := next()
	// An empty value of the by column stays unset, not "".
	total := r.GetSummary().GetLeft().GetTotals()
	if want := (&kallav1.TotalSummary{Column: "amount", By: "currency", Records: 3, MatchedRecords: 2, UnmatchedRecords: 1, Empty: 1,
		Total: "12.50", Matched: "10.00", Unmatched: "2.50"}); len(total) != 1 || !proto.Equal(total[0], want) {
		t.Errorf("totals = %v, want %v", total, want)
	}
	if want := (&kallav1.RuleTotal{Side: "right", Column: "paid", Records: 2, Empty: 1, Total: "7.00"}); len(r.GetSummary().GetRules()) != 1 ||
		len(r.GetSummary().GetRules()[0].GetTotals()) != 1 || !proto.Equal(r.GetSummary().GetRules()[0].GetTotals()[0], want) {
		t.Errorf("rule totals = %v, want %v", r.GetSummary().GetRules(), want)
	}
	if r.GetStatus() != kallav1.RunStatus_RUN_STATUS_COMPLETED || r.GetSummary().GetLeft().GetMatched() != 2 || r.GetSummary().GetLeft().GetFilteredOut() != 4 ||
		r.GetSummary().GetRules()[0].GetPattern() != "1:1" || r.GetEvidence().GetMatchedUri() != "file:///e/matched.parquet" ||
		r.GetFinishedAt() == nil {
		t.Fatalf("final update = %v", r)
	}
	if stream.Receive() {
		t.Fatalf("stream goes on after the run ended: %v", stream.Msg())
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream ended with %v", err)
	}

	t.Run("ended_run_sends_once", func(t *testing.T) {
		s, err := e.runs.WatchRun(e.ctx, connect.NewRequest(&kallav1.WatchRunRequest{RunId: runID}))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		n := 0
		for s.Receive() {
			n++
		}
		if n != 1 || s.Err() != nil {
			t.Errorf("%d updates, err %v; want 1 and a clean end", n, s.Err())
		}
	})
	t.Run("unknown_run", func(t *testing.T) {
		s, err := e.runs.WatchRun(e.ctx, connect.NewRequest(&kallav1.WatchRunRequest{RunId: jobs.NewID()}))
		if err == nil {
			for s.Receive() {
			}
			err = s.Err()
		}
		wantCode(t, err, connect.CodeNotFound)
	})
}

// TestWatchRunPollsWhenNotificationsAreMissed covers a missed NOTIFY (as
// across a database restart): the fallback poll still delivers the change.
func TestWatchRunPollsWhenNotificationsAreMissed(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *api.Config) { c.PollInterval = 200 * time.Millisecond })
	e.writeCSVs(t)
	runID := e.createRun(t)
	stream, err := e.runs.WatchRun(e.ctx, connect.NewRequest(&kallav1.WatchRunRequest{RunId: runID}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	if _, err := e.pool.Exec(e.ctx, "ALTER TABLE runs DISABLE TRIGGER runs_notify"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetStatus(e.ctx, runID, jobs.RunStaging, "staging"); err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() || stream.Msg().GetRun().GetStatus() != kallav1.RunStatus_RUN_STATUS_STAGING {
		t.Fatalf("update = %v, %v", stream.Msg(), stream.Err())
	}
	if _, err := e.store.CancelRun(e.ctx, runID); err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() || stream.Msg().GetRun().GetStatus() != kallav1.RunStatus_RUN_STATUS_CANCELLED {
		t.Fatalf("update = %v, %v", stream.Msg(), stream.Err())
	}
	if stream.Receive() || stream.Err() != nil {
		t.Fatalf("stream goes on: %v %v", stream.Msg(), stream.Err())
	}
}

func TestCancelRun(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.writeCSVs(t)
	runID := e.createRun(t)
	resp, err := e.runs.CancelRun(e.ctx, connect.NewRequest(&kallav1.CancelRunRequest{RunId: runID}))
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.Msg.GetRun(); r.GetStatus() != kallav1.RunStatus_RUN_STATUS_CANCELLED || r.GetFinishedAt() == nil {
		t.Errorf("run = %v", r)
	}
	if got := e.jobTypes(t, runID); !slices.Equal(got, []string{"exec/cancelled"}) {
		t.Errorf("jobs = %v", got)
	}
	_, err = e.runs.CancelRun(e.ctx, connect.NewRequest(&kallav1.CancelRunRequest{RunId: jobs.NewID()}))
	wantCode(t, err, connect.CodeNotFound)
}
