package api_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/testenv"
	"github.com/kallahq/kalla/services/planner/internal/api"
)

// TestObjectSources reads an s3:// source's schema through the object
// store: CreateRun checks its columns and queues the exec job.
func TestObjectSources(t *testing.T) {
	t.Parallel()
	s3 := testenv.S3(t)
	cfg := s3.Config()
	e := setup(t, func(c *api.Config) { c.ObjStore = cfg })
	e.writeCSVs(t)
	store, err := objstore.Open("s3://"+s3.Bucket+"/in", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutFile(e.ctx, "payments.csv", filepath.Join(e.dir, "payments.csv")); err != nil {
		t.Fatal(err)
	}
	right := "s3://" + s3.Bucket + "/in/payments.csv"

	resp, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe("", right, "")}))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.jobTypes(t, resp.Msg.GetRunId()); !slices.Equal(got, []string{"exec/pending"}) {
		t.Errorf("jobs = %v", got)
	}
	bad := strings.Replace(e.recipe("", right, ""), `"right": "paid_amount"`, `"right": "paid"`, 1)
	_, err = e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: bad}))
	if cerr := wantCode(t, err, connect.CodeInvalidArgument); !strings.Contains(cerr.Message(), "payment_id, reference_number, paid_amount") {
		t.Errorf("message = %s", cerr.Message())
	}
	_, err = e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe("", "s3://"+s3.Bucket+"/in/missing.csv", "")}))
	if cerr := wantCode(t, err, connect.CodeInvalidArgument); !strings.Contains(cerr.Message(), "payments") {
		t.Errorf("message = %s", cerr.Message())
	}
	// A gzipped .tsv object is read through gzip, its fields split by tabs
	// though a header name holds a comma: its columns are listed.
	var tsv bytes.Buffer
	z := gzip.NewWriter(&tsv)
	if _, err := z.Write([]byte("payment_id\treference_number\tpaid_amount\tmemo, sent\nP-1\tINV-1\t100.00\tx\nP-2\tINV-2\t250.49\ty\n")); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "payments.tsv.gz"), tsv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := store.PutFile(e.ctx, "payments.tsv.gz", filepath.Join(e.dir, "payments.tsv.gz")); err != nil {
		t.Fatal(err)
	}
	tsvURI := "s3://" + s3.Bucket + "/in/payments.tsv.gz"
	if _, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe("", tsvURI, "")})); err != nil {
		t.Errorf("a gzipped .tsv object: %v", err)
	}
	_, err = e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: strings.Replace(bad, right, tsvURI, 1)}))
	if cerr := wantCode(t, err, connect.CodeInvalidArgument); !strings.Contains(cerr.Message(), `payment_id, reference_number, paid_amount, "memo, sent"`) {
		t.Errorf("a gzipped .tsv object: message = %s", cerr.Message())
	}
	// A pattern names the objects of its folder whose names match: not
	// those in a folder below nor of another ending, whose other columns
	// would be refused.
	for key, text := range map[string]string{"pay-1.csv": "payment_id,reference_number,paid_amount\nP-1,INV-1,100.00\n",
		"pay-2.csv": "payment_id,reference_number,paid_amount\nP-2,INV-2,250.49\n", "pay-3/old.csv": "x,y\n1,2\n", "pay-4.csv.bak": "x,y\n1,2\n"} {
		if err := store.Put(e.ctx, key, strings.NewReader(text)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe("", "s3://"+s3.Bucket+"/in/pay-*.csv", "")}))
	if err != nil {
		t.Errorf("objects named by a pattern: %v", err)
	}
	// The SQL names the objects, not the planner's copies, which are gone.
	x, err := e.recipes.ExplainRecipe(e.ctx, connect.NewRequest(&kallav1.ExplainRecipeRequest{Recipe: e.recipe("", "s3://"+s3.Bucket+"/in/pay-*.csv", "")}))
	in := "'<download of s3://" + s3.Bucket + "/in>/"
	if err != nil || !strings.Contains(x.Msg.GetSql(), "read_csv(["+in+"pay-1.csv', "+in+"pay-2.csv'], ") {
		t.Errorf("explained: %v\n%s", err, x.Msg.GetSql())
	}
	x, err = e.recipes.ExplainRecipe(e.ctx, connect.NewRequest(&kallav1.ExplainRecipeRequest{Recipe: e.recipe("", tsvURI, "")}))
	if err != nil || !strings.Contains(x.Msg.GetSql(), "read_csv("+in+"payments.tsv.gz', ") || !strings.Contains(x.Msg.GetSql(), "compression = 'gzip'") {
		t.Errorf("explained: %v\n%s", err, x.Msg.GetSql())
	}
	// One workbook's sheets named by a pattern: each part is named by the
	// object's name, not by the planner's copy's.
	if err := store.PutFile(e.ctx, "statement.xlsx", "../../../../examples/bank/statement.xlsx"); err != nil {
		t.Fatal(err)
	}
	book, err := os.ReadFile("../../../../examples/bank/recipe-workbook.json")
	if err != nil {
		t.Fatal(err)
	}
	payments, err := filepath.Abs("../../../../examples/bank/payments.csv")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(`"file://statement.xlsx"`, `"s3://`+s3.Bucket+`/in/statement.xlsx"`, `"file://payments.csv"`, `"file://`+payments+`"`,
		`"sheet": "Transactions"`, `"sheet": "Trans*"`).Replace(string(book))
	x, err = e.recipes.ExplainRecipe(e.ctx, connect.NewRequest(&kallav1.ExplainRecipeRequest{Recipe: text}))
	if want := "<download of s3://" + s3.Bucket + `/in>/statement.xlsx sheet "Transactions" written as CSV`; err != nil || !strings.Contains(x.Msg.GetSql(), want) {
		t.Errorf("explained a workbook's sheets named by a pattern: %v, want %s in\n%s", err, want, x.Msg.GetSql())
	}
	_, err = e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe("", "s3://"+s3.Bucket+"/in/paid-*.csv", "")}))
	if cerr := wantCode(t, err, connect.CodeInvalidArgument); !strings.Contains(cerr.Message(), "no object in s3://"+s3.Bucket+"/in/ matches paid-*.csv") {
		t.Errorf("a pattern naming no object: message = %s", cerr.Message())
	}
	os.Remove(filepath.Join(e.dir, "payments.csv")) // the object is what counts
	v, err := e.recipes.ValidateRecipe(e.ctx, connect.NewRequest(&kallav1.ValidateRecipeRequest{Recipe: e.recipe("", right, ""), CheckSources: true}))
	if err != nil || !v.Msg.GetValid() {
		t.Errorf("validate = %v, %v", v, err)
	}
}

