package stage

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/services/stager/internal/extract"
)

// Chunk runs a StageChunk job: it extracts the chunk's range to a local
// Parquet file (stopping between batches if the run is cancelled), uploads
// it at the chunk's deterministic key, overwriting any earlier attempt, and
// records the chunk. The call that records the run's last chunk enqueues
// the exec job in the same transaction. A chunk already recorded is not
// read again: its part stays the one counted.
func (s *Stager) Chunk(ctx context.Context, jobID, runID string, sc *kallav1.StageChunk) error {
	side, index := sc.GetSide(), int(sc.GetChunkIndex())
	log := s.log().With("run_id", runID, "job_id", jobID, "side", pipeline.SideName(side), "chunk", index)
	if index < 0 {
		return queue.Poison(fmt.Errorf("chunk %d of run %s: a negative chunk index", index, runID))
	}
	src, err := s.loadSource(ctx, runID, side)
	if err != nil {
		return err
	}
	plan, found, err := s.loadPlan(ctx, runID, side)
	if err != nil {
		return err
	}
	if !found {
		return queue.Poison(fmt.Errorf("chunk %d of run %s: the %s side's stage plan %s is missing from %s",
			index, runID, pipeline.SideName(side), PlanKey(runID, side), s.Staging.URI("")))
	}
	r, err := chunkRange(sc, plan)
	if err != nil {
		return queue.Poison(fmt.Errorf("chunk %d of run %s: %w", index, runID, err))
	}
	recorded, err := s.Store.ChunkRecorded(ctx, runID, pipeline.SideName(side), index)
	if err != nil {
		return err
	}
	if recorded {
		log.Info("chunk already staged; not read again")
		return nil
	}
	key := pipeline.PartKey(runID, side, index)
	if uri := s.Staging.URI(key); sc.GetObjectUri() != "" && sc.GetObjectUri() != uri {
		log.Warn("the job names another object than this stager's staging store; using the store's", "job_object", sc.GetObjectUri(), "object", uri)
	}

	rows, read, err := s.extract(ctx, src.ref.DSN, plan, r, log, pipeline.Watch(ctx, s.Store, runID), func(path string) error {
		return s.Staging.PutFile(ctx, key, path)
	})
	if err != nil {
		return sourceError(err, src.ref.DSN)
	}
	if s.Metrics != nil {
		s.Metrics.RowsProcessed.Add(float64(rows))
	}
	exec, err := s.execJob(ctx, src.recipe, runID)
	if err != nil {
		return err
	}
	opened, err := s.Store.RecordChunkAndEnqueue(ctx, runID, pipeline.SideName(side), index, rows, read, key, exec)
	if err != nil {
		return err
	}
	log.Info("chunk staged", "rows", rows, "read", read, "object", s.Staging.URI(key), "exec_enqueued", opened)
	s.dispatch(ctx, log)
	return nil
}

// extract writes the chunk to a temp file in the plan's snapshot (see
// beginChunk), hands the file to upload and returns the rows written and
// the rows of its range read (more when the plan keeps some only).
func (s *Stager) extract(ctx context.Context, dsn string, plan savedPlan, r extract.Range, log *slog.Logger, check func() error, upload func(path string) error) (rows, read int64, err error) {
	conn, err := source.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, fmt.Errorf("connect to the source of %s: %w", plan.Table, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := beginChunk(ctx, conn, plan.Snapshot, log)
	if err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", plan.Table, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if plan.Keep != "" {
		if read, err = extract.Count(ctx, conn, plan.Table, r); err != nil {
			return 0, 0, err
		}
	}

	f, err := os.CreateTemp(s.TempDir, "kalla-chunk-*.parquet")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	if rows, err = extract.Chunk(ctx, conn, plan.Table, plan.Schema, r, plan.Keep, w, check); err != nil {
		return 0, 0, err
	}
	if plan.Keep == "" {
		read = rows
	}
	if err := w.Flush(); err != nil {
		return 0, 0, err
	}
	if err := f.Close(); err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, err
	}
	return rows, read, upload(f.Name())
}

// chunkRange checks a chunk job's range: a block range, or a key range over
// the column the plan cut by.
func chunkRange(sc *kallav1.StageChunk, plan savedPlan) (extract.Range, error) {
	switch rg := sc.GetRange().(type) {
	case *kallav1.StageChunk_Blocks:
		b := extract.Blocks{Start: rg.Blocks.GetStartBlock(), End: rg.Blocks.GetEndBlock(), Table: rg.Blocks.GetTable()}
		if b.Start < 0 || b.End < 0 || (b.End > 0 && b.End < b.Start) {
			return nil, fmt.Errorf("bad block range [%d, %d)", b.Start, b.End)
		}
		if b.Table != "" && !slices.ContainsFunc(plan.Chunks, func(p extract.Blocks) bool { return p.Table == b.Table }) {
			return nil, fmt.Errorf("block range of %q, which is not a partition the stage plan cuts", b.Table)
		}
		return b, nil
	case *kallav1.StageChunk_Keys:
		k := extract.Keys{Column: rg.Keys.GetColumn(), Start: rg.Keys.Start, End: rg.Keys.End, StartText: rg.Keys.StartText, EndText: rg.Keys.EndText,
			Columns: rg.Keys.GetColumns(), StartRow: rg.Keys.GetStartRow(), EndRow: rg.Keys.GetEndRow()}
		if err := checkKeys(k); err != nil {
			return nil, err
		}
		cuts := func(p extract.Keys) bool { return p.Column == k.Column && slices.Equal(p.Columns, k.Columns) }
		if (k.Column != "" || len(k.Columns) > 0) && !slices.ContainsFunc(plan.KeyChunks, cuts) {
			return nil, fmt.Errorf("key range over %q, which the stage plan does not cut by", append([]string{k.Column}, k.Columns...))
		}
		return k, nil
	}
	return nil, fmt.Errorf("no range")
}

// checkKeys refuses a key range that mixes integer, text and row bounds,
// whose rows do not match its columns, or that is empty. The order of text
// bounds is the database's to judge (collations).
func checkKeys(k extract.Keys) error {
	integer, text, row := k.Start != nil || k.End != nil, k.StartText != nil || k.EndText != nil, len(k.Columns) > 0
	rowLen := func(r []string) bool { return len(r) == 0 || len(r) == len(k.Columns) }
	switch {
	case integer && text || row && (integer || text || k.Column != ""):
		return fmt.Errorf("bad key range: bounds of several kinds")
	case !rowLen(k.StartRow) || !rowLen(k.EndRow) || len(k.Columns) == 0 && len(k.StartRow)+len(k.EndRow) > 0:
		return fmt.Errorf("bad key range: rows %q and %q over columns %q", k.StartRow, k.EndRow, k.Columns)
	case len(k.EndRow) > 0 && slices.Equal(k.StartRow, k.EndRow):
		return fmt.Errorf("bad key range [%q, %q)", k.StartRow, k.EndRow)
	case k.Start != nil && k.End != nil && *k.End <= *k.Start:
		return fmt.Errorf("bad key range [%d, %d)", *k.Start, *k.End)
	case k.StartText != nil && k.EndText != nil && *k.EndText == *k.StartText:
		return fmt.Errorf("bad key range [%q, %q)", *k.StartText, *k.EndText)
	}
	return nil
}
