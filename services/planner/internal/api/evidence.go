package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/sqlplan"
)

// Columns of the evidence files that are not source columns (the others
// are sqlplan's RowColumn, FileColumn, FileRowColumn, NearFileColumn and
// NearFileRowColumn).
const (
	nearRuleColumn   = "kalla_near_rule"
	nearKeyColumn    = "kalla_near_key"
	nearReasonColumn = "kalla_near_reason"
	nearFailedColumn = "kalla_near_failed"
)

// ListMatches pages through the members of a run's match groups, in match
// order. With key set, only groups with a member whose key contains it.
func (s *Server) ListMatches(ctx context.Context, req *connect.Request[kallav1.ListMatchesRequest]) (*connect.Response[kallav1.ListMatchesResponse], error) {
	m := req.Msg
	size, offset, err := evidencePage(m.GetPageSize(), m.GetPageToken())
	if err != nil {
		return nil, err
	}
	r, uris, err := s.evidenceOf(ctx, m.GetRunId())
	if err != nil {
		return nil, err
	}
	resp := &kallav1.ListMatchesResponse{}
	var group []*kallav1.MatchMember
	keep := m.GetKey() == "" // without a key every group is kept
	// Rows before the page's start are not read: they count as emitted.
	emitted := pageStart(m.GetKey(), offset)
	// flush emits the buffered group; it reports true when the page is full
	// and one more member exists.
	flush := func() bool {
		if keep {
			for _, mm := range group {
				if emitted >= offset {
					if len(resp.Members) == size {
						resp.NextPageToken = offsetToken(emitted)
						return true
					}
					resp.Members = append(resp.Members, mm)
				}
				emitted++
			}
		}
		group, keep = group[:0], m.GetKey() == ""
		return false
	}
	err = s.scanEvidence(ctx, r.ID, uris.Matched, emitted, func(row rowReader) (bool, error) {
		id, err := strconv.ParseInt(row.text("match_id"), 10, 64)
		if err != nil {
			return false, fmt.Errorf("match_id %q: %w", row.text("match_id"), err)
		}
		if len(group) > 0 && group[0].MatchId != id && flush() {
			return true, nil
		}
		mm := &kallav1.MatchMember{
			MatchId: id, Rule: row.text("rule"), Pattern: row.text("pattern"),
			Side: sideOf(row.text("side")), Key: row.text("key"), Deltas: parseDeltas(row.text("deltas")),
			File: row.text(sqlplan.FileColumn),
		}
		mm.FileRow, _ = strconv.ParseInt(row.text(sqlplan.FileRowColumn), 10, 64)
		group = append(group, mm)
		keep = keep || strings.Contains(mm.Key, m.GetKey())
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if resp.NextPageToken == "" {
		flush()
	}
	return connect.NewResponse(resp), nil
}

// ListUnmatched pages through one side's unmatched records with their near
// misses, in key order.
func (s *Server) ListUnmatched(ctx context.Context, req *connect.Request[kallav1.ListUnmatchedRequest]) (*connect.Response[kallav1.ListUnmatchedResponse], error) {
	m := req.Msg
	size, offset, err := evidencePage(m.GetPageSize(), m.GetPageToken())
	if err != nil {
		return nil, err
	}
	side := m.GetSide()
	if side != kallav1.Side_SIDE_LEFT && side != kallav1.Side_SIDE_RIGHT {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("side must be SIDE_LEFT or SIDE_RIGHT"))
	}
	r, uris, err := s.evidenceOf(ctx, m.GetRunId())
	if err != nil {
		return nil, err
	}
	var rec kallav1.Recipe
	if err := proto.Unmarshal(r.Recipe, &rec); err != nil {
		return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("run %s: stored recipe: %w", r.ID, err))
	}
	uri, src := uris.UnmatchedLeft, rec.GetSources().GetLeft()
	if side == kallav1.Side_SIDE_RIGHT {
		uri, src = uris.UnmatchedRight, rec.GetSources().GetRight()
	}
	keyCols := src.GetPrimaryKey()
	if len(keyCols) == 0 {
		keyCols = []string{sqlplan.RowColumn}
	}
	resp := &kallav1.ListUnmatchedResponse{}
	emitted := pageStart(m.GetKey(), offset)
	err = s.scanEvidence(ctx, r.ID, uri, emitted, func(row rowReader) (bool, error) {
		parts := make([]string, len(keyCols))
		for i, c := range keyCols {
			if v, ok := row.value(c); ok {
				parts[i] = v
			} else {
				parts[i] = "NULL"
			}
		}
		key := evidence.KeyText(parts)
		if !strings.Contains(key, m.GetKey()) {
			return false, nil
		}
		if emitted < offset {
			emitted++
			return false, nil
		}
		if len(resp.Records) == size {
			resp.NextPageToken = offsetToken(emitted)
			return true, nil
		}
		emitted++
		ur := &kallav1.UnmatchedRecord{Side: side, Key: key, Values: map[string]string{}}
		for i, f := range row.schema.Fields() {
			switch f.Name {
			case sqlplan.RowColumn, sqlplan.FileColumn, sqlplan.FileRowColumn, nearRuleColumn, nearKeyColumn, sqlplan.NearFileColumn, sqlplan.NearFileRowColumn, nearReasonColumn, nearFailedColumn:
				continue
			}
			if v, ok := row.at(i); ok {
				ur.Values[f.Name] = v
			}
		}
		ur.File = row.text(sqlplan.FileColumn)
		ur.FileRow, _ = strconv.ParseInt(row.text(sqlplan.FileRowColumn), 10, 64)
		// A record without a near miss may still have a reason: which keys
		// no record of the other side shares with it.
		rule, hasRule := row.value(nearRuleColumn)
		if reason, ok := row.value(nearReasonColumn); hasRule || ok {
			failed, _ := strconv.Atoi(row.text(nearFailedColumn))
			ur.NearMiss = &kallav1.NearMiss{Rule: rule, OtherKey: row.text(nearKeyColumn), Reason: reason, FailedConditions: int32(failed), OtherFile: row.text(sqlplan.NearFileColumn)}
			ur.NearMiss.OtherFileRow, _ = strconv.ParseInt(row.text(sqlplan.NearFileRowColumn), 10, 64)
		}
		resp.Records = append(resp.Records, ur)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(resp), nil
}

// evidenceOf returns a run and its evidence locations; a run without
// evidence yet is FailedPrecondition.
func (s *Server) evidenceOf(ctx context.Context, runID string) (jobs.Run, evidence.URIs, error) {
	r, err := s.getRun(ctx, runID)
	if err != nil {
		return r, evidence.URIs{}, err
	}
	uris, ok := evidenceURIs(r)
	if !ok {
		return r, uris, connect.NewError(connect.CodeFailedPrecondition,
			fmt.Errorf("run %s has no evidence yet (status %s): evidence exists once the run has completed", r.ID, r.Status))
	}
	return r, uris, nil
}

// evidencePage reads page_size (default 50, at most 500) and the offset
// token.
func evidencePage(n int32, token string) (size, offset int, err error) {
	if size, err = pageSize(n); err != nil {
		return 0, 0, err
	}
	if token == "" {
		return size, 0, nil
	}
	b, derr := base64.RawURLEncoding.DecodeString(token)
	rest, ok := strings.CutPrefix(string(b), "offset:")
	offset, perr := strconv.Atoi(rest)
	if derr != nil || !ok || perr != nil || offset < 0 {
		return 0, 0, badPageToken()
	}
	return size, offset, nil
}

// pageStart is the row a page's scan may start from: without a key filter
// a page's offset is its first row, so the rows before it are skipped;
// with one, every earlier row must be seen to count the matches.
func pageStart(key string, offset int) int {
	if key != "" {
		return 0
	}
	return offset
}

func offsetToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

// scanEvidence reads one evidence Parquet object through the local cache
// and calls fn for each row from row from on, until fn returns true (stop)
// or an error. The row groups before the one holding row from are not read.
func (s *Server) scanEvidence(ctx context.Context, runID, uri string, from int, fn func(rowReader) (bool, error)) error {
	if uri == "" {
		return connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("run %s records no such evidence file", runID))
	}
	local, release, err := s.cache.get(ctx, uri, func(ctx context.Context, local string) error {
		return s.download(ctx, uri, local)
	})
	if err != nil {
		if ctx.Err() != nil {
			return connect.NewError(connect.CodeCanceled, ctx.Err())
		}
		if errors.Is(err, objstore.ErrNotFound) {
			return connect.NewError(connect.CodeNotFound, fmt.Errorf("run %s: evidence %s is gone", runID, uri))
		}
		s.log.Error("read evidence failed", "run_id", runID, "uri", uri, "error", err)
		return connect.NewError(connect.CodeUnavailable, fmt.Errorf("run %s: evidence %s cannot be read now; try again", runID, uri))
	}
	defer release()
	if err := readParquet(ctx, local, from, fn); err != nil {
		var cerr *connect.Error
		if errors.As(err, &cerr) {
			return err
		}
		return connect.NewError(connect.CodeInternal, fmt.Errorf("run %s: read %s: %w", runID, uri, err))
	}
	return nil
}

func readParquet(ctx context.Context, path string, from int, fn func(rowReader) (bool, error)) error {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return err
	}
	defer pf.Close()
	// A deep page starts at its row group: the groups before it are not
	// read, so a page costs at most one group's rows more than its own.
	skipped, groups := 0, []int{}
	for g := range pf.NumRowGroups() {
		if n := int(pf.MetaData().RowGroup(g).NumRows()); len(groups) == 0 && skipped+n <= from {
			skipped += n
			continue
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return nil
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	rr, err := fr.GetRecordReader(ctx, nil, groups)
	if err != nil {
		return err
	}
	defer rr.Release()
	schema := rr.Schema()
	index := map[string]int{}
	for i, f := range schema.Fields() {
		index[f.Name] = i
	}
	for {
		rec, err := rr.Read()
		if errors.Is(err, io.EOF) || (err == nil && rec == nil) {
			return nil
		}
		if err != nil {
			return err
		}
		row := rowReader{schema: schema, index: index, rec: rec}
		// The first group read may start before row from.
		row.i = min(from-skipped, int(rec.NumRows()))
		skipped += row.i
		for ; row.i < int(rec.NumRows()); row.i++ {
			stop, err := fn(row)
			if err != nil || stop {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// rowReader reads one row of a record batch as text.
type rowReader struct {
	schema *arrow.Schema
	index  map[string]int
	rec    arrow.RecordBatch
	i      int
}

// at is column c's value as text; false for NULL.
func (r rowReader) at(c int) (string, bool) {
	col := r.rec.Column(c)
	if col.IsNull(r.i) {
		return "", false
	}
	return col.ValueStr(r.i), true
}

// value is the named column's value; false for NULL or no such column.
func (r rowReader) value(name string) (string, bool) {
	c, ok := r.index[name]
	if !ok {
		return "", false
	}
	return r.at(c)
}

// text is the named column's value, "" for NULL.
func (r rowReader) text(name string) string {
	v, _ := r.value(name)
	return v
}

func sideOf(s string) kallav1.Side {
	switch s {
	case "left":
		return kallav1.Side_SIDE_LEFT
	case "right":
		return kallav1.Side_SIDE_RIGHT
	}
	return kallav1.Side_SIDE_UNSPECIFIED
}

// parseDeltas splits "a-b: 0.01; c-d: 2 days" into its conditions.
func parseDeltas(s string) []*kallav1.ConditionDelta {
	if s == "" {
		return nil
	}
	var out []*kallav1.ConditionDelta
	for _, part := range strings.Split(s, "; ") {
		cond, delta, ok := strings.Cut(part, ": ")
		if !ok {
			cond, delta = "", part
		}
		out = append(out, &kallav1.ConditionDelta{Condition: cond, Delta: delta})
	}
	return out
}
