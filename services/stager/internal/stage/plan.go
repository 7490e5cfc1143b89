package stage

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/sqlplan"
	"github.com/kallahq/kalla/services/stager/internal/extract"
)

// maxDecimalPrecision is the most digits an Arrow decimal128 holds.
const maxDecimalPrecision = 38

// Plan runs a StagePlan job: it counts the source's rows and heap pages,
// reads its schema once, cuts [0, pages) into block ranges, saves that plan
// in the staging store and adds one StageChunk job per range (ids derived
// from jobID and the chunk index), then records the chunk count, which
// opens the completion gate at once when there is nothing left to stage.
//
// Run again (a redelivery, or a retry after a crash), it reuses the saved
// plan, so it adds no job and changes no count.
func (s *Stager) Plan(ctx context.Context, jobID, runID string, sp *kallav1.StagePlan) error {
	side := sp.GetSide()
	log := s.log().With("run_id", runID, "job_id", jobID, "side", pipeline.SideName(side))
	src, err := s.loadSource(ctx, runID, side)
	if err != nil {
		return err
	}
	p, found, err := s.loadPlan(ctx, runID, side)
	if err != nil {
		return err
	}
	// The plan's transaction goes to hold once the plan is saved and its
	// chunk count recorded; any earlier return releases it.
	var ptx *planTx
	defer func() { ptx.release() }()
	if found {
		log.Info("reusing the saved stage plan", "chunks", len(p.ranges()))
	} else {
		if ptx, err = beginPlan(ctx, src.ref, log); err != nil {
			return sourceError(err, src.ref.DSN)
		}
		if p, err = s.measure(ctx, ptx.tx, src.ref, src.source.GetPrimaryKey()); err != nil {
			return sourceError(err, src.ref.DSN)
		}
		if p.Keep, err = keepWhere(src.source, src.ref, p.Schema, pipeline.SideName(side), ptx.conn); err != nil {
			return err
		}
		p.Snapshot = ptx.snapshot
		if err := s.savePlan(ctx, runID, side, p); err != nil {
			return err
		}
	}

	alias := sp.GetAlias()
	if alias == "" {
		alias = src.source.GetAlias()
	}
	ranges := p.ranges()
	chunkJobs := make([]jobs.NewJob, len(ranges))
	for i, r := range ranges {
		sc := &kallav1.StageChunk{
			Side:       side,
			Alias:      alias,
			ChunkIndex: int32(i),
			ChunkCount: int32(len(ranges)),
			ObjectUri:  s.Staging.URI(pipeline.PartKey(runID, side, i)),
		}
		switch r := r.(type) {
		case extract.Blocks:
			sc.Range = &kallav1.StageChunk_Blocks{Blocks: &kallav1.BlockRange{StartBlock: r.Start, EndBlock: r.End, Table: r.Table}}
		case extract.Keys:
			sc.Range = &kallav1.StageChunk_Keys{Keys: &kallav1.KeyRange{Column: r.Column, Start: r.Start, End: r.End, StartText: r.StartText, EndText: r.EndText,
				Columns: r.Columns, StartRow: r.StartRow, EndRow: r.EndRow}}
		}
		env := &kallav1.JobEnvelope{RunId: runID, Job: &kallav1.JobEnvelope_StageChunk{StageChunk: sc}}
		nj, err := pipeline.NewJob(ctx, jobs.TypeStageChunk, env)
		if err != nil {
			return err
		}
		nj.ID = ChunkJobID(jobID, i)
		chunkJobs[i] = nj
	}
	if err := s.Store.AddJobs(ctx, runID, chunkJobs); err != nil {
		return err
	}
	// A plan run again after the gate opened must not move the run back.
	if src.run.Status == jobs.RunQueued || src.run.Status == jobs.RunStaging {
		if err := s.Store.SetStatus(ctx, runID, jobs.RunStaging, "staging"); err != nil {
			return err
		}
	}
	exec, err := s.execJob(ctx, src.recipe, runID)
	if err != nil {
		return err
	}
	opened, err := s.Store.SetChunksTotalAndEnqueue(ctx, runID, pipeline.SideName(side), len(ranges), p.Rows, exec)
	if err != nil {
		return err
	}
	if ptx != nil && ptx.snapshot != "" && !opened {
		go s.hold(ptx, runID, log)
		ptx = nil
	}
	log.Info("source planned", "table", p.Table, "rows", p.Rows, "pages", p.Pages, "chunks", len(ranges), "by_key", len(p.KeyChunks) > 0, "exec_enqueued", opened)
	s.dispatch(ctx, log)
	return nil
}

