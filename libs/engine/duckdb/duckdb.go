// Package duckdb runs plans on DuckDB, embedded. It is the only package
// that links DuckDB (cgo); the SQL it runs comes from package sqlplan.
package duckdb

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/scratch"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/sqlplan"
)

// Engine runs plans in an in-memory DuckDB that spills to TempDir.
type Engine struct {
	// Threads caps DuckDB's threads; 0 means one per core.
	Threads int
	// TempDir is where DuckDB spills when data outgrows memory; empty means
	// the system's temp directory.
	TempDir string
	// MemoryLimit such as "4GB"; empty means DuckDB's default (80% of RAM).
	MemoryLimit string
	ways        // the tests' ways, none set in use
}

// ways are how an engine runs where tests ask for other ways than the
// usual, and what it tells them; a session keeps its engine's.
type ways struct {
	// readWhole reads every source whole and has the engine count its
	// records: database sources' filters are not sent to the database, and
	// a filtered side is copied whole before its filter keeps its records,
	// as the tests comparing those two ways need.
	readWhole bool
	// storeAsRead stores every side with a key as read, without sampling
	// its order, then sorts those not in key order; stored, when set, hears
	// how each side was stored.
	storeAsRead bool
	stored      func(table string, asRead, sortedAfter bool)
	// walk says when a 1:1 rule's rounds give way to the walk, and coarse
	// when a rule's keys count as coarse; tests set the other ways, so that
	// each way takes each shape.
	walk   walkWhen
	coarse coarseWhen
	// stages says when a 1:1 rule under coarse keys takes its pairs in
	// stages; staged, when set, hears each stage's radius (equalStage for
	// the pairs equal in every condition) and the pairs it took.
	stages stagesWhen
	staged func(radius, taken int64)
	// aloneFirst says when a 1:1 rule's rounds take the pairs alone in
	// their records' candidates first.
	aloneFirst aloneFirstWhen
	// nearestLookups takes the lookups of the nearest others at each value
	// wherever a rule allows them, tied or not; passingFirst settles the
	// records passing every condition first wherever a rule allows it,
	// however few pairs a round of its threshold compares, and takes that
	// step's rounds however few pairs the step compares.
	nearestLookups, passingFirst bool
	// nearAggregate finds near misses by the aggregate wherever keys are
	// not coarse, however few records share them.
	nearAggregate bool
	// keysJudged, when set, hears each rule's estimate of the pairs sharing
	// its keys and the judgement drawn from it.
	keysJudged func(pairs float64, coarse bool)
	// widened, when set, hears each step of near misses widening.
	widened func(widenStep)
	// settings are DuckDB settings a session makes after its own, such as
	// those that make DuckDB split small data among threads.
	settings []string
}

// widenStep is a step of near misses widening that ran, as tests hear it:
// Kind "passing_round" (the Round-th from 0, of Radius, of the records
// passing every condition there), "passing" (the records passing every
// condition), "lookups" (Nearest: of the nearest others at each value),
// "round" (the Round-th from 0, of Radius), "bands", "apart" (see
// sqlplan.Widening.Apart), or "rest" (the records left after them, Left,
// compare every pair); the records left before it to settle, those it
// settled and the pairs its count counted.
type widenStep struct {
	Kind          string
	Round         int
	Radius        int64
	Left, Settled int64
	Pairs         int64
	Nearest       bool
}

var _ engine.Engine = (*Engine)(nil)

// Name implements engine.Engine.
func (*Engine) Name() string { return "duckdb" }

// session is one DuckDB connection: temp tables live per connection.
type session struct {
	conn *sql.Conn
	// tmp is the session's scratch directory, removed when it closes.
	tmp string
	ways
}

// tempPrefix names a session's spill folder; those of killed processes are
// swept by the next session in the same place.
const tempPrefix = "kalla-duckdb-"

func (e *Engine) open(ctx context.Context) (*session, func(), error) {
	held, err := scratch.Mkdir(e.TempDir, tempPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("duckdb temp dir: %w", err)
	}
	tmp := held.Path
	db, err := sql.Open("duckdb", "")
	if err != nil {
		held.RemoveAll()
		return nil, nil, fmt.Errorf("open duckdb: %w", err)
	}
	closeAll := func() { db.Close(); held.RemoveAll() }
	conn, err := db.Conn(ctx)
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("duckdb connection: %w", err)
	}
	s := &session{conn: conn, tmp: tmp, ways: e.ways}
	// From here the connection is closed with the rest.
	closeAll = func() { conn.Close(); db.Close(); held.RemoveAll() }
	// Time zones are UTC whatever the machine's, so a timestamp with a zone
	// compares, converts to a date and prints the same everywhere.
	settings := []string{"SET temp_directory = " + sqlplan.String(tmp), "SET TimeZone = 'UTC'"}
	if e.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", e.Threads))
	}
	for _, q := range append(settings, e.settings...) {
		if err := s.exec(ctx, q); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	if e.MemoryLimit != "" {
		if _, err := s.conn.ExecContext(ctx, "SET memory_limit = "+sqlplan.String(e.MemoryLimit)); err != nil {
			closeAll()
			return nil, nil, engine.BadInput("memory limit %q: %v", e.MemoryLimit, err)
		}
	}
	for name, fns := range functions {
		if err := duckdb.RegisterScalarUDFSet(conn, name, fns...); err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("register %s: %w", name, err)
		}
	}
	return s, closeAll, nil
}

// functions are the engine functions sqlplan's statements call, each with
// one implementation per input type.
var functions = map[string][]duckdb.ScalarFunc{
	sqlplan.Levenshtein: {levenshtein{}},
	sqlplan.Fold:        {fold{}},
	sqlplan.FloatText:   {floatText{duckdb.TYPE_FLOAT}, floatText{duckdb.TYPE_DOUBLE}},
}

func (s *session) exec(ctx context.Context, q string) error {
	_, err := s.execCount(ctx, q)
	return err
}

