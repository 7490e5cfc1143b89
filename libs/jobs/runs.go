package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

const runColumns = `id, recipe_id, recipe_text, recipe, status, phase, chunks_total, chunks_staged,
	rows_staged, exec_enqueued, summary, error, bad_input, evidence, created_at, updated_at, finished_at, deadline`

// activeRun is the SQL condition of a run that has not ended.
const activeRun = `status IN ('queued', 'staging', 'executing')`

func scanRun(row pgx.Row) (Run, error) {
	var r Run
	var finished, deadline *time.Time
	err := row.Scan(&r.ID, &r.RecipeID, &r.RecipeText, &r.Recipe, &r.Status, &r.Phase,
		&r.ChunksTotal, &r.ChunksStaged, &r.RowsStaged, &r.ExecEnqueued, &r.Summary, &r.Error, &r.BadInput,
		&r.Evidence, &r.CreatedAt, &r.UpdatedAt, &finished, &deadline)
	r.FinishedAt, r.Deadline = timeOf(finished), timeOf(deadline)
	return r, err
}

// CreateRun records a queued run, its first jobs and their outbox rows in
// one transaction, and returns the run id.
func (s *Store) CreateRun(ctx context.Context, nr NewRun) (string, error) {
	id := NewID()
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO runs (id, recipe_id, recipe_text, recipe, deadline)
			VALUES ($1, $2, $3, $4, $5)`, id, nr.RecipeID, nr.RecipeText, nr.Recipe, nullTime(nr.Deadline))
		if err != nil {
			return err
		}
		return insertJobs(ctx, tx, id, nr.Jobs, false)
	})
	if err != nil {
		return "", fmt.Errorf("create run %s (recipe %q): %w", id, nr.RecipeID, err)
	}
	return id, nil
}

// GetRun returns the run, or ErrNotFound.
func (s *Store) GetRun(ctx context.Context, runID string) (Run, error) {
	r, err := getRun(ctx, s.pool, runID)
	if err != nil {
		return Run{}, fmt.Errorf("get run %s: %w", runID, err)
	}
	return r, nil
}

func getRun(ctx context.Context, q querier, runID string) (Run, error) {
	if !validID(runID) {
		return Run{}, ErrNotFound
	}
	r, err := scanRun(q.QueryRow(ctx, "SELECT "+runColumns+" FROM runs WHERE id = $1", runID))
	return r, notFound(err)
}

// RunStatus returns only the run's status.
func (s *Store) RunStatus(ctx context.Context, runID string) (string, error) {
	var status string
	err := ErrNotFound
	if validID(runID) {
		err = notFound(s.pool.QueryRow(ctx, "SELECT status FROM runs WHERE id = $1", runID).Scan(&status))
	}
	if err != nil {
		return "", fmt.Errorf("run %s status: %w", runID, err)
	}
	return status, nil
}

// Staging reports whether a run is still staging: queued or staging, its
// exec job not yet enqueued. A stager holds a stage plan's snapshot while it
// is, and asks twice a second, so only those two columns are read.
func (s *Store) Staging(ctx context.Context, runID string) (bool, error) {
	var staging bool
	err := ErrNotFound
	if validID(runID) {
		err = notFound(s.pool.QueryRow(ctx, "SELECT status IN ($2, $3) AND NOT exec_enqueued FROM runs WHERE id = $1",
			runID, RunQueued, RunStaging).Scan(&staging))
	}
	if err != nil {
		return false, fmt.Errorf("run %s: %w", runID, err)
	}
	return staging, nil
}

// SetStatus moves an active run to another active status and phase. Ended
// runs are left alone (ErrRunNotActive); use CompleteRun or
// CancelRun to end one.
func (s *Store) SetStatus(ctx context.Context, runID, status, phase string) error {
	if status != RunQueued && status != RunStaging && status != RunExecuting {
		return fmt.Errorf("set run %s status: %q is not an active status", runID, status)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE runs SET status = $2, phase = $3
		WHERE id = $1 AND `+activeRun, runID, status, phase)
	if err == nil && tag.RowsAffected() == 0 {
		err = whyUnchanged(ctx, s.pool, runID)
	}
	if err != nil {
		return fmt.Errorf("set run %s status %s: %w", runID, status, err)
	}
	return nil
}

