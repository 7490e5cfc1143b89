package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/gen/kalla/v1/kallav1connect"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/reconcile"
	"github.com/kallahq/kalla/libs/source"
)

const (
	// callTimeout bounds one unary call; the watch stream has no deadline.
	callTimeout = 30 * time.Second
	// pollEvery is how often GetRun is asked while the watch stream is down.
	pollEvery = time.Second
	// maxOutage is how long the server may stay unreachable during --wait
	// before kalla gives up waiting (the run itself goes on).
	maxOutage = 5 * time.Minute
)

// submitResult is what --json prints: summary.json plus the run's identity.
type submitResult struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"`
	*evidence.Summary
}

// createRunRequest asks for a run of the recipe file at path or, without
// one, of the recipe saved under id. On failure it says why on stderr and
// returns the exit code.
func createRunRequest(path, id string, stderr io.Writer) (*kallav1.CreateRunRequest, int) {
	if path == "" {
		return &kallav1.CreateRunRequest{RecipeId: id}, exitOK
	}
	// Load resolves relative file:// URIs against the recipe's folder: the
	// server has no folder to resolve them against.
	r, err := recipe.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "kalla submit: %v\n", err)
		if reconcile.IsBadInput(err) {
			return nil, exitBadInput
		}
		return nil, exitFailure
	}
	text, err := recipe.Marshal(r)
	if err != nil {
		fmt.Fprintf(stderr, "kalla submit: %v\n", err)
		return nil, exitFailure
	}
	return &kallav1.CreateRunRequest{Recipe: string(text)}, exitOK
}

func submitCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kalla submit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "planner API base URL, e.g. http://localhost:8080 (default: $KALLA_SERVER)")
	recipePath := fs.String("recipe", "", "recipe file, JSON or YAML (this or --recipe-id)")
	recipeID := fs.String("recipe-id", "", "run the recipe saved on the server under this id instead of a file")
	token := fs.String("token", "", "API bearer token (default: $KALLA_API_TOKEN)")
	wait := fs.Bool("wait", false, "follow the run until it ends and print its summary")
	asJSON := fs.Bool("json", false, "print JSON on stdout: the run id and status, with --wait also the summary")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if *server == "" {
		*server = os.Getenv("KALLA_SERVER")
	}
	if *token == "" {
		*token = os.Getenv("KALLA_API_TOKEN")
	}
	switch {
	case (*recipePath == "") == (*recipeID == ""):
		fmt.Fprintln(stderr, "kalla submit: give --recipe FILE or --recipe-id ID (a recipe saved on the server), one of them")
		return exitBadInput
	case *server == "":
		fmt.Fprintln(stderr, "kalla submit: --server is required (or set KALLA_SERVER)")
		return exitBadInput
	case !strings.HasPrefix(*server, "http://") && !strings.HasPrefix(*server, "https://"):
		fmt.Fprintf(stderr, "kalla submit: --server %q: want an http:// or https:// URL\n", source.Redact(*server))
		return exitBadInput
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "kalla submit: unexpected argument %q\n", fs.Arg(0))
		return exitBadInput
	}

	req, code := createRunRequest(*recipePath, *recipeID, stderr)
	if req == nil {
		return code
	}
	s := &submitter{
		client: kallav1connect.NewRunServiceClient(newHTTPClient(), strings.TrimRight(*server, "/"),
			connect.WithInterceptors(bearer(*token))),
		server: *server,
		stderr: stderr,
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	res, err := s.client.CreateRun(cctx, connect.NewRequest(req))
	cancel()
	if err != nil {
		return s.apiError(err)
	}
	runID := res.Msg.GetRunId()

	if !*wait {
		done := "run " + runID + " is queued"
		if *asJSON {
			// CreateRun only records and queues the run: it is queued now.
			return showJSON(stdout, stderr, "kalla submit", submitResult{RunID: runID, Status: statusName(kallav1.RunStatus_RUN_STATUS_QUEUED)}, done)
		}
		return show(stdout, stderr, "kalla submit", []byte(runID+"\n"), done)
	}

	if isTerminal(stderr) {
		s.progress = progressLine(stderr, runID)
	}
	run, err := s.follow(ctx, runID)
	if s.progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "kalla submit: stopped waiting; run %s goes on on the server\n", runID)
			return exitFailure
		}
		return s.apiError(err)
	}

	switch run.GetStatus() {
	case kallav1.RunStatus_RUN_STATUS_COMPLETED:
	case kallav1.RunStatus_RUN_STATUS_FAILED:
		msg := run.GetError()
		if msg == "" {
			msg = "no reason given"
		}
		fmt.Fprintf(stderr, "kalla submit: run %s failed: %s\n", runID, msg)
		if run.GetBadInput() {
			return exitBadInput
		}
		return exitFailure
	case kallav1.RunStatus_RUN_STATUS_CANCELLED:
		fmt.Fprintf(stderr, "kalla submit: run %s was cancelled\n", runID)
		return exitFailure
	default:
		fmt.Fprintf(stderr, "kalla submit: run %s ended in unexpected status %s\n", runID, run.GetStatus())
		return exitFailure
	}
	if run.GetSummary() == nil {
		fmt.Fprintf(stderr, "kalla submit: run %s completed but the server sent no summary\n", runID)
	}
	sum := summaryOf(run.GetSummary())
	done := "run " + runID + " completed"
	if *asJSON {
		return showJSON(stdout, stderr, "kalla submit", submitResult{RunID: runID, Status: statusName(run.GetStatus()), Summary: sum}, done)
	}
	var text bytes.Buffer
	fmt.Fprintln(&text, done)
	printSummary(&text, sum)
	return show(stdout, stderr, "kalla submit", text.Bytes(), done)
}

