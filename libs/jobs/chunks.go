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
// committed before it, and exec_enqueued flips exactly once.

// RecordChunkAndEnqueue records a staged chunk once (a redelivery changes
// nothing), recomputes the run's progress from staged_chunks, and reports
// whether this call opened the completion gate; the call that opens it
// enqueues exec, with its outbox row, in the same transaction.
func (s *Store) RecordChunkAndEnqueue(ctx context.Context, runID, side string, index int, rows int64, objectKey string, exec NewJob) (bool, error) {
	var opened bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockRun(ctx, tx, runID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO staged_chunks (run_id, side, chunk_index, rows, object_key)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, runID, side, index, rows, objectKey)
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

// SetChunksTotalAndEnqueue records how many chunks the stage plan cut side
// into and reports whether this opened the completion gate (all chunks
// already staged, or none to stage); the call that opens it enqueues
// exec, with its outbox row, in the same transaction. Setting it again
// replaces the count.
func (s *Store) SetChunksTotalAndEnqueue(ctx context.Context, runID, side string, total int, exec NewJob) (bool, error) {
	var opened bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockRun(ctx, tx, runID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO staged_sources (run_id, side, chunks_total) VALUES ($1, $2, $3)
			ON CONFLICT (run_id, side) DO UPDATE SET chunks_total = EXCLUDED.chunks_total`, runID, side, total)
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
// ignored), then opens the gate if it is due and still closed, enqueueing
// exec.
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