// CompleteRun ends an active run as completed with its summary and evidence
// (JSON). Completing a completed run again is a no-op.
func (s *Store) CompleteRun(ctx context.Context, runID string, summaryJSON, evidenceJSON []byte) error {
	tag, err := s.pool.Exec(ctx, `UPDATE runs SET status = 'completed', phase = 'done',
		summary = $2, evidence = $3, finished_at = now() WHERE id = $1 AND `+activeRun,
		runID, summaryJSON, evidenceJSON)
	if err == nil && tag.RowsAffected() == 0 {
		err = whyUnchanged(ctx, s.pool, runID)
		if st, ok := err.(runEnded); ok && st.status == RunCompleted {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("complete run %s: %w", runID, err)
	}
	return nil
}

// failRun fails the run if active and cancels its unfinished jobs.
func failRun(ctx context.Context, tx pgx.Tx, runID, reason string) (bool, error) {
	return endRun(ctx, tx, runID, RunFailed, reason)
}

func endRun(ctx context.Context, tx pgx.Tx, runID, status, reason string) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE runs SET status = $2, phase = 'done', error = $3,
		finished_at = now() WHERE id = $1 AND `+activeRun, runID, status, reason)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	_, err = tx.Exec(ctx, `UPDATE jobs SET status = 'cancelled', claimed_by = ''
		WHERE run_id = $1 AND status IN ('pending', 'claimed')`, runID)
	return true, err
}

// CancelRun cancels an active run and its unfinished jobs and returns the
// run. An ended run is returned unchanged.
func (s *Store) CancelRun(ctx context.Context, runID string) (Run, error) {
	var r Run
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if !validID(runID) {
			return ErrNotFound
		}
		if _, err := endRun(ctx, tx, runID, RunCancelled, ""); err != nil {
			return err
		}
		var err error
		r, err = getRun(ctx, tx, runID)
		return err
	})
	if err != nil {
		return Run{}, fmt.Errorf("cancel run %s: %w", runID, err)
	}
	return r, nil
}

// ExpireRuns fails active runs whose deadline is before now, cancels their
// jobs and returns their ids. Several reapers may call it at once.
func (s *Store) ExpireRuns(ctx context.Context, now time.Time) ([]string, error) {
	var ids []string
	err := s.tx(ctx, func(tx pgx.Tx) error {
		ids = nil
		rows, err := tx.Query(ctx, `SELECT id, created_at, deadline FROM runs
			WHERE `+activeRun+` AND deadline < $1 ORDER BY deadline LIMIT 1000
			FOR UPDATE SKIP LOCKED`, now)
		if err != nil {
			return err
		}
		expired, err := pgx.CollectRows(rows, pgx.RowToStructByPos[expiredRun])
		if err != nil {
			return err
		}
		for _, e := range expired {
			reason := fmt.Sprintf("run exceeded its total timeout of %s", e.Deadline.Sub(e.CreatedAt).Round(time.Second))
			if _, err := failRun(ctx, tx, e.ID, reason); err != nil {
				return fmt.Errorf("run %s: %w", e.ID, err)
			}
			ids = append(ids, e.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("expire runs: %w", err)
	}
	return ids, nil
}

type expiredRun struct {
	ID        string
	CreatedAt time.Time
	Deadline  time.Time
}

// runEnded says a run could not be changed because it has ended.
type runEnded struct{ status string }

func (e runEnded) Error() string { return fmt.Sprintf("%v (%s)", ErrRunNotActive, e.status) }
func (e runEnded) Unwrap() error { return ErrRunNotActive }

// whyUnchanged explains an update of an active run that touched no row:
// ErrNotFound or a runEnded (ErrRunNotActive).
func whyUnchanged(ctx context.Context, q querier, runID string) error {
	var status string
	err := q.QueryRow(ctx, "SELECT status FROM runs WHERE id = $1", runID).Scan(&status)
	if err != nil {
		return notFound(err)
	}
	return runEnded{status}
}