type submitter struct {
	client   kallav1connect.RunServiceClient
	server   string
	stderr   io.Writer
	progress func(*kallav1.Run)
}

// follow waits for the run to end. It watches the run's stream; when the
// stream breaks (a server restart, a proxy timeout) it polls GetRun every
// second until the server answers, then watches again. Errors that waiting
// cannot cure (unauthenticated, not found, ...) end it at once.
func (s *submitter) follow(ctx context.Context, runID string) (*kallav1.Run, error) {
	watch := true
	var downSince time.Time
	for {
		if watch {
			run, err := s.watch(ctx, runID)
			switch {
			case run != nil && ended(run.GetStatus()):
				return run, nil
			case connect.CodeOf(err) == connect.CodeUnimplemented:
				watch = false // a server without streams: poll only
			case err != nil && !retryable(err):
				return nil, err
			}
		}
		// The stream is down or ended early: poll until the server answers.
		for {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(pollEvery):
			}
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			res, err := s.client.GetRun(cctx, connect.NewRequest(&kallav1.GetRunRequest{RunId: runID}))
			cancel()
			if err != nil {
				if !retryable(err) || ctx.Err() != nil {
					return nil, err
				}
				if downSince.IsZero() {
					downSince = time.Now()
				} else if time.Since(downSince) > maxOutage {
					return nil, fmt.Errorf("gave up waiting for run %s after the server was unreachable for %v: %v", runID, maxOutage, err)
				}
				continue
			}
			downSince = time.Time{}
			run := res.Msg.GetRun()
			if s.progress != nil {
				s.progress(run)
			}
			if ended(run.GetStatus()) {
				return run, nil
			}
			if watch {
				break // back to the stream
			}
		}
	}
}

// watch reads the run's stream until the run ends or the stream does. It
// returns the last state seen, and the error that ended the stream.
func (s *submitter) watch(ctx context.Context, runID string) (*kallav1.Run, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := s.client.WatchRun(ctx, connect.NewRequest(&kallav1.WatchRunRequest{RunId: runID}))
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	var last *kallav1.Run
	for stream.Receive() {
		last = stream.Msg().GetRun()
		if s.progress != nil {
			s.progress(last)
		}
		if ended(last.GetStatus()) {
			return last, nil
		}
	}
	return last, stream.Err()
}

// retryable reports whether waiting may cure err: the server is restarting
// or unreachable for a while.
func retryable(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable, connect.CodeDeadlineExceeded, connect.CodeUnknown,
		connect.CodeInternal, connect.CodeAborted, connect.CodeResourceExhausted:
		return true
	}
	return false
}

func ended(s kallav1.RunStatus) bool {
	switch s {
	case kallav1.RunStatus_RUN_STATUS_COMPLETED, kallav1.RunStatus_RUN_STATUS_FAILED, kallav1.RunStatus_RUN_STATUS_CANCELLED:
		return true
	}
	return false
}

// statusName is the status as the API documents it: queued, staging, ...
func statusName(s kallav1.RunStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "RUN_STATUS_"))
}

// apiError explains a failed API call on stderr and picks the exit code.
func (s *submitter) apiError(err error) int {
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		fmt.Fprintf(s.stderr, "kalla submit: %v\n", err)
		return exitFailure
	}
	switch cerr.Code() {
	case connect.CodeInvalidArgument:
		fmt.Fprintf(s.stderr, "kalla submit: the server rejected the recipe%s\n", suffix(cerr.Message()))
		for _, d := range cerr.Details() {
			v, err := d.Value()
			if err != nil {
				continue
			}
			if fe, ok := v.(*kallav1.FieldError); ok {
				fmt.Fprintf(s.stderr, "  %s\n", fieldError(fe))
			}
		}
		return exitBadInput
	case connect.CodeNotFound:
		// Only a recipe_id names something that may not exist.
		fmt.Fprintf(s.stderr, "kalla submit: no recipe is saved on the server under that id%s\n", suffix(cerr.Message()))
		return exitBadInput
	case connect.CodeUnauthenticated:
		fmt.Fprintf(s.stderr, "kalla submit: the server refused the request: the API token is missing or wrong (give --token or set KALLA_API_TOKEN)%s\n", suffix(cerr.Message()))
	case connect.CodePermissionDenied:
		fmt.Fprintf(s.stderr, "kalla submit: the API token may not do this%s\n", suffix(cerr.Message()))
	case connect.CodeUnavailable:
		fmt.Fprintf(s.stderr, "kalla submit: cannot reach the server at %s: %s\n", source.Redact(s.server), cerr.Message())
	default:
		fmt.Fprintf(s.stderr, "kalla submit: %v\n", cerr)
	}
	return exitFailure
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

