package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/gen/kalla/v1/kallav1connect"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/testenv"
	"github.com/kallahq/kalla/libs/xlsx"
	"github.com/kallahq/kalla/services/planner/internal/api"
)

var evidenceNames = []string{"matched.parquet", "unmatched_left.parquet", "unmatched_right.parquet", "summary.json"}

// workbookRows are the rows each workbook download holds, its header
// first: writeEvidence's Parquet files as the planner writes them.
var workbookRows = map[string]string{
	"matched.xlsx":         "match_id,rule,pattern,side,key,deltas\n1,exact,1:1,left,INV-1,\n1,exact,1:1,right,P-1,\n",
	"unmatched_left.xlsx":  "invoice_id\nINV-3\n",
	"unmatched_right.xlsx": "payment_id\nP-3\nP-4\n",
}

// writeEvidence writes a run's four evidence files into dir and returns
// their contents by name.
func writeEvidence(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	str, i64 := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64
	writeParquet(t, filepath.Join(dir, "matched.parquet"),
		column{"match_id", i64, []any{1, 1}}, column{"rule", str, []any{"exact", "exact"}},
		column{"pattern", str, []any{"1:1", "1:1"}}, column{"side", str, []any{"left", "right"}},
		column{"key", str, []any{"INV-1", "P-1"}}, column{"deltas", str, []any{"", ""}})
	writeParquet(t, filepath.Join(dir, "unmatched_left.parquet"), column{"invoice_id", str, []any{"INV-3"}})
	writeParquet(t, filepath.Join(dir, "unmatched_right.parquet"), column{"payment_id", str, []any{"P-3", "P-4"}})
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), []byte(`{"match_groups": 1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, n := range evidenceNames {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// complete records the run as completed with its evidence under root
// (file:///dir/ or s3://bucket/prefix/).
func (e *env) complete(t *testing.T, runID, root string) {
	t.Helper()
	uris, _ := json.Marshal(evidence.URIs{Matched: root + "matched.parquet", UnmatchedLeft: root + "unmatched_left.parquet",
		UnmatchedRight: root + "unmatched_right.parquet", Summary: root + "summary.json"})
	if err := e.store.CompleteRun(e.ctx, runID, []byte(`{"match_groups": 1}`), uris); err != nil {
		t.Fatal(err)
	}
}

// get fetches a path of the env's server without a bearer token.
func (e *env) get(t *testing.T, method, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// completedRun records a run completed with evidence in a folder of its
// own, and returns the run, the folder and each file's bytes by name.
func (e *env) completedRun(t *testing.T) (runID, dir string, data map[string][]byte) {
	t.Helper()
	e.writeCSVs(t)
	runID = e.createRun(t)
	dir = filepath.Join(t.TempDir(), runID)
	data = writeEvidence(t, dir)
	e.complete(t, runID, "file://"+dir+"/")
	return runID, dir, data
}

func (e *env) links(t *testing.T, runID string) []*kallav1.EvidenceLink {
	t.Helper()
	resp, err := e.runs.GetEvidenceLinks(e.ctx, connect.NewRequest(&kallav1.GetEvidenceLinksRequest{RunId: runID}))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Msg.GetLinks()
}

// checkDownloads gets every link and compares the bytes and headers.
func (e *env) checkDownloads(t *testing.T, runID string, want map[string][]byte) {
	t.Helper()
	before := time.Now()
	links := e.links(t, runID)
	if len(links) != 7 {
		t.Fatalf("%d links, want 4 and 3 workbooks: %v", len(links), links)
	}
	e.checkWorkbooks(t, links[4:])
	links = links[:4]
	types := map[string]string{".parquet": "application/vnd.apache.parquet", ".json": "application/json"}
	for i, l := range links {
		if l.GetName() != evidenceNames[i] {
			t.Errorf("link %d is %q, want %q", i, l.GetName(), evidenceNames[i])
		}
		u, err := url.Parse(l.GetUrl())
		if err != nil || u.Path != "/evidence/"+runID+"/"+l.GetName() || u.Host != "" {
			t.Errorf("url = %q", l.GetUrl())
		}
		exp, _ := strconv.ParseInt(u.Query().Get("expires"), 10, 64)
		if got := l.GetExpiresAt().AsTime(); got.Unix() != exp || got.Before(before.Add(14*time.Minute)) || got.After(time.Now().Add(16*time.Minute)) {
			t.Errorf("expires_at = %v, expires = %d", got, exp)
		}
		resp, body := e.get(t, http.MethodGet, l.GetUrl())
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want[l.GetName()]) {
			t.Errorf("GET %s: %d, %d bytes, want %d bytes: %.200s", l.GetName(), resp.StatusCode, len(body), len(want[l.GetName()]), body)
		}
		h := resp.Header
		if ct := h.Get("Content-Type"); ct != types[filepath.Ext(l.GetName())] {
			t.Errorf("%s: Content-Type %q", l.GetName(), ct)
		}
		if cd := h.Get("Content-Disposition"); cd != `attachment; filename="`+runID+"-"+l.GetName()+`"` {
			t.Errorf("%s: Content-Disposition %q", l.GetName(), cd)
		}
		if resp.ContentLength != int64(len(want[l.GetName()])) {
			t.Errorf("%s: Content-Length %d, want %d", l.GetName(), resp.ContentLength, len(want[l.GetName()]))
		}
		resp, body = e.get(t, http.MethodHead, l.GetUrl())
		if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(want[l.GetName()])) {
			t.Errorf("HEAD %s: %d, %d bytes, length %d", l.GetName(), resp.StatusCode, len(body), resp.ContentLength)
		}
	}
}

// checkWorkbooks gets each workbook link: an Excel workbook the planner
// writes of a Parquet evidence file, of the same rows, on a sheet named
// like the file.
func (e *env) checkWorkbooks(t *testing.T, links []*kallav1.EvidenceLink) {
	t.Helper()
	for _, l := range links {
		want, ok := workbookRows[l.GetName()]
		if !ok {
			t.Errorf("link %q, want a workbook of an evidence file", l.GetName())
			continue
		}
		resp, body := e.get(t, http.MethodGet, l.GetUrl())
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || resp.ContentLength != int64(len(body)) {
			t.Errorf("GET %s: %d, %s, length %d of %d bytes: %.200s", l.GetName(), resp.StatusCode, resp.Header.Get("Content-Type"), resp.ContentLength, len(body), body)
			continue
		}
		path := filepath.Join(t.TempDir(), l.GetName())
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := source.CSVSchema(path, source.CSVOptions{Sheet: strings.TrimSuffix(l.GetName(), ".xlsx")})
		if err != nil {
			t.Fatalf("%s: %v", l.GetName(), err)
		}
		var rows bytes.Buffer
		if _, _, err := source.RewriteCSV(path, s.CSV, &rows); err != nil || rows.String() != want {
			t.Errorf("%s holds %q (%v), want %q", l.GetName(), rows.String(), err, want)
		}
		// A HEAD does not write the workbook: no length.
		head, _ := e.get(t, http.MethodHead, l.GetUrl())
		if head.StatusCode != http.StatusOK || head.ContentLength > 0 || head.Header.Get("Content-Type") != resp.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d, length %d, %s", l.GetName(), head.StatusCode, head.ContentLength, head.Header.Get("Content-Type"))
		}
	}
}

// writeIDs writes a Parquet file of n match ids, in row groups of the
// writer's default size (writeParquet's of 3 rows would take a while).
func writeIDs(t *testing.T, path string, n int) {
	t.Helper()
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for i := range n {
		b.Append(int64(i + 1))
	}
	ids := b.NewArray()
	defer ids.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "match_id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	tbl := array.NewTableFromSlice(schema, [][]arrow.Array{{ids}})
	defer tbl.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pqarrow.WriteTable(tbl, f, int64(n), nil, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
}

func TestEvidenceLinks(t *testing.T) {
	t.Parallel()
	s3 := testenv.S3(t)
	cfg := s3.Config()
	e := setup(t, func(c *api.Config) { c.ObjStore = cfg })
	e.writeCSVs(t)
	tokens := []string{"other-token", token}

	fileRun := e.createRun(t)
	_, err := e.runs.GetEvidenceLinks(e.ctx, connect.NewRequest(&kallav1.GetEvidenceLinksRequest{RunId: fileRun}))
	wantCode(t, err, connect.CodeFailedPrecondition)
	dir := filepath.Join(t.TempDir(), "evidence", fileRun)
	fileData := writeEvidence(t, dir)
	e.complete(t, fileRun, "file://"+dir+"/")

	s3Run := e.createRun(t)
	s3Dir := filepath.Join(t.TempDir(), s3Run)
	s3Data := writeEvidence(t, s3Dir)
	store, err := objstore.Open("s3://"+s3.Bucket+"/evidence/"+s3Run, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range evidenceNames {
		if err := store.PutFile(e.ctx, n, filepath.Join(s3Dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	e.complete(t, s3Run, "s3://"+s3.Bucket+"/evidence/"+s3Run+"/")

	t.Run("file_evidence", func(t *testing.T) { e.checkDownloads(t, fileRun, fileData) })
	t.Run("s3_evidence", func(t *testing.T) { e.checkDownloads(t, s3Run, s3Data) })

	t.Run("every_replica_with_the_same_tokens_signs_alike", func(t *testing.T) {
		link := e.links(t, fileRun)[0]
		u, _ := url.Parse(link.GetUrl())
		exp, _ := strconv.ParseInt(u.Query().Get("expires"), 10, 64)
		for _, toks := range [][]string{tokens, {token, "other-token"}, {" " + token, "", "other-token"}} {
			if got := api.EvidenceURL(toks, fileRun, link.GetName(), time.Unix(exp, 0)); got != link.GetUrl() {
				t.Errorf("tokens %q sign %q, want %q", toks, got, link.GetUrl())
			}
		}
		want := sha256.Sum256([]byte("other-token\n" + token))
		if !bytes.Equal(api.LinkKey(tokens), want[:]) {
			t.Errorf("key of %q is not SHA-256 of the sorted tokens", tokens)
		}
		empty := sha256.Sum256(nil)
		if !bytes.Equal(api.LinkKey(nil), empty[:]) {
			t.Error("key without tokens is not SHA-256 of \"\"")
		}
	})

	t.Run("refused_links", func(t *testing.T) {
		link := e.links(t, fileRun)[0].GetUrl()
		future := time.Now().Add(time.Hour)
		tampered := link[:len(link)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(link, "0")]
		u, _ := url.Parse(link)
		q := u.Query()
		q.Set("expires", strconv.FormatInt(future.Add(time.Hour).Unix(), 10))
		longer := u.Path + "?" + q.Encode()
		otherFile := strings.Replace(link, "/matched.parquet?", "/summary.json?", 1)
		otherRun := strings.Replace(link, fileRun, s3Run, 1)
		for name, c := range map[string]struct {
			path string
			code int
			says string
		}{
			"tampered_signature": {tampered, http.StatusForbidden, "signature"},
			"no_signature":       {u.Path, http.StatusForbidden, "signature"},
			"extended_expiry":    {longer, http.StatusForbidden, "signature"},
			"other_file":         {otherFile, http.StatusForbidden, "signature"},
			"other_run":          {otherRun, http.StatusForbidden, "signature"},
			"other_tokens":       {api.EvidenceURL([]string{"nope"}, fileRun, "matched.parquet", future), http.StatusForbidden, "signature"},
			"no_tokens_key":      {api.EvidenceURL(nil, fileRun, "matched.parquet", future), http.StatusForbidden, "signature"},
			"expired":            {api.EvidenceURL(tokens, fileRun, "matched.parquet", time.Now().Add(-time.Second)), http.StatusForbidden, "expired"},
			"unknown_run":        {api.EvidenceURL(tokens, "00000000-0000-4000-8000-000000000000", "matched.parquet", future), http.StatusNotFound, "run"},
			"malformed_run":      {api.EvidenceURL(tokens, "not-a-run", "matched.parquet", future), http.StatusNotFound, "run"},
			"unknown_file":       {api.EvidenceURL(tokens, fileRun, "secrets.parquet", future), http.StatusNotFound, "file"},
			"no_evidence_yet":    {api.EvidenceURL(tokens, e.createRun(t), "matched.parquet", future), http.StatusNotFound, "file"},
		} {
			resp, body := e.get(t, http.MethodGet, c.path)
			if resp.StatusCode != c.code || !strings.Contains(string(body), c.says) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("%s: %d %.200q (%s), want %d mentioning %q", name, resp.StatusCode, body, resp.Header.Get("Content-Type"), c.code, c.says)
			}
			if strings.Contains(string(body), "file://") || strings.Contains(string(body), "s3://") {
				t.Errorf("%s: the answer reveals a location: %q", name, body)
			}
		}
		resp, _ := e.get(t, http.MethodPost, link)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %d, want 405", resp.StatusCode)
		}
	})

	t.Run("workbook_too_large", func(t *testing.T) {
		// More rows than a sheet holds under its header: the Parquet
		// file is the way.
		runID := e.createRun(t)
		dir := filepath.Join(t.TempDir(), runID)
		writeEvidence(t, dir)
		writeIDs(t, filepath.Join(dir, "matched.parquet"), xlsx.MaxRows+1)
		e.complete(t, runID, "file://"+dir+"/")
		resp, body := e.get(t, http.MethodGet, e.links(t, runID)[4].GetUrl())
		if want := "matched holds 1048576 rows, more than an Excel sheet holds (1048575 under its header); download the Parquet file"; resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), want) {
			t.Errorf("GET matched.xlsx: %d %q, want 422 saying %s", resp.StatusCode, body, want)
		}
	})
	t.Run("gone_object", func(t *testing.T) {
		if err := store.Delete(e.ctx, "unmatched_left.parquet"); err != nil {
			t.Fatal(err)
		}
		resp, body := e.get(t, http.MethodGet, e.links(t, s3Run)[1].GetUrl())
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "s3://") {
			t.Errorf("GET of a deleted object: %d %q", resp.StatusCode, body)
		}
	})

	t.Run("rpc_errors", func(t *testing.T) {
		for id, code := range map[string]connect.Code{
			"00000000-0000-4000-8000-000000000000": connect.CodeNotFound,
			"nope":                                 connect.CodeInvalidArgument,
			e.createRun(t):                         connect.CodeFailedPrecondition,
		} {
			_, err := e.runs.GetEvidenceLinks(e.ctx, connect.NewRequest(&kallav1.GetEvidenceLinksRequest{RunId: id}))
			wantCode(t, err, code)
		}
		_, err := kallav1connect.NewRunServiceClient(authClient("", false), e.url).GetEvidenceLinks(e.ctx, connect.NewRequest(&kallav1.GetEvidenceLinksRequest{RunId: fileRun}))
		wantCode(t, err, connect.CodeUnauthenticated)
	})
}

// TestWorkbookDownloads: workbooks are written one at a time here, and
// once: a second download is read from the planner's cache.
func TestWorkbookDownloads(t *testing.T) {
	t.Parallel()
	var log testenv.Buffer
	e := setup(t, func(c *api.Config) {
		c.WorkbookConversions = 1
		c.Log = slog.New(slog.NewTextHandler(&log, nil))
	})
	runID, dir, data := e.completedRun(t)
	links := e.links(t, runID)
	matched, workbook := links[0], links[4]
	if matched.GetName() != "matched.parquet" || workbook.GetName() != "matched.xlsx" {
		t.Fatalf("links = %v", links)
	}

	free := api.HoldConversions(e.srv)
	impatient := &http.Client{Timeout: 500 * time.Millisecond}
	if resp, err := impatient.Get(e.url + workbook.GetUrl()); err == nil {
		resp.Body.Close()
		t.Errorf("GET matched.xlsx while every slot is taken: %d, want it to wait", resp.StatusCode)
	}
	if resp, body := e.get(t, http.MethodGet, matched.GetUrl()); resp.StatusCode != http.StatusOK || !bytes.Equal(body, data["matched.parquet"]) {
		t.Errorf("GET matched.parquet while every slot is taken: %d, %d bytes", resp.StatusCode, len(body))
	}
	free()
	resp, first := e.get(t, http.MethodGet, workbook.GetUrl())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET matched.xlsx once a slot is free: %d %q", resp.StatusCode, first)
	}
	e.checkWorkbooks(t, links[4:5])

	if n := strings.Count(log.String(), "evidence workbook written"); n != 1 {
		t.Errorf("%d workbooks written for three downloads and a HEAD, want 1:\n%s", n, log.String())
	}
	if err := os.Remove(filepath.Join(dir, "matched.parquet")); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.get(t, http.MethodGet, workbook.GetUrl()); resp.StatusCode != http.StatusOK || !bytes.Equal(body, first) {
		t.Errorf("GET matched.xlsx after its Parquet file is gone: %d, %d bytes, want the %d bytes written before", resp.StatusCode, len(body), len(first))
	}
	if resp, _ := e.get(t, http.MethodGet, matched.GetUrl()); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET matched.parquet once gone: %d, want 404", resp.StatusCode)
	}
}

// TestEvidenceLinksWithoutTokens: with auth open, links are still signed,
// with the key of the empty token list.
func TestEvidenceLinksWithoutTokens(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *api.Config) { c.Tokens = nil })
	runID, _, data := e.completedRun(t)
	links := e.links(t, runID)
	if len(links) != 7 {
		t.Fatalf("links = %v", links)
	}
	l := links[3]
	u, _ := url.Parse(l.GetUrl())
	if u.Query().Get("signature") == "" || l.GetUrl() != api.EvidenceURL(nil, runID, l.GetName(), l.GetExpiresAt().AsTime()) {
		t.Errorf("url = %q", l.GetUrl())
	}
	if resp, body := e.get(t, http.MethodGet, l.GetUrl()); resp.StatusCode != http.StatusOK || !bytes.Equal(body, data[l.GetName()]) {
		t.Errorf("GET: %d %q", resp.StatusCode, body)
	}
	bad := strings.Replace(l.GetUrl(), "signature=", "signature=00", 1)
	if resp, _ := e.get(t, http.MethodGet, bad); resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered: %d, want 403", resp.StatusCode)
	}
}
