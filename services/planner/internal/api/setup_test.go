package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/gen/kalla/v1/kallav1connect"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/queue/queuetest"
	"github.com/kallahq/kalla/libs/testenv"
	"github.com/kallahq/kalla/services/planner/internal/api"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const token = "test-token-1"

// env is one planner API on a real PostgreSQL and NATS.
type env struct {
	ctx     context.Context
	url     string // http://127.0.0.1:PORT
	dbURL   string
	pool    *pgxpool.Pool
	store   *jobs.Store
	js      jetstream.JetStream
	runs    kallav1connect.RunServiceClient
	recipes kallav1connect.RecipeServiceClient
	dir     string // holds the test's CSV files
	srv     *api.Server
}

// setup starts an API; opts adjust its configuration.
func setup(t *testing.T, opts ...func(*api.Config)) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	dbURL := testenv.Postgres(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := jobs.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	js := queuetest.JetStream(t, queue.Config{})
	cfg := api.Config{
		Pool: pool, Publisher: queue.NewPublisher(js), Tokens: []string{"other-token", token},
		RunTimeout: time.Hour, PollInterval: 300 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv := api.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := api.NewHTTPServer(srv.Handler())
	go hs.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	e := &env{ctx: ctx, url: "http://" + ln.Addr().String(), dbURL: dbURL, pool: pool, store: jobs.New(pool), js: js, dir: t.TempDir(), srv: srv}
	hc := authClient(token, false)
	e.runs = kallav1connect.NewRunServiceClient(hc, e.url)
	e.recipes = kallav1connect.NewRecipeServiceClient(hc, e.url)
	return e
}

// authClient is an HTTP client that sends the bearer token (none when
// empty); h2c makes it speak unencrypted HTTP/2, as gRPC clients do.
func authClient(tok string, h2c bool) *http.Client {
	tr := &http.Transport{}
	if h2c {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr.Protocols = &p
	}
	return &http.Client{Transport: bearer{tok, tr}}
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(r)
}

// writeCSVs writes invoices.csv and payments.csv into the env's folder.
func (e *env) writeCSVs(t *testing.T) {
	t.Helper()
	files := map[string]string{
		"invoices.csv": "invoice_id,amount,issued\nINV-1,100.00,2024-01-01\nINV-2,250.50,2024-01-02\nINV-3,75.25,2024-01-03\n",
		"payments.csv": "payment_id,reference_number,paid_amount\nP-1,INV-1,100.00\nP-2,INV-2,250.49\nP-3,INV-9,10.00\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(e.dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// recipe returns a CSV recipe over the env's files; left and right may
// replace the URIs, and amount replaces the left amount column's name.
func (e *env) recipe(left, right, amount string) string {
	if left == "" {
		left = "file://" + filepath.Join(e.dir, "invoices.csv")
	}
	if right == "" {
		right = "file://" + filepath.Join(e.dir, "payments.csv")
	}
	if amount == "" {
		amount = "amount"
	}
	return fmt.Sprintf(`{"version": "1.0", "recipe_id": "ar-payments",
 "sources": {"left":  {"alias": "invoices", "uri": %q, "primary_key": ["invoice_id"]},
             "right": {"alias": "payments", "uri": %q, "primary_key": ["payment_id"]}},
 "match_rules": [
   {"name": "exact", "pattern": "1:1", "priority": 1,
    "conditions": [{"left": "invoice_id", "op": "eq", "right": "reference_number"},
                   {"left": %q, "op": "tolerance", "right": "paid_amount", "threshold": 0.02}]}],
 "output": {"matched": "out/matched.parquet", "unmatched_left": "out/ul.parquet", "unmatched_right": "out/ur.parquet"}}`, left, right, amount)
}

// createRun creates a run of the CSV recipe and returns its id.
func (e *env) createRun(t *testing.T) string {
	t.Helper()
	resp, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe("", "", "")}))
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	return resp.Msg.GetRunId()
}

// jobTypes lists a run's jobs as "type/status".
func (e *env) jobTypes(t *testing.T, runID string) []string {
	t.Helper()
	rows, err := e.pool.Query(e.ctx, "SELECT type || '/' || status FROM jobs WHERE run_id = $1 ORDER BY type", runID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(e.ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fetch takes the next message of a stream's durable consumer (failing
// after a few seconds) and returns its envelope.
func (e *env) fetch(t *testing.T, stream, consumer string) *kallav1.JobEnvelope {
	t.Helper()
	cons, err := e.js.Consumer(e.ctx, stream, consumer)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if msg, ok := <-batch.Messages(); ok {
		msg.Ack()
		env, err := queue.Decode(msg.Data())
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	t.Fatalf("no message on %s within 5s (%v)", stream, batch.Error())
	return nil
}

// fieldsOf lists the fields that an error's FieldError details name.
func fieldsOf(cerr *connect.Error) []string {
	var fields []string
	for _, d := range cerr.Details() {
		if fe, err := d.Value(); err == nil {
			if fe, ok := fe.(*kallav1.FieldError); ok {
				fields = append(fields, fe.GetField())
			}
		}
	}
	return fields
}

func wantCode(t *testing.T, err error, code connect.Code) *connect.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", code)
	}
	if connect.CodeOf(err) != code {
		t.Fatalf("error %v, want code %v", err, code)
	}
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("not a connect error: %v", err)
	}
	return cerr
}
