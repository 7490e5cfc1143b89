package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/xlsx"
)

// Signed evidence links: GetEvidenceLinks hands out
//
//	/evidence/<run_id>/<name>?expires=<unix seconds>&signature=<hex>
//
// where signature is HMAC-SHA256 over "<run_id>\n<name>\n<expires>" keyed
// with linkKey(tokens). The key depends only on the configured tokens, so
// every replica with the same tokens accepts the same links. The link is
// the authorization: /evidence/ is not behind the bearer token.
const (
	evidencePath    = "/evidence/"
	evidenceLinkTTL = 15 * time.Minute
)

// linkKey derives the link signing key: SHA-256 over the sorted tokens
// (trimmed, empty ones dropped, as NewAuth does) joined with "\n". With no
// tokens it is SHA-256 of "": links are signed the same way, and the API is
// open anyway.
func linkKey(tokens []string) []byte {
	var ts []string
	for _, t := range tokens {
		if t = strings.TrimSpace(t); t != "" {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	sum := sha256.Sum256([]byte(strings.Join(ts, "\n")))
	return sum[:]
}

// linkMAC is the signature of one link. A run id is a UUID and expires is
// digits, so the three parts cannot run into each other.
func linkMAC(key []byte, runID, name string, expires int64) []byte {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, runID+"\n"+name+"\n"+strconv.FormatInt(expires, 10))
	return m.Sum(nil)
}

// evidenceLink is the signed path of one evidence file.
func evidenceLink(key []byte, runID, name string, expires time.Time) string {
	exp := expires.Unix()
	q := url.Values{}
	q.Set("expires", strconv.FormatInt(exp, 10))
	q.Set("signature", hex.EncodeToString(linkMAC(key, runID, name, exp)))
	return evidencePath + url.PathEscape(runID) + "/" + url.PathEscape(name) + "?" + q.Encode()
}

// evidenceFile is one evidence object: its base name and its URI; or,
// with workbook, the Excel workbook the planner writes of the Parquet
// object at uri when it is downloaded.
type evidenceFile struct {
	name, uri string
	workbook  bool
}

// evidenceFiles lists a run's evidence objects in a fixed order: matched,
// unmatched left, unmatched right, summary. Empty URIs are skipped; a name
// seen twice keeps its first URI.
func evidenceFiles(u evidence.URIs) []evidenceFile {
	var out []evidenceFile
	for _, uri := range []string{u.Matched, u.UnmatchedLeft, u.UnmatchedRight, u.Summary} {
		name := uri[strings.LastIndex(uri, "/")+1:]
		if name == "" || slices.ContainsFunc(out, func(f evidenceFile) bool { return f.name == name }) {
			continue
		}
		out = append(out, evidenceFile{name: name, uri: uri})
	}
	for _, f := range slices.Clone(out) {
		if base, ok := strings.CutSuffix(f.name, ".parquet"); ok && !slices.ContainsFunc(out, func(g evidenceFile) bool { return g.name == base+".xlsx" }) {
			out = append(out, evidenceFile{name: base + ".xlsx", uri: f.uri, workbook: true})
		}
	}
	return out
}

// GetEvidenceLinks returns a signed download link for each evidence file of
// a completed run, valid for 15 minutes.
func (s *Server) GetEvidenceLinks(ctx context.Context, req *connect.Request[kallav1.GetEvidenceLinksRequest]) (*connect.Response[kallav1.GetEvidenceLinksResponse], error) {
	r, uris, err := s.evidenceOf(ctx, req.Msg.GetRunId())
	if err != nil {
		return nil, err
	}
	expires := time.Unix(time.Now().Add(evidenceLinkTTL).Unix(), 0)
	resp := &kallav1.GetEvidenceLinksResponse{}
	for _, f := range evidenceFiles(uris) {
		resp.Links = append(resp.Links, &kallav1.EvidenceLink{
			Name:      f.name,
			Url:       evidenceLink(s.linkKey, r.ID, f.name, expires),
			ExpiresAt: timestamppb.New(expires),
		})
	}
	return connect.NewResponse(resp), nil
}

// serveEvidence answers GET and HEAD /evidence/<run_id>/<name> for a link
// from GetEvidenceLinks: 403 for a bad or expired signature, 404 for an
// unknown run or file, else the file streamed from the object store.
func (s *Server) serveEvidence(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	runID, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, evidencePath), "/")
	if !ok || runID == "" || name == "" || strings.Contains(name, "/") {
		http.Error(w, "not found: want /evidence/<run_id>/<file>", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	expires, eerr := strconv.ParseInt(q.Get("expires"), 10, 64)
	sig, serr := hex.DecodeString(q.Get("signature"))
	if eerr != nil || serr != nil || !hmac.Equal(sig, linkMAC(s.linkKey, runID, name, expires)) {
		http.Error(w, "forbidden: invalid link signature; ask GetEvidenceLinks for a new link", http.StatusForbidden)
		return
	}
	if time.Now().Unix() > expires {
		http.Error(w, "forbidden: link expired; ask GetEvidenceLinks for a new link", http.StatusForbidden)
		return
	}
	run, err := s.store.GetRun(r.Context(), runID) // a malformed id is ErrNotFound too
	if err != nil {
		switch {
		case errors.Is(err, jobs.ErrNotFound):
			http.Error(w, "not found: no such run", http.StatusNotFound)
		case r.Context().Err() != nil:
			// The client went away.
		default:
			s.log.Error("evidence download: database error", "run_id", runID, "error", err)
			http.Error(w, "the run store is unavailable; try again", http.StatusServiceUnavailable)
		}
		return
	}
	uris, _ := evidenceURIs(run)
	files := evidenceFiles(uris)
	i := slices.IndexFunc(files, func(f evidenceFile) bool { return f.name == name })
	if i < 0 {
		http.Error(w, "not found: the run has no such evidence file", http.StatusNotFound)
		return
	}
	uri := files[i].uri
	var rc io.ReadCloser
	switch {
	case files[i].workbook && r.Method == http.MethodHead:
		// A workbook's size is known once it is written, which a HEAD
		// does not pay for: it answers without a length.
		if rc, err = s.openEvidence(r.Context(), uri); err == nil {
			rc.Close()
			rc = io.NopCloser(strings.NewReader(""))
		}
	case files[i].workbook:
		rc, err = s.workbook(r.Context(), uri, strings.TrimSuffix(name, ".xlsx"))
	default:
		rc, err = s.openEvidence(r.Context(), uri)
	}
	var tooLarge *xlsx.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, "unprocessable: "+tooLarge.Error()+"; download the Parquet file", http.StatusUnprocessableEntity)
		return
	case errors.Is(err, objstore.ErrNotFound):
		http.Error(w, "not found: the evidence file is gone", http.StatusNotFound)
		return
	case err != nil && r.Context().Err() != nil:
		return // the client went away while a workbook was written
	case err != nil:
		s.log.Error("evidence download: open failed", "run_id", runID, "uri", source.Redact(uri), "file", name, "error", err)
		http.Error(w, "the evidence file cannot be read now; try again", http.StatusBadGateway)
		return
	}
	defer rc.Close()

	h := w.Header()
	h.Set("Content-Type", contentType(name))
	h.Set("Content-Disposition", `attachment; filename="`+quoteSafe(runID+"-"+name)+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	if n, ok := objstore.Size(rc); ok {
		h.Set("Content-Length", strconv.FormatInt(n, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, rc); err != nil && r.Context().Err() == nil {
		s.log.Warn("evidence download cut short", "run_id", runID, "file", name, "error", err)
	}
}

// openEvidence opens the evidence object at uri.
func (s *Server) openEvidence(ctx context.Context, uri string) (io.ReadCloser, error) {
	store, key, err := objstore.OpenObject(uri, s.cfg.ObjStore)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, key)
}

// workbook opens the Parquet evidence object at uri written as an Excel
// workbook of one sheet, named sheet. Workbooks are kept in the evidence
// cache, like the Parquet files they are written from, so a second
// download of one is a read; at most cap(s.converting) are written at once.
func (s *Server) workbook(ctx context.Context, uri, sheet string) (io.ReadCloser, error) {
	local, release, err := s.cache.get(ctx, uri+"#sheet="+sheet, func(ctx context.Context, local string) error {
		from, releaseFrom, err := s.cache.get(ctx, uri, func(ctx context.Context, local string) error {
			return s.download(ctx, uri, local)
		})
		if err != nil {
			return err
		}
		defer releaseFrom()
		// The slot is taken for the writing alone, which is CPU's work.
		select {
		case s.converting <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.converting }()
		start := time.Now()
		if err := xlsx.FromParquet(ctx, from, local, sheet); err != nil {
			return err
		}
		s.log.Info("evidence workbook written", "uri", source.Redact(uri), "sheet", sheet, "took", time.Since(start).Round(time.Millisecond))
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer release()
	return os.Open(local) // an open file outlives its eviction
}

func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".parquet":
		return "application/vnd.apache.parquet"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".csv":
		return "text/csv"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// quoteSafe replaces what cannot stand inside a quoted header parameter.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}