func fieldError(fe *kallav1.FieldError) string {
	var b strings.Builder
	b.WriteString(fe.GetField())
	if fe.GetLine() > 0 {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "(line %d, column %d)", fe.GetLine(), fe.GetColumn())
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(fe.GetMessage())
	return b.String()
}

// summaryOf converts the API's summary to summary.json's shape.
func summaryOf(s *kallav1.Summary) *evidence.Summary {
	side := func(x *kallav1.SideSummary) evidence.SideSummary {
		out := evidence.SideSummary{Alias: x.GetAlias(), Rows: x.GetRows(), Matched: x.GetMatched(), Unmatched: x.GetUnmatched(), FilteredOut: x.GetFilteredOut(), Sheet: x.GetSheet()}
		for _, t := range x.GetTotals() {
			out.Totals = append(out.Totals, evidence.TotalSummary{
				Column: t.GetColumn(), By: t.GetBy(), Value: t.Value, Records: t.GetRecords(), MatchedRecords: t.GetMatchedRecords(),
				UnmatchedRecords: t.GetUnmatchedRecords(), Empty: t.GetEmpty(), Total: t.GetTotal(), Matched: t.GetMatched(), Unmatched: t.GetUnmatched(),
			})
		}
		for _, f := range x.GetFiles() {
			out.Files = append(out.Files, evidence.FileSummary{Name: f.GetName(), Rows: f.GetRows()})
		}
		return out
	}
	out := &evidence.Summary{
		RecipeID:    s.GetRecipeId(),
		Engine:      s.GetEngine(),
		Left:        side(s.GetLeft()),
		Right:       side(s.GetRight()),
		MatchGroups: s.GetMatchGroups(),
		Rules:       []evidence.RuleSummary{},
		TimingsMS: evidence.Timings{
			Load:  s.GetTimingsMs().GetLoad(),
			Match: s.GetTimingsMs().GetMatch(),
			Write: s.GetTimingsMs().GetWrite(),
			Total: s.GetTimingsMs().GetTotal(),
		},
	}
	for _, r := range s.GetRules() {
		rule := evidence.RuleSummary{
			Name: r.GetName(), Pattern: r.GetPattern(), Groups: r.GetGroups(),
			LeftMatched: r.GetLeftMatched(), RightMatched: r.GetRightMatched(),
		}
		for _, t := range r.GetTotals() {
			rule.Totals = append(rule.Totals, evidence.RuleTotal{
				Side: t.GetSide(), Column: t.GetColumn(), By: t.GetBy(), Value: t.Value, Records: t.GetRecords(), Empty: t.GetEmpty(), Total: t.GetTotal(),
			})
		}
		out.Rules = append(out.Rules, rule)
	}
	return out
}

// progressLine redraws one line on the terminal: phase, a bar of the chunks
// staged, rows staged.
func progressLine(w io.Writer, runID string) func(*kallav1.Run) {
	start := time.Now()
	return func(r *kallav1.Run) {
		p := r.GetProgress()
		phase := p.GetPhase()
		if phase == "" {
			phase = statusName(r.GetStatus())
		}
		line := fmt.Sprintf("run %s: %s", runID, phase)
		if total := p.GetChunksTotal(); total > 0 {
			const width = 20
			done := min(int(p.GetChunksStaged())*width/int(total), width)
			line += fmt.Sprintf(" [%s%s] %d/%d chunks", strings.Repeat("#", done), strings.Repeat(".", width-done), p.GetChunksStaged(), total)
		}
		if rows := p.GetRowsStaged(); rows > 0 {
			line += fmt.Sprintf(", %d rows staged", rows)
		}
		fmt.Fprintf(w, "\r\033[K[%5.1fs] %s", time.Since(start).Seconds(), line)
	}
}

// newHTTPClient bounds connecting and waiting for response headers but not
// whole requests, so the watch stream may stay open as long as the run.
// Unary calls get their deadline from their context.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: t}
}

// bearer puts the API token in every request's Authorization header,
// unary and streaming alike.
type bearer string

func (b bearer) set(h http.Header) {
	if b != "" {
		h.Set("Authorization", "Bearer "+string(b))
	}
}

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		b.set(req.Header())
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		b.set(conn.RequestHeader())
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