// keepWhere is the part of the source's filter the database checks as the
// chunks read the table (see sqlplan.PostgresWhere), so that the rows it
// does not keep are not staged. A filter that no longer fits the table's
// columns (changed since the run was planned) is the input's fault.
func keepWhere(src *kallav1.Source, ref source.Ref, schema source.Schema, side string, conn *pgx.Conn) (string, error) {
	in := plan.Input{Alias: src.GetAlias(), Ref: ref, Schema: schema}
	filters, err := plan.SideFilters(src, in, side)
	if err != nil {
		return "", queue.Poison(engine.MarkBadInput(fmt.Errorf("%s: %w", ref.Table, err)))
	}
	in.Filters = filters
	return sqlplan.PostgresWhere(in, source.ServerUTF8(conn)), nil
}

// measure counts the table's rows and heap pages in the plan's
// transaction tx, whose snapshot the chunks read, reads its schema and cuts
// it into chunks: block ranges of a table or of a partitioned table's
// leaves, else ranges of its key.
func (s *Stager) measure(ctx context.Context, tx pgx.Tx, ref source.Ref, primaryKey []string) (savedPlan, error) {
	p := savedPlan{Table: ref.Table}
	table := source.QuoteTable(ref.Table)
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&p.Rows); err != nil {
		return p, fmt.Errorf("count rows of %s: %w", ref.Table, err)
	}
	// Tables and materialized views have heap pages to cut into block
	// ranges, and a partitioned table its leaves' pages; views and foreign
	// tables do not.
	var heap, partitioned bool
	err := tx.QueryRow(ctx, "SELECT relkind IN ('r', 'm'), relkind = 'p', CASE WHEN relkind IN ('r', 'm') THEN pg_relation_size(oid) / current_setting('block_size')::int ELSE 0 END FROM pg_class WHERE oid = $1::regclass", table).Scan(&heap, &partitioned, &p.Pages)
	if err != nil {
		return p, fmt.Errorf("count pages of %s: %w", ref.Table, err)
	}
	// In the plan's snapshot, which the chunks read: numbers measured in a
	// later one could be too narrow for them.
	if p.Schema, err = source.TableSchema(ctx, tx, ref.Table); err != nil {
		return p, err
	}
	if err := checkSchema(ref.Table, p.Schema); err != nil {
		return p, err
	}
	switch {
	case heap:
		p.Chunks = Cut(p.Rows, p.Pages, s.chunkRows(), s.maxChunks())
		return p, nil
	case partitioned:
		if p.Chunks, p.Pages, err = s.partitionChunks(ctx, tx, table, p.Rows); err != nil {
			return p, fmt.Errorf("cut %s by its partitions: %w", ref.Table, err)
		}
		if p.Chunks != nil {
			return p, nil
		}
	}
	if p.KeyChunks, err = s.keyChunks(ctx, tx, table, p, primaryKey); err != nil {
		return p, fmt.Errorf("cut %s by its key: %w", ref.Table, err)
	}
	return p, nil
}

// partitionChunks cuts a partitioned table into block ranges of its leaf
// partitions, read directly like tables: no sort of the key, TID range
// scans. Each non-empty leaf gets one range, and the rest of the chunks
// go to leaves by their share of the pages. It returns no chunks (the
// table is then cut by its key) when a leaf is not a heap table (a foreign
// table), when this role cannot read a leaf directly (privileges on the
// parent do not extend to its partitions or their schemas), when row-level
// security is on (the parent's policies do not apply to a partition read
// directly), or when more leaves hold rows than a source may have chunks.
func (s *Stager) partitionChunks(ctx context.Context, tx pgx.Tx, table string, rows int64) ([]extract.Blocks, int64, error) {
	type leaf struct {
		name     string
		readable bool
		pages    int64
	}
	q, err := tx.Query(ctx, `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
			c.relkind = 'r' AND NOT c.relrowsecurity AND NOT root.relrowsecurity AND has_table_privilege(c.oid, 'SELECT') AND has_schema_privilege(n.oid, 'USAGE'),
			CASE WHEN c.relkind = 'r' THEN pg_relation_size(c.oid) / current_setting('block_size')::int ELSE 0 END
		FROM pg_partition_tree($1::regclass) t
		JOIN pg_class c ON c.oid = t.relid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_class root ON root.oid = $1::regclass
		WHERE t.isleaf ORDER BY 1`, table)
	if err != nil {
		return nil, 0, err
	}
	leaves, err := pgx.CollectRows(q, func(r pgx.CollectableRow) (leaf, error) {
		var l leaf
		return l, r.Scan(&l.name, &l.readable, &l.pages)
	})
	if err != nil {
		return nil, 0, err
	}
	// A leaf without pages when measured holds no row of the plan's
	// snapshot: it needs no chunk.
	var pages int64
	var nonEmpty []leaf
	for _, l := range leaves {
		if !l.readable {
			return nil, 0, nil
		}
		if l.pages > 0 {
			pages += l.pages
			nonEmpty = append(nonEmpty, l)
		}
	}
	if len(nonEmpty) == 0 || len(nonEmpty) > s.maxChunks() {
		return nil, 0, nil
	}
	spare := max(chunkCount(rows, s.chunkRows(), s.maxChunks())-int64(len(nonEmpty)), 0)
	var chunks []extract.Blocks
	for _, l := range nonEmpty {
		for _, b := range blocks(l.pages, min(1+spare*l.pages/pages, l.pages)) {
			b.Table = l.name
			chunks = append(chunks, b)
		}
	}
	return chunks, pages, nil
}

