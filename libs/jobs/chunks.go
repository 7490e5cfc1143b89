package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The completion gate: a run's exec job is enqueued once every staged side
// has its chunk count (one per stage_plan job) and every chunk is staged.
// Recording calls lock the run row first, so each recount sees every chunk
// committed before it, and exec_enqueued flips exactly once. A side whose
// chunks hold another number of rows than its plan counted changed while it
// was staged: the gate fails the run instead of reconciling a mix of states.

// RecordChunkAndEnqueue records a staged chunk once (a redelivery changes
// nothing): rows staged of the rows read in its range, fewer when the
// database left out rows the source's filter does not keep. It recomputes
// the run's progress from staged_chunks, and reports whether this call
// opened the completion gate; the call that opens it enqueues exec, with
// its outbox row, in the same transaction.
func (s *Store) RecordChunkAndEnqueue(ctx context.Context, runID, side string, index int, rows, read int64, objectKey string, exec NewJob) (bool, error) {
	var opened bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockRun(ctx, tx, runID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO staged_chunks (run_id, side, chunk_index, rows, rows_read, object_key)
			VALUES ($1, $2, $3, $4, nullif($5::bigint, $4::bigint), $6) ON CONFLICT DO NOTHING`, runID, side, index, rows, read, objectKey)
		if err != nil {
			return err
		}
		opened, err = refreshAndGate(ctx, tx, runID, exec)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record chunk %s/%d of run %s: %w", side, index, runID, err)
	}
	return opened, nil
}

// ChunkRecorded reports whether the chunk is recorded as staged: its part
// is in place and counted, so the chunk must not be read again (a second
// read, in another snapshot, could replace the part with other rows).
func (s *Store) ChunkRecorded(ctx context.Context, runID, side string, index int) (bool, error) {
	var recorded bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staged_chunks
		WHERE run_id = $1 AND side = $2 AND chunk_index = $3)`, runID, side, index).Scan(&recorded)
	if err != nil {
		return false, fmt.Errorf("find chunk %s/%d of run %s: %w", side, index, runID, err)
	}
	return recorded, nil
}

// SetChunksTotalAndEnqueue records how many chunks the stage plan cut side
// into and how many rows it counted, and reports whether this opened the
// completion gate (all chunks already staged, or none to stage); the call
// that opens it enqueues exec, with its outbox row, in the same
// transaction. Setting it again replaces both.
func (s *Store) SetChunksTotalAndEnqueue(ctx context.Context, runID, side string, total int, rows int64, exec NewJob) (bool, error) {
	var opened bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockRun(ctx, tx, runID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO staged_sources (run_id, side, chunks_total, rows_planned) VALUES ($1, $2, $3, $4)
			ON CONFLICT (run_id, side) DO UPDATE SET chunks_total = EXCLUDED.chunks_total, rows_planned = EXCLUDED.rows_planned`, runID, side, total, rows)
		if err != nil {
			return err
		}
		opened, err = refreshAndGate(ctx, tx, runID, exec)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("set chunks total of run %s side %s to %d: %w", runID, side, total, err)
	}
	return opened, nil
}

// lockRun takes the run's row lock that serializes progress updates.
func lockRun(ctx context.Context, tx pgx.Tx, runID string) error {
	var id string
	err := tx.QueryRow(ctx, "SELECT id FROM runs WHERE id = $1 FOR NO KEY UPDATE", runID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// refreshAndGate recomputes progress (chunks beyond a side's count are
// ignored), fails the run if a fully staged side holds another row count
// than planned, then opens the gate if it is due and still closed,
// enqueueing exec.
func refreshAndGate(ctx context.Context, tx pgx.Tx, runID string, exec NewJob) (bool, error) {
	_, err := tx.Exec(ctx, `UPDATE runs SET
		chunks_total = (SELECT coalesce(sum(chunks_total), 0) FROM staged_sources WHERE run_id = $1),
		(chunks_staged, rows_staged) = (
			SELECT count(*), coalesce(sum(c.rows), 0) FROM staged_chunks c
			JOIN staged_sources s ON s.run_id = c.run_id AND s.side = c.side
			WHERE c.run_id = $1 AND c.chunk_index < s.chunks_total)
		WHERE id = $1`, runID)
	if err != nil {
		return false, err
	}
	changed, err := changedSide(ctx, tx, runID)
	if err != nil {
		return false, err
	}
	if changed != "" {
		_, err := failRun(ctx, tx, runID, changed)
		return false, err
	}
	tag, err := tx.Exec(ctx, `UPDATE runs SET exec_enqueued = true
		WHERE id = $1 AND NOT exec_enqueued AND `+activeRun+` AND chunks_staged >= chunks_total
		AND (SELECT count(*) FROM staged_sources WHERE run_id = $1)
			>= greatest(1, (SELECT count(*) FROM jobs WHERE run_id = $1 AND type = 'stage_plan'))`, runID)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	if err := insertJobs(ctx, tx, runID, []NewJob{exec}, true); err != nil {
		return false, err
	}
	return true, nil
}

// changedSide describes the first fully staged side of the run whose chunks
// hold another number of rows than its plan counted, or returns "".
func changedSide(ctx context.Context, tx pgx.Tx, runID string) (string, error) {
	var side string
	var planned, staged int64
	err := tx.QueryRow(ctx, `SELECT s.side, s.rows_planned, coalesce(sum(coalesce(c.rows_read, c.rows)), 0)::bigint
		FROM staged_sources s LEFT JOIN staged_chunks c
			ON c.run_id = s.run_id AND c.side = s.side AND c.chunk_index < s.chunks_total
		WHERE s.run_id = $1 AND s.rows_planned IS NOT NULL
		GROUP BY s.side, s.rows_planned, s.chunks_total
		HAVING count(c.chunk_index) >= s.chunks_total AND coalesce(sum(coalesce(c.rows_read, c.rows)), 0) <> s.rows_planned
		ORDER BY s.side LIMIT 1`, runID).Scan(&side, &planned, &staged)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("the %s source changed while it was staged: its stage plan counted %d rows, its chunks hold %d; run it again", side, planned, staged), nil
}

// RowsRead is, per side ("left", "right"), how many rows the staged chunks
// of the run read, those the database left out by the source's filter
// included: the records the source held.
func (s *Store) RowsRead(ctx context.Context, runID string) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.side, sum(coalesce(c.rows_read, c.rows))::bigint FROM staged_chunks c
		JOIN staged_sources s ON s.run_id = c.run_id AND s.side = c.side
		WHERE c.run_id = $1 AND c.chunk_index < s.chunks_total GROUP BY c.side`, runID)
	if err != nil {
		return nil, fmt.Errorf("rows read of run %s: %w", runID, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var side string
		var n int64
		if err := rows.Scan(&side, &n); err != nil {
			return nil, fmt.Errorf("rows read of run %s: %w", runID, err)
		}
		out[side] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows read of run %s: %w", runID, err)
	}
	return out, nil
}