// execCount runs q and returns how many rows it inserted, updated or
// deleted.
func (s *session) execCount(ctx context.Context, q string) (int64, error) {
	start := time.Now()
	res, err := s.conn.ExecContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("duckdb: %w\nin: %s", err, abbreviate(q))
	}
	if traceStatements {
		shown := abbreviate(q)
		if traceWhole {
			shown = q
		}
		fmt.Fprintf(os.Stderr, "duckdb %6dms %s\n", time.Since(start).Milliseconds(), shown)
	}
	return res.RowsAffected()
}

// traceStatements prints each statement's time to stderr, for tuning;
// KALLA_TRACE_SQL=full prints the statements whole.
var (
	traceStatements = os.Getenv("KALLA_TRACE_SQL") != ""
	traceWhole      = os.Getenv("KALLA_TRACE_SQL") == "full"
)

func (s *session) int64(ctx context.Context, q string) (int64, error) {
	var n sql.NullInt64
	if err := s.conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("duckdb: %w\nin: %s", err, abbreviate(q))
	}
	return n.Int64, nil
}

func abbreviate(q string) string {
	if len(q) > 400 {
		return q[:400] + "..."
	}
	return q
}

// Reconcile implements engine.Engine.
func (e *Engine) Reconcile(ctx context.Context, p *plan.Plan, out engine.Output, progress func(engine.Progress)) (*engine.Result, error) {
	if progress == nil {
		progress = func(engine.Progress) {}
	}
	s, done, err := e.open(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	res := &engine.Result{}
	start := time.Now()
	// Both sides' patterns before either is read: a refused one costs no load.
	for _, in := range []plan.Input{p.Left, p.Right} {
		if err := checkPatterns(ctx, s, in); err != nil {
			return nil, err
		}
	}
	progress(engine.Progress{Phase: engine.PhaseLoad, Detail: p.Left.Alias})
	if res.LeftRows, res.LeftFilteredOut, err = load(ctx, s, sqlplan.Left, p.Left); err != nil {
		return nil, err
	}
	loaded := loadedRows(p.Left.Alias, res.LeftRows, res.LeftFilteredOut)
	progress(engine.Progress{Phase: engine.PhaseLoad, Detail: loaded + ", " + p.Right.Alias})
	if res.RightRows, res.RightFilteredOut, err = load(ctx, s, sqlplan.Right, p.Right); err != nil {
		return nil, err
	}
	progress(engine.Progress{Phase: engine.PhaseLoad, Detail: loaded + ", " + loadedRows(p.Right.Alias, res.RightRows, res.RightFilteredOut)})
	if err := checkTotalGroups(ctx, s, p); err != nil {
		return nil, err
	}
	res.Timings.Load = time.Since(start)

	start = time.Now()
	if err := match(ctx, s, p, progress); err != nil {
		return nil, err
	}
	if res.Rules, err = ruleCounts(ctx, s, p); err != nil {
		return nil, err
	}
	if err := totals(ctx, s, p, res); err != nil {
		return nil, err
	}
	res.Timings.Match = time.Since(start)

	start = time.Now()
	progress(engine.Progress{Phase: engine.PhaseWrite})
	if err := write(ctx, s, p, out); err != nil {
		return nil, err
	}
	res.Timings.Write = time.Since(start)
	return res, nil
}

// loadedRows says how many records of a side were loaded, and how many its
// filter left out when it did.
func loadedRows(alias string, rows, filteredOut int64) string {
	text := fmt.Sprintf("%s %s", alias, source.RowCount(rows))
	if filteredOut > 0 {
		text += fmt.Sprintf(" (%d left out by its filter)", filteredOut)
	}
	return text
}

// load reads one side, keeps the records its filter names, numbers them
// and checks their key. It returns the records kept, and those left out.
func load(ctx context.Context, s *session, table string, in plan.Input) (kept, filteredOut int64, err error) {
	var query string
	switch in.Ref.Format {
	case source.FormatCSV:
		if query, err = readCSV(s, table, in); err != nil {
			return 0, 0, err
		}
	case source.FormatParquet:
		if len(in.Schema.Files) == 0 {
			return 0, 0, fmt.Errorf("%s: no Parquet files in the plan (its schema was not read by source.ParquetSchema)", in.Alias)
		}
		query = sqlplan.ReadParquet(in.Schema.Files, in.Schema)
	case source.FormatPostgres:
		path, read, err := spool(ctx, s, table, in)
		if source.Refused(err) {
			return 0, 0, engine.BadInput("source %s: %v", in.Alias, err)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("source %s: %w", in.Alias, err)
		}
		// The database counted the rows, those it left out too.
		query, in.Read = sqlplan.ReadCopy(path, in.Schema), read
	}
	if !s.readWhole {
		in = sqlplan.Counted(in)
	}
	order := s.loadOrder(ctx, table, in, query)
	for _, q := range sqlplan.Load(table, in, query, order) {
		if err := s.exec(ctx, q); err != nil {
			switch unchanged := in.Schema.Unchanged(); {
			case ctx.Err() != nil:
				return 0, 0, ctx.Err() // stopped, not the file's fault
			case unchanged != nil:
				return 0, 0, fmt.Errorf("source %s: %w", in.Alias, unchanged) // a half-written line, say
			case dataError(err):
				return 0, 0, engine.BadInput("%s: cannot read %s: %v", in.Alias, in.Ref, err)
			}
			// The machine's fault (memory, disk), not the file's.
			return 0, 0, fmt.Errorf("%s: loading %s failed: %w", in.Alias, in.Ref, err)
		}
	}
	if err := in.Schema.Unchanged(); err != nil {
		return 0, 0, fmt.Errorf("source %s: %w", in.Alias, err)
	}
	sortedAfter, err := checkKey(ctx, s, table, in, query, order)
	if err != nil {
		return 0, 0, err
	}
	if s.stored != nil {
		s.stored(table, order == sqlplan.ReadOrder, sortedAfter)
	}
	if kept, err = s.int64(ctx, sqlplan.Count(table)); err != nil {
		return 0, 0, err
	}
	read, err := readCount(ctx, s, table, in, kept)
	if err != nil {
		return 0, 0, err
	}
	return kept, read - kept, nil
}

// readCount counts the records a side read before its filter: those kept
// when it has none, else as the source counted them, or in the copy of the
// whole side Load made, which it drops. Where the engine counted the
// records of a file itself, they must be those Kalla's reader counted (the
// file being as it was, see Schema.Unchanged).
func readCount(ctx context.Context, s *session, table string, in plan.Input, kept int64) (int64, error) {
	count, drop := sqlplan.Unfiltered(table, in)
	switch {
	case len(in.Filters) > 0 && count == "":
		if kept > in.Read {
			return 0, miscounted(in, in.Read, kept)
		}
		return in.Read, nil
	case len(in.Filters) > 0:
		read, err := s.int64(ctx, count)
		if err == nil {
			err = s.exec(ctx, drop)
		}
		if err == nil && in.Schema.Rows >= 0 && read != in.Schema.Rows {
			err = miscounted(in, in.Schema.Rows, read)
		}
		return read, err
	case in.Schema.Rows >= 0 && kept != in.Schema.Rows:
		return 0, miscounted(in, in.Schema.Rows, kept)
	}
	return kept, nil
}

// miscounted is the error of a side whose records, as the engine read
// them, are more or fewer than those counted where the source was read
// first: the two readings disagree.
func miscounted(in plan.Input, counted, read int64) error {
	return fmt.Errorf("source %s: %s was counted as %d records when first read, and the engine read %d: the two readings disagree (please report it, with the source if you can)",
		in.Alias, in.Ref, counted, read)
}

// readCSV is the query reading a CSV side's files, each as it is laid out;
// one that needs it is read as Kalla's reader rewrote it (see
// source.CSVLayout.NeedsRewrite).
func readCSV(s *session, table string, in plan.Input) (string, error) {
	parts := slices.Clone(in.Schema.CSVParts(in.Ref.Path))
	for i, part := range parts {
		if part.Layout.NeedsRewrite() {
			var err error
			if parts[i], err = rewrite(s, fmt.Sprintf("%s_%d.csv", table, i+1), in, part); err != nil {
				return "", err
			}
		}
	}
	return sqlplan.ReadCSVParts(parts, in.Schema), nil
}

// rewrite writes a side's CSV file into the session's scratch directory,
// named name, as Kalla's reader reads it (source.RewriteCSV), for the
// engine to read in its stead; or gives the copy written when its types
// were read (source.CSVLayout.Copy). The rewrite must hold the records the
// schema's reading counted, the file being as it was.
func rewrite(s *session, name string, in plan.Input, part source.CSVPart) (source.CSVPart, error) {
	if c := part.Layout.Copy; c != nil {
		// Written while the sheet was read for its types.
		layout := part.Layout.Rewritten()
		layout.LongestRecord = c.LongestRecord
		return source.CSVPart{Path: c.Path, Layout: layout, Rows: part.Rows}, nil
	}
	var records int64
	rewritten := source.CSVPart{Rows: part.Rows}
	path, err := s.scratchFile(name, func(w io.Writer) (err error) {
		rewritten.Layout, records, err = source.RewriteCSV(part.Path, part.Layout, w)
		return err
	})
	switch {
	case err != nil:
		err = fmt.Errorf("source %s: %w", in.Alias, err)
	case records != part.Rows:
		err = miscounted(in, part.Rows, records)
	}
	if err != nil {
		if changed := in.Schema.Unchanged(); changed != nil {
			err = fmt.Errorf("source %s: %w", in.Alias, changed) // a half-written line, say
		}
		return source.CSVPart{}, err
	}
	rewritten.Path = path
	return rewritten, nil
}

// dataError says whether a DuckDB error was caused by the data read (a
// value that does not convert, a malformed CSV) rather than by the machine
// (memory, disk, an interrupt), which is no fault of the user's input.
func dataError(err error) bool {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Type {
	case duckdb.ErrorTypeConversion, duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeOutOfRange, duckdb.ErrorTypeMismatchType:
		return true
	}
	return false
}

// checkPatterns refuses, at its field, an extract's pattern that Go's
// regexp reads (the recipe's check) but DuckDB's RE2 does not: Go's
// (?<name>...), or a program over RE2's size limit such as \pL{1000}.
func checkPatterns(ctx context.Context, s *session, in plan.Input) error {
	for _, e := range in.Extracts {
		_, err := s.conn.ExecContext(ctx, sqlplan.CheckPattern(e))
		var de *duckdb.Error
		switch {
		case err == nil:
			continue
		case !errors.As(err, &de):
			return fmt.Errorf("%s: %w", e.Field, err)
		}
		why := de.Msg
		if _, after, ok := strings.Cut(why, "Error: "); ok {
			why = after
		}
		hint := ""
		if strings.Contains(e.Pattern, "(?<") {
			hint = "; a named group is written (?P<name>...)"
		}
		return engine.BadInput("%s.pattern: %q is a regular expression the engine cannot run: %s%s", e.Field, e.Pattern, why, hint)
	}
	return nil
}

// overflow says whether a DuckDB error is a number that outgrew its type.
func overflow(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeOutOfRange
}

// tooWide refuses a rule whose arithmetic outgrew the 38 digits the plan
// could not bound beforehand: an aggregate check's sum over a group of
// many records (sums), or declared decimals (a Parquet DECIMAL(38,2))
// whose values come near their width.
func tooWide(r plan.Rule, sums bool) error {
	if sums {
		many := r.Aggregate.RightLabel
		if r.Pattern == kallav1.Pattern_PATTERN_MANY_TO_ONE {
			many = r.Aggregate.LeftLabel
		}
		return engine.BadInput("%s.aggregate: the sum of %s over one of rule %s's groups needs more than %d digits, and Kalla computes with at most %d",
			r.Field, many, r.Name, source.MaxDigits, source.MaxDigits)
	}
	return engine.BadInput("%s: rule %s computes with numbers of more than %d digits, and Kalla computes with at most %d; its columns' declared widths leave too little room",
		r.Field, r.Name, source.MaxDigits, source.MaxDigits)
}

// spool streams a PostgreSQL table to a CSV file in the session's scratch
// directory with COPY; DuckDB then reads it like any CSV, with the types the
// database declared. The database leaves out the rows the side's filter
// does not keep, as far as it can check (see sqlplan.PostgresWhere), and
// counts the rows read, those too.
func spool(ctx context.Context, s *session, name string, in plan.Input) (path string, read int64, err error) {
	var where source.Where
	if !s.readWhole {
		where = func(utf8 bool) string { return sqlplan.PostgresWhere(in, utf8) }
	}
	path, err = s.scratchFile(name+".csv", func(f io.Writer) error {
		w := bufio.NewWriterSize(f, 1<<20)
		if read, err = source.CopyCSV(ctx, in.Ref, in.Schema.Columns, where, w); err != nil {
			return err
		}
		return w.Flush()
	})
	return path, read, err
}

// scratchFile writes the file name of the session's scratch directory with
// write, and returns its path.
func (s *session) scratchFile(name string, write func(io.Writer) error) (string, error) {
	path := filepath.Join(s.tmp, name)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, err
}

// loadOrder is sqlplan.ReadOrder where the source's first records come in
// key order, else sqlplan.KeyOrder (also where the sample fails to read:
// loading the side then says why).
func (s *session) loadOrder(ctx context.Context, table string, in plan.Input, query string) sqlplan.Order {
	q := sqlplan.SampleOrderBreaks(in, query)
	switch {
	case s.storeAsRead && len(in.Key) > 0:
		return sqlplan.ReadOrder
	case q == "":
		return sqlplan.KeyOrder
	}
	start := time.Now()
	breaks, err := s.int64(ctx, q)
	order := sqlplan.KeyOrder
	if err == nil && breaks == 0 {
		order = sqlplan.ReadOrder
	}
	if traceStatements {
		fmt.Fprintf(os.Stderr, "duckdb %6dms %s: %d of the first %d records out of key order (error: %v), stored as read: %t\n",
			time.Since(start).Milliseconds(), table, breaks, sqlplan.SampleRows, err, order == sqlplan.ReadOrder)
	}
	return order
}

// match runs the waterfall, rule by rule, then finds near misses.
func match(ctx context.Context, s *session, p *plan.Plan, progress func(engine.Progress)) error {
	for _, q := range sqlplan.Setup(p) {
		if err := s.exec(ctx, q); err != nil {
			return err
		}
	}
	keys := make([]keyEstimate, len(p.Rules))
	for k, r := range p.Rules {
		progress(engine.Progress{Phase: engine.PhaseMatch, Detail: fmt.Sprintf("rule %d of %d, %s", k+1, len(p.Rules), r.Name)})
		steps := sqlplan.Rule(k, r)
		var err error
		if keys[k], err = s.coarseKeys(ctx, steps.KeyStats); err != nil {
			return err
		}
		run := runRule
		switch {
		case keys[k].coarse && steps.Stages != nil && s.stages != stagesNever:
			run = runStages // which chooses its own way at once
		case keys[k].coarse && steps.Banded != "":
			steps.Candidates = steps.Banded
		case steps.AloneFirst != "" && s.aloneFirst.now(keys[k]):
			steps.Loop = append([]string{steps.AloneFirst}, steps.Loop[1:]...)
		}
		if err := run(ctx, s, steps); err != nil {
			if overflow(err) {
				return tooWide(r, r.Aggregate != nil)
			}
			return fmt.Errorf("rule %s: %w", r.Name, err)
		}
	}
	left, right := sqlplan.Sides(p)
	for k, r := range p.Rules {
		for _, side := range []sqlplan.Side{left, right} {
			if err := s.nearMisses(ctx, sqlplan.NearMisses(k, r, side), keys[k], side.Code); err != nil {
				if overflow(err) {
					// Near misses also compare records earlier rules
					// matched. A guard: in tests, the candidates of the
					// rule overflowed first.
					return tooWide(r, false)
				}
				return fmt.Errorf("near misses of rule %s: %w", r.Name, err)
			}
		}
	}
	if q := sqlplan.BestNearMisses(p); q != "" {
		return s.exec(ctx, q)
	}
	return nil
}

// nearMisses finds a side's near misses under a rule whose keys are as
// estimated.
func (s *session) nearMisses(ctx context.Context, steps sqlplan.NearMissSteps, keys keyEstimate, side string) error {
	if steps.Widens(keys.coarse) {
		return s.widen(ctx, steps.Widening, keys.perRecord(side))
	}
	perRecord := keys.perRecord(side)
	if s.nearAggregate && !keys.coarse {
		perRecord = sqlplan.AggregatePairs
	}
	for _, q := range steps.For(perRecord, keys.coarse) {
		if err := s.exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// widen finds a side's near misses by w's rounds (see sqlplan.Widening),
// after the records passing every condition where w asks, while records
// remain to settle and while a round compares at most
// 1/RoundShare of the pairs that comparing every pair sharing keys would
// for the records left (perRecord pairs a record); then, where the rule
// has conditions that band, in their bands, where those hold at most
// 1/BandsShare of those pairs (only the pairs passing a condition reach
// its aggregate); the records left then compare every pair at once. So a
// step never costs much more than what it may save, and where records do
// not settle (values far from every other's), the steps stop once they
// would: 10,000 a side, half of one side far away, 2.9 s against 3.4 s
// before the rounds.
func (s *session) widen(ctx context.Context, w *sqlplan.Widening, perRecord float64) error {
	for _, q := range w.Create {
		if err := s.exec(ctx, q); err != nil {
			return err
		}
	}
	left, err := s.int64(ctx, w.Unsettled)
	if err != nil {
		return err
	}
	st := settling{s: s, left: left, perRecord: perRecord}
	// Where every pair at once costs less than the steps' statements, the
	// records all go to the last step.
	if float64(left)*perRecord >= fewPairs {
		if err := st.run(ctx, w); err != nil {
			return err
		}
	}
	st.heard(widenStep{Kind: "rest", Left: st.left})
	for _, q := range w.Finish {
		if err := s.exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// settling is widening's steps before its last: the records left to
// settle, and the pairs sharing keys each is in (see widen).
type settling struct {
	s         *session
	left      int64
	perRecord float64
}

// run takes the rounds, after the records passing every condition where
// the rule asks (the rounds hold only once those are settled; a bounded
// condition's rounds start at its threshold instead where that round
// compares few pairs), those first in rounds of their own, then the step in
// the bands.
func (st *settling) run(ctx context.Context, w *sqlplan.Widening) error {
	rounds, start, ways := true, w.Width, w.Passing
	if w.Threshold > 0 && !st.s.passingFirst {
		count, _ := w.Round(w.Threshold)
		pairs, err := st.s.int64(ctx, count)
		if err != nil {
			return err
		}
		if pairs <= fewPairs {
			start, ways = w.Threshold, nil
		}
	}
	if len(ways) > 0 {
		before := roundsOf{name: "passing every condition within ", kind: "passing_round", round: w.PassingRounds,
			start: w.Width, bound: w.Threshold, most: st.beforePassing(ways), idleEnds: true}
		if err := st.rounds(ctx, w, before); err != nil {
			return err
		}
		ran, _, err := st.step(ctx, "passing every condition", widenStep{Kind: "passing"}, ways, st.share(sqlplan.BandsShare))
		if err != nil {
			return err
		}
		rounds = ran
	}
	if rounds && w.Lookups != nil {
		ran, err := st.lookups(ctx, "by lookups", widenStep{Kind: "lookups"}, w.Lookups)
		if err != nil {
			return err
		}
		// A record they leave has an empty value or no other record's:
		// no round would settle it.
		rounds = !ran
	}
	if rounds {
		if err := st.rounds(ctx, w, roundsOf{name: "within ", kind: "round", round: w.Round, start: start, most: st.roundShare}); err != nil {
			return err
		}
	}
	if w.InBands[0] == "" || st.left == 0 {
		return nil
	}
	ran, _, err := st.step(ctx, "in the bands", widenStep{Kind: "bands"}, [][2]string{w.InBands}, st.share(sqlplan.BandsShare))
	if err != nil || !ran || w.Apart == nil || st.left == 0 {
		return err
	}
	_, err = st.lookups(ctx, "at the nearest values, failing every condition", widenStep{Kind: "apart"}, w.Apart)
	return err
}

// roundsOf are rounds of widening: named name and the radius, heard as
// kind, of round's statements, from the radius start and below bound
// where it is not 0, each comparing at most the pairs most allows (none
// run where it allows none); where idleEnds, a round comparing pairs that
// settles none ends them.
type roundsOf struct {
	name, kind   string
	round        func(radius int64) (count, settle string)
	start, bound int64
	most         func(context.Context) (float64, error)
	idleEnds     bool
}

// rounds runs r's rounds, each of sqlplan.Next's radius after the last,
// at most sqlplan.MaxRounds of them, while records are left to settle.
func (st *settling) rounds(ctx context.Context, w *sqlplan.Widening, r roundsOf) error {
	more := true
	for i, radius := 0, r.start; more && i < sqlplan.MaxRounds && st.left > 0 && (r.bound == 0 || radius < r.bound); i++ {
		limit, err := r.most(ctx)
		if err != nil || limit <= 0 {
			return err
		}
		count, q := r.round(radius)
		left := st.left
		ran, pairs, err := st.step(ctx, r.name+w.Distance(radius), widenStep{Kind: r.kind, Round: i, Radius: radius}, [][2]string{{count, q}}, limit)
		if err != nil {
			return err
		}
		next, fits := sqlplan.Next(radius)
		idle := pairs > 0 && st.left == left
		more, radius = ran && fits && !(r.idleEnds && idle), next
	}
	return nil
}

// roundShare is the most pairs a round compares: 1/RoundShare of those
// that comparing every pair sharing keys would for the records left.
func (st *settling) roundShare(context.Context) (float64, error) {
	return st.share(sqlplan.RoundShare), nil
}

// beforePassing is the most pairs a round before the passing step
// compares: roundShare's, and 1/AheadShare of those the step would for
// the records left (a round that settles none so costs at most half of
// the step more; one that settles many leaves it few pairs): none where
// the step compares fewer than aheadFrom.
func (st *settling) beforePassing(ways [][2]string) func(context.Context) (float64, error) {
	return func(ctx context.Context) (float64, error) {
		if st.s.passingFirst {
			return st.share(sqlplan.RoundShare), nil
		}
		passing, _, err := st.s.fewest(ctx, ways)
		if err != nil || passing < aheadFrom {
			return 0, err
		}
		return min(st.share(sqlplan.RoundShare), float64(passing)/sqlplan.AheadShare), nil
	}
}

// lookups runs the step of the lookups (named, heard as at) between
// their table of nearest values and its drop: those of the nearest others
// at each value where the values tie enough. It says whether the step
// ran.
func (st *settling) lookups(ctx context.Context, name string, at widenStep, l *sqlplan.Lookups) (bool, error) {
	if err := st.s.exec(ctx, l.Values); err != nil {
		return false, err
	}
	nearest, err := st.tied(ctx, l)
	if err != nil {
		return false, err
	}
	run := l.All
	if nearest {
		name, run = name+" of the nearest at each value", l.Nearest
	}
	at.Nearest = nearest
	ran, _, err := st.step(ctx, name, at, [][2]string{run}, st.share(sqlplan.BandsShare))
	if err != nil {
		return false, err
	}
	return ran, st.s.exec(ctx, l.Drop)
}

// tied says whether the lookups of the nearest others at each value are
// the ones to take.
func (st *settling) tied(ctx context.Context, l *sqlplan.Lookups) (bool, error) {
	if l.Tied == "" || st.s.nearestLookups {
		return l.Tied != "", nil
	}
	tied, err := st.s.int64(ctx, l.Tied)
	return tied == 1, err
}

// step runs the statement that settles records of the way among ways
// (each the count of the pairs it compares and the statement) comparing
// the fewest pairs, unless those are more than most; it says whether it
// ran, and the pairs counted.
func (st *settling) step(ctx context.Context, name string, at widenStep, ways [][2]string, most float64) (ran bool, pairs int64, err error) {
	start := time.Now()
	pairs, way, err := st.s.fewest(ctx, ways)
	if err != nil {
		return false, 0, err
	}
	if float64(pairs) > most {
		if traceStatements {
			fmt.Fprintf(os.Stderr, "duckdb %6dms near misses %s: %d pairs, more than about %.0f: not run\n",
				time.Since(start).Milliseconds(), name, pairs, most)
		}
		return false, pairs, nil
	}
	var settled int64
	if pairs > 0 { // no pair, no near miss to settle
		if settled, err = st.s.execCount(ctx, way[1]); err != nil {
			return false, pairs, err
		}
	}
	if traceStatements {
		fmt.Fprintf(os.Stderr, "duckdb %6dms near misses %s: %d pairs, %d of %d records settled\n",
			time.Since(start).Milliseconds(), name, pairs, settled, st.left)
	}
	at.Left, at.Settled, at.Pairs = st.left, settled, pairs
	st.heard(at)
	st.left -= settled
	return true, pairs, nil
}

// share is 1/share of the pairs that comparing every pair sharing keys
// would for the records left: the most a step may compare.
func (st *settling) share(share float64) float64 {
	return float64(st.left) * st.perRecord / share
}

// heard tells a step to the tests that listen.
func (st *settling) heard(step widenStep) {
	if st.s.widened != nil {
		st.s.widened(step)
	}
}

// fewPairs is as many pairs as comparing every pair compares in about the
// time two statements of widening take (20-60 ms).
const fewPairs = 1 << 20

// aheadFrom is as many pairs as a step must compare for a step ahead of
// it (see sqlplan.AheadShare) to run at its share: below it, the
// statements of the steps ahead cost as much as they may spare. The
// review's books of 1,600-7,300 records a side, whose passing steps
// compare 0.1-2.5 million pairs: rounds ahead of them and a stage at half
// (not a quarter) took 0.7-1.5 s more where the step took 0.1-0.3 s.
const aheadFrom = 16 * fewPairs

// keyEstimate is a rule's judgement of its keys, from the pairs sharing
// them that its KeyStats estimate, and each side's records.
type keyEstimate struct {
	coarse      bool
	pairs       float64
	left, right int64
}

// perRecord is the pairs sharing keys a record of side (L or R) is in, on
// average; where keys were not counted (tests take them as coarse or
// not), +Inf under coarse keys and 0 else.
func (k keyEstimate) perRecord(side string) float64 {
	records := k.left
	if side == "R" {
		records = k.right
	}
	switch {
	case records > 0:
		return k.pairs / float64(records)
	case k.coarse:
		return math.Inf(1)
	}
	return 0
}

// coarseKeys judges a rule's keys from its KeyStats: coarse when the
// pairs sharing keys, estimated from each side's sample, outnumber 16
// times the records. The rule then joins its candidates on bands too where
// it can, and finds its near misses by the nearest values, by widening or
// by an aggregate.
// The count takes about 21 ms on the 1M book. Where keys are nearly unique
// the coarse ways cost more: candidates 0.27 s against 0.23 s, near misses
// 0.6-1.0 s by the nearest values and 191-202 ms by the aggregate against
// 121-164 ms a side; under three currencies, 100,000 records a side,
// candidates take 0.28 s against 19-40 s, and near misses 0.14 s a side
// where they filled the disk. A key shared by many records among many
// keys shared by few makes as many pairs as it does under coarse keys, and
// the sample counts them.
func (s *session) coarseKeys(ctx context.Context, stats string) (keyEstimate, error) {
	switch {
	case s.coarse == coarseNever:
		return keyEstimate{}, nil
	case s.coarse == coarseAlways:
		return keyEstimate{coarse: true}, nil
	}
	start := time.Now()
	var k keyEstimate
	var leftSampled, rightSampled, sampledPairs int64
	if err := s.conn.QueryRowContext(ctx, stats).Scan(&k.left, &leftSampled, &k.right, &rightSampled, &sampledPairs); err != nil {
		return keyEstimate{}, fmt.Errorf("duckdb: %w\nin: %s", err, abbreviate(stats))
	}
	if leftSampled > 0 && rightSampled > 0 { // else a side is empty
		k.pairs = float64(sampledPairs) * float64(k.left) / float64(leftSampled) * float64(k.right) / float64(rightSampled)
	}
	k.coarse = k.pairs > 16*float64(k.left+k.right)
	if traceStatements {
		fmt.Fprintf(os.Stderr, "duckdb %6dms keys: about %.0f pairs share keys (%d of %d and %d of %d records sampled), coarse: %t\n",
			time.Since(start).Milliseconds(), k.pairs, leftSampled, k.left, rightSampled, k.right, k.coarse)
	}
	if s.keysJudged != nil {
		s.keysJudged(k.pairs, k.coarse)
	}
	return k, nil
}

// aloneFirstWhen says when a 1:1 rule's rounds take the pairs alone in
// their records' candidates first (see sqlplan.RuleSteps.AloneFirst).
type aloneFirstWhen int

const (
	aloneFirstWhenFew aloneFirstWhen = iota // where records share keys with few others
	aloneFirstNever
)

// now says whether a rule whose keys are as estimated takes the pairs
// alone first.
func (w aloneFirstWhen) now(k keyEstimate) bool {
	return w == aloneFirstWhenFew && !k.coarse && k.perRecord("L") <= sqlplan.AloneFirstPairs && k.perRecord("R") <= sqlplan.AloneFirstPairs
}

// coarseWhen says when a rule's keys count as coarse.
type coarseWhen int

const (
	coarseByKeys coarseWhen = iota // as coarseKeys counts
	coarseNever
	coarseAlways
)

func runRule(ctx context.Context, s *session, steps sqlplan.RuleSteps) error {
	for _, q := range append([]string{steps.Candidates}, steps.Prepare...) {
		if err := s.exec(ctx, q); err != nil {
			return err
		}
	}
	if len(steps.Loop) > 0 {
		if err := runRounds(ctx, s, steps); err != nil {
			return err
		}
	}
	for _, q := range steps.Finish {
		if err := s.exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// runStages takes a 1:1 rule's pairs in its stages (see sqlplan.Stages):
// first those equal in every condition, where the rule has them, then
// from a radius of 0 (equal values), each WidenBy times the last, while a
// stage compares at most 1/RoundShare of the pairs that making the
// candidates of the free records at once would (the way of the fewest),
// and those are more than fewPairs; at most 1/AheadShare where they are
// more than aheadFrom; then it makes those candidates and takes the rest.
func runStages(ctx context.Context, s *session, steps sqlplan.RuleSteps) error {
	st := steps.Stages
	all, rest, err := s.fewest(ctx, st.Rest)
	if err != nil {
		return err
	}
	// The equal pairs are made from each side's records once (see
	// sqlplan's equalPairs): no count of theirs to weigh.
	if st.Equal != "" && s.stages.now(0, all) {
		if err := takeStage(ctx, s, steps, equalStage, st.Equal, "of values equal in every condition", time.Now()); err != nil {
			return err
		}
		if all, rest, err = s.fewest(ctx, st.Rest); err != nil {
			return err
		}
	}
	for radius, more := int64(0), true; more && radius < st.Bound; radius, more = st.Next(radius) {
		ran, pairs, err := runStage(ctx, s, steps, radius, all)
		if err != nil {
			return err
		}
		if !ran {
			break
		}
		if pairs == 0 {
			continue // nothing taken: the ways at once are as they were
		}
		if all, rest, err = s.fewest(ctx, st.Rest); err != nil {
			return err
		}
	}
	steps.Candidates = rest[1]
	return runRule(ctx, s, steps)
}

// equalStage is the radius the stage of pairs equal in every condition
// is told as, to those who hear the stages.
const equalStage = -1

// fewest is the way of ways (each the count of the pairs it compares and
// its statement) that compares the fewest pairs, and their count; the
// first of those tied.
func (s *session) fewest(ctx context.Context, ways [][2]string) (int64, [2]string, error) {
	var fewest int64 = -1
	var chosen [2]string
	for _, way := range ways {
		n, err := s.int64(ctx, way[0])
		if err != nil {
			return 0, chosen, err
		}
		if fewest < 0 || n < fewest {
			fewest, chosen = n, way
		}
	}
	return fewest, chosen, nil
}

// runStage runs the stage of radius R unless it would compare more than
// its share of the all pairs that the fewest way at once would (see
// runStages); it says whether it ran, and the pairs it compared.
func runStage(ctx context.Context, s *session, steps sqlplan.RuleSteps, radius, all int64) (ran bool, pairs int64, err error) {
	start := time.Now()
	count, q := steps.Stages.Stage(radius)
	if pairs, err = s.int64(ctx, count); err != nil {
		return false, 0, err
	}
	name := "within " + steps.Stages.Distance(radius)
	if !s.stages.now(pairs, all) {
		if traceStatements {
			fmt.Fprintf(os.Stderr, "duckdb %6dms stage %s: %d pairs, of %d at once: not run\n", time.Since(start).Milliseconds(), name, pairs, all)
		}
		return false, pairs, nil
	}
	if pairs == 0 {
		// As if run: no record is left within R of another.
		if traceStatements {
			fmt.Fprintf(os.Stderr, "duckdb %6dms stage %s: no pairs\n", time.Since(start).Milliseconds(), name)
		}
		return true, 0, nil
	}
	name += fmt.Sprintf(": %d pairs, of %d at once", pairs, all)
	return true, pairs, takeStage(ctx, s, steps, radius, q, name, start)
}

// takeStage makes a stage's candidates by q and takes its pairs, telling
// those who hear it the pairs it took.
func takeStage(ctx context.Context, s *session, steps sqlplan.RuleSteps, radius int64, q, name string, start time.Time) error {
	steps.Candidates = q
	if !traceStatements && s.staged == nil {
		return runRule(ctx, s, steps)
	}
	before, err := s.int64(ctx, sqlplan.PairsTaken)
	if err != nil {
		return err
	}
	if err := runRule(ctx, s, steps); err != nil {
		return err
	}
	after, err := s.int64(ctx, sqlplan.PairsTaken)
	if err != nil {
		return err
	}
	if traceStatements {
		fmt.Fprintf(os.Stderr, "duckdb %6dms stage %s; %d taken\n", time.Since(start).Milliseconds(), name, after-before)
	}
	if s.staged != nil {
		s.staged(radius, after-before)
	}
	return nil
}

// stagesWhen says when a 1:1 rule under coarse keys takes its pairs in
// stages.
type stagesWhen int

const (
	stagesWhenFewer stagesWhen = iota // while a stage compares few of the pairs at once
	stagesNever
	stagesAlways // while a stage compares fewer pairs than at once
)

// now says whether to run a stage comparing pairs, where making the
// candidates of the free records at once would compare all.
func (w stagesWhen) now(pairs, all int64) bool {
	switch {
	case w == stagesAlways:
		return pairs < all
	case all > aheadFrom:
		return pairs*sqlplan.AheadShare <= all
	}
	return all > fewPairs && pairs*sqlplan.RoundShare <= all
}

// runRounds repeats a rule's loop until Probe returns the same value twice
// or 0, or a 1:1 rule's round is slow and the walk takes the rest.
func runRounds(ctx context.Context, s *session, steps sqlplan.RuleSteps) error {
	prev, err := s.int64(ctx, steps.Probe)
	if err != nil {
		return err
	}
	for {
		done, err := runLoop(ctx, s, steps, prev)
		if err != nil || done {
			return err
		}
		next, err := s.int64(ctx, steps.Probe)
		switch {
		case err != nil:
			return err
		case next == prev || next == 0: // 0: no candidate (1:1) or label (M:N) left
			return nil
		case steps.Walk != nil && s.walk.now(prev, next):
			return walk(ctx, s, *steps.Walk)
		}
		prev = next
	}
}

// walkWhen says when a 1:1 rule's rounds give way to the walk.
type walkWhen int

const (
	// walkWhenSlow: after a round that left more than half of the
	// candidates it had. Where a round takes most candidates, as the first
	// does on most books, rounds use both cores and the walk one.
	walkWhenSlow walkWhen = iota
	walkNever             // rounds alone
	walkFirst             // after the first round, whatever it took
)

// now says whether to walk after a round that had before candidates and
// left left.
func (w walkWhen) now(before, left int64) bool {
	switch w {
	case walkNever:
		return false
	case walkFirst:
		return true
	}
	return 2*left > before
}

// walk takes the rest of a 1:1 rule's pairs by walking its candidates in
// order (see sqlplan.Walk). Records are numbered from 1, so two sets of
// bits hold the records taken.
func walk(ctx context.Context, s *session, w sqlplan.Walk) error {
	start := time.Now()
	rows, err := s.conn.QueryContext(ctx, w.Read)
	if err != nil {
		return fmt.Errorf("duckdb: %w\nin: %s", err, abbreviate(w.Read))
	}
	defer rows.Close()
	var lefts, rights bits
	var kept [][2]int64
	for rows.Next() {
		var lid, rid int64
		if err := rows.Scan(&lid, &rid); err != nil {
			return fmt.Errorf("duckdb: %w\nin: %s", err, abbreviate(w.Read))
		}
		if lefts.has(lid) || rights.has(rid) {
			continue
		}
		lefts.set(lid)
		rights.set(rid)
		kept = append(kept, [2]int64{lid, rid})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("duckdb: %w\nin: %s", err, abbreviate(w.Read))
	}
	rows.Close()
	if traceStatements {
		fmt.Fprintf(os.Stderr, "duckdb %6dms walk: %d pairs kept\n", time.Since(start).Milliseconds(), len(kept))
	}
	if err := s.exec(ctx, w.Create); err != nil {
		return err
	}
	if err := s.append(w.Table, kept); err != nil {
		return err
	}
	return s.exec(ctx, w.Insert)
}

// append puts rows of two BIGINTs in a temporary table.
func (s *session) append(table string, rows [][2]int64) error {
	return s.conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", table)
		if err != nil {
			return fmt.Errorf("duckdb appender for %s: %w", table, err)
		}
		for _, r := range rows {
			if err := a.AppendRow(r[0], r[1]); err != nil {
				a.Close()
				return fmt.Errorf("duckdb appender for %s: %w", table, err)
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("duckdb appender for %s: %w", table, err)
		}
		return nil
	})
}

// bits is a set of ids from 0.
type bits []uint64

func (b bits) has(id int64) bool {
	i := int(id / 64)
	return i < len(b) && b[i]&(1<<(id%64)) != 0
}

func (b *bits) set(id int64) {
	i := int(id / 64)
	if i >= len(*b) {
		*b = append(*b, make([]uint64, i+1-len(*b))...)
	}
	(*b)[i] |= 1 << (id % 64)
}

// runLoop runs a rule's loop once. It reports done when the first statement
// took all of the probed candidates (see RuleSteps.TakesAll).
func runLoop(ctx context.Context, s *session, steps sqlplan.RuleSteps, probed int64) (done bool, err error) {
	for i, q := range steps.Loop {
		n, err := s.execCount(ctx, q)
		if err != nil {
			return false, err
		}
		if i == 0 && steps.TakesAll && n == probed {
			return true, nil
		}
	}
	return false, nil
}

func ruleCounts(ctx context.Context, s *session, p *plan.Plan) ([]engine.RuleCounts, error) {
	if err := s.exec(ctx, sqlplan.RuleCounts(p)); err != nil {
		return nil, err
	}
	rows, err := s.conn.QueryContext(ctx, sqlplan.ReadRuleCounts())
	if err != nil {
		return nil, fmt.Errorf("duckdb: %w", err)
	}
	defer rows.Close()
	var out []engine.RuleCounts
	for rows.Next() {
		var k int
		var c engine.RuleCounts
		if err := rows.Scan(&k, &c.Groups, &c.LeftMatched, &c.RightMatched); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// write copies each evidence query into a file of out.Dir.
func write(ctx context.Context, s *session, p *plan.Plan, out engine.Output) error {
	left, right := sqlplan.Sides(p)
	files := map[string]string{
		engine.MatchedFile:        sqlplan.Matched(p),
		engine.UnmatchedLeftFile:  sqlplan.Unmatched(p, left),
		engine.UnmatchedRightFile: sqlplan.Unmatched(p, right),
	}
	if q := sqlplan.SortPairs(p); q != "" {
		if err := s.exec(ctx, q); err != nil {
			return err
		}
	}
	options := "FORMAT parquet, COMPRESSION zstd"
	if out.Format == engine.CSV {
		options = "FORMAT csv, HEADER true"
	}
	for name, q := range files {
		path := filepath.Join(out.Dir, out.Format.File(name))
		if err := s.exec(ctx, fmt.Sprintf("COPY (%s) TO %s (%s)", q, sqlplan.String(path), options)); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// levenshtein is the edit distance in characters (runes), which fuzzy
// conditions need; DuckDB's built-in levenshtein counts bytes.
type levenshtein struct{}

func (levenshtein) Config() duckdb.ScalarFuncConfig {
	text, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	integer, _ := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	// Not volatile: the optimizer may then compute an expression of it once
	// where a query spells it several times (the near misses do).
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{text, text}, ResultTypeInfo: integer}
}

func (levenshtein) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		return int64(plan.Levenshtein(values[0].(string), values[1].(string))), nil
	}}
}

// fold is full Unicode case folding (plan.Fold), which eq_ci needs;
// DuckDB's lower maps ß to itself and keeps final sigma.
type fold struct{}

func (fold) Config() duckdb.ScalarFuncConfig {
	text, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{text}, ResultTypeInfo: text}
}

func (fold) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		return plan.Fold(values[0].(string)), nil
	}}
}

// floatText prints a FLOAT or DOUBLE as the schema reader measured it
// (sqlplan.FloatText).
type floatText struct{ typ duckdb.Type }

func (f floatText) Config() duckdb.ScalarFuncConfig {
	in, _ := duckdb.NewTypeInfo(f.typ)
	text, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{in}, ResultTypeInfo: text}
}

func (floatText) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		switch v := values[0].(type) {
		case float32:
			return strconv.FormatFloat(float64(v), 'f', -1, 32), nil
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), nil
		}
		return nil, fmt.Errorf("%s: %T is no float", sqlplan.FloatText, values[0])
	}}
}