// keyChunks cuts a source without heap pages into ranges of its key
// holding about chunkRows rows each, from the key's n-tiles (one sort of the
// key, in the planning transaction). An integer key is cut at integers, a
// key of another orderable type at values in their text form, a key of
// several columns at rows of them. A source whose key is a boolean or of a
// type without an ordering is read in one chunk.
func (s *Stager) keyChunks(ctx context.Context, tx pgx.Tx, table string, p savedPlan, primaryKey []string) ([]extract.Keys, error) {
	one := []extract.Keys{{}}
	n := chunkCount(p.Rows, s.chunkRows(), s.maxChunks())
	types, ok := keyTypes(p.Schema, primaryKey)
	if n == 1 || !ok || len(types) == 1 && types[0] == source.Boolean {
		return one, nil
	}
	t := tiles{key: primaryKey, table: table, n: n}
	if len(types) == 1 && types[0] == source.Integer {
		lows, err := collect(ctx, tx, t.smallest("min(%s)"), equal[int64])
		return ranges(lows, func(lo, hi *int64) extract.Keys { return extract.Keys{Column: primaryKey[0], Start: lo, End: hi} }), err
	}
	// A key of a type without an ordering (json, point) is read in one
	// chunk; the savepoint keeps the plan's transaction usable after the
	// database refuses to sort it.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	out, err := t.textRanges(ctx, sp)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == undefinedFunction {
		return one, sp.Rollback(ctx)
	}
	if err != nil {
		return nil, err
	}
	return out, sp.Commit(ctx)
}

// keyTypes are the types of the key's columns; not ok when there is no key
// or a column is missing (the executor's key check then names it).
func keyTypes(schema source.Schema, key []string) (types []source.Type, ok bool) {
	for _, name := range key {
		i := slices.IndexFunc(schema.Columns, func(c source.Column) bool { return c.Name == name })
		if i < 0 {
			return nil, false
		}
		types = append(types, schema.Columns[i].Type)
	}
	return types, len(types) > 0
}

// tiles renders the queries that find where each of n n-tiles of a source's
// key order starts. Each n-tile's smallest key starts a range; the first
// range is open below. A key repeated across n-tiles (the recipe's key need
// not be unique in a view) would give empty ranges, so repeated starts go;
// every row still lands in one range, and the executor's key check then
// names the repeated keys.
type tiles struct {
	key   []string
	table string
	n     int64
}

// ordered is the key's n-tiles query, rows with a NULL in the key left
// out, and the key's quoted columns.
func (t tiles) ordered() (cols []string, query string) {
	cols = make([]string, len(t.key))
	set := make([]string, len(t.key))
	for i, c := range t.key {
		cols[i] = pgx.Identifier{c}.Sanitize()
		set[i] = cols[i] + " IS NOT NULL"
	}
	return cols, fmt.Sprintf("SELECT %[1]s, ntile(%[2]d) OVER (ORDER BY %[1]s) AS tile FROM %[3]s WHERE %[4]s",
		strings.Join(cols, ", "), t.n, t.table, strings.Join(set, " AND "))
}

// smallest selects each n-tile's smallest value of a one-column key, given
// as a format applied to the column (such as "min(%s)").
func (t tiles) smallest(format string) string {
	cols, q := t.ordered()
	return fmt.Sprintf("SELECT %s FROM (%s) t GROUP BY tile ORDER BY tile", fmt.Sprintf(format, cols[0]), q)
}