// TestPlannerWithoutS3Credentials: a planner set up without S3
// credentials cannot read an object source, which is no mistake in the
// recipe.
func TestPlannerWithoutS3Credentials(t *testing.T) {
	t.Parallel()
	s3 := testenv.S3(t)
	e := setup(t, func(c *api.Config) { c.ObjStore = objstore.Config{Endpoint: s3.Endpoint, PathStyle: true} })
	e.writeCSVs(t)
	_, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: e.recipe("", "s3://"+s3.Bucket+"/in/payments.csv", "")}))
	if cerr := wantCode(t, err, connect.CodeFailedPrecondition); !strings.Contains(cerr.Message(), "the planner's S3 settings: objstore: open s3://"+s3.Bucket+"/in: no S3 credentials") {
		t.Errorf("message = %s", cerr.Message())
	}
}

// TestObjectStoreAway: an object store the planner cannot reach, or one
// that fails (5xx), is no mistake in the recipe; the answer is
// Unavailable, to be tried again.
func TestObjectStoreAway(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	away := "http://" + l.Addr().String()
	l.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`)
	}))
	t.Cleanup(failing.Close)
	for name, endpoint := range map[string]string{"away": away, "failing": failing.URL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := objstore.Config{Endpoint: endpoint, AccessKeyID: "kalla", SecretAccessKey: "kalla", PathStyle: true}
			e := setup(t, func(c *api.Config) { c.ObjStore = cfg })
			e.writeCSVs(t)
			for _, uri := range []string{"s3://bucket/in/payments.csv", "s3://bucket/in/pay-*.csv"} {
				text := e.recipe("", uri, "")
				_, err := e.runs.CreateRun(e.ctx, connect.NewRequest(&kallav1.CreateRunRequest{Recipe: text}))
				wantCode(t, err, connect.CodeUnavailable)
				_, err = e.recipes.ValidateRecipe(e.ctx, connect.NewRequest(&kallav1.ValidateRecipeRequest{Recipe: text, CheckSources: true}))
				wantCode(t, err, connect.CodeUnavailable)
			}
			if n := e.count(t, "runs"); n != 0 {
				t.Errorf("%d runs recorded", n)
			}
		})
	}
}