// textRanges cuts at keys in their text form: values of one column, or
// rows of several (min() takes no rows: each n-tile's first row instead).
func (t tiles) textRanges(ctx context.Context, tx pgx.Tx) ([]extract.Keys, error) {
	if len(t.key) == 1 {
		lows, err := collect(ctx, tx, t.smallest("min(%s)::text"), equal[string])
		return ranges(lows, func(lo, hi *string) extract.Keys { return extract.Keys{Column: t.key[0], StartText: lo, EndText: hi} }), err
	}
	cols, q := t.ordered()
	texts := make([]string, len(cols))
	for i, c := range cols {
		texts[i] = c + "::text"
	}
	lows, err := collect(ctx, tx, fmt.Sprintf("SELECT DISTINCT ON (tile) ARRAY[%s] FROM (%s) t ORDER BY tile, %s",
		strings.Join(texts, ", "), q, strings.Join(cols, ", ")), slices.Equal[[]string])
	return ranges(lows, func(lo, hi *[]string) extract.Keys {
		k := extract.Keys{Columns: t.key}
		if lo != nil {
			k.StartRow = *lo
		}
		if hi != nil {
			k.EndRow = *hi
		}
		return k
	}), err
}

// undefinedFunction is PostgreSQL's SQLSTATE for "could not identify an
// ordering operator".
const undefinedFunction = "42883"

// collect reads query's rows of one value each, dropping a value equal to
// the one before it.
func collect[T any](ctx context.Context, tx pgx.Tx, query string, same func(a, b T) bool) ([]T, error) {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	values, err := pgx.CollectRows(rows, pgx.RowTo[T])
	return slices.CompactFunc(values, same), err
}

func equal[T comparable](a, b T) bool { return a == b }

// ranges turns the n-tiles' smallest keys into contiguous ranges: open
// below, then [low_i, low_i+1), the last open above.
func ranges[T any](lows []T, keys func(lo, hi *T) extract.Keys) []extract.Keys {
	var out []extract.Keys
	var lo *T
	for i := 1; i < len(lows); i++ {
		out = append(out, keys(lo, &lows[i]))
		lo = &lows[i]
	}
	return append(out, keys(lo, nil))
}

// checkSchema refuses columns extract cannot write exactly.
func checkSchema(table string, schema source.Schema) error {
	for _, c := range schema.Columns {
		if c.Type != source.Decimal {
			continue
		}
		switch {
		case c.Precision < 1 || c.Precision > maxDecimalPrecision:
			return unsupported(table, c.Name, fmt.Sprintf("numeric(%d,%d) has more than %d digits", c.Precision, c.Scale, maxDecimalPrecision))
		case c.Scale < 0 || c.Scale > c.Precision:
			return unsupported(table, c.Name, fmt.Sprintf("numeric(%d,%d): the scale must be between 0 and the precision", c.Precision, c.Scale))
		}
	}
	return nil
}

// Cut splits the heap pages [0, pages) into contiguous block ranges:
// ceil(rows/chunkRows) of them, at least 1, at most maxChunks and never more
// than there are pages. The last range is open-ended (End 0), so rows on
// pages added after the count are read too.
func Cut(rows, pages int64, chunkRows, maxChunks int) []extract.Blocks {
	return blocks(pages, max(min(chunkCount(rows, chunkRows, maxChunks), pages), 1))
}

// blocks cuts [0, pages) into n contiguous ranges, the last open-ended.
func blocks(pages, n int64) []extract.Blocks {
	out := make([]extract.Blocks, n)
	for i := range n {
		out[i] = extract.Blocks{Start: i * pages / n, End: (i + 1) * pages / n}
	}
	out[n-1].End = 0
	return out
}

// chunkCount is how many chunks of chunkRows rows hold rows, at most
// maxChunks and at least 1.
func chunkCount(rows int64, chunkRows, maxChunks int) int64 {
	n := int64(1)
	if chunkRows > 0 && rows > 0 {
		n = (rows + int64(chunkRows) - 1) / int64(chunkRows)
	}
	if maxChunks > 0 {
		n = min(n, int64(maxChunks))
	}
	return max(n, 1)
}

// ChunkJobID is the id of chunk index of the stage plan planJobID: a
// name-based (version 5 style, SHA-1) UUID, so a plan that runs again
// names the same jobs and AddJobs skips them.
func ChunkJobID(planJobID string, index int) string {
	sum := sha1.Sum([]byte("kalla/stage_chunk/" + strings.ToLower(planJobID) + "/" + strconv.Itoa(index)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
