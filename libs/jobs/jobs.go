package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/queue"
)

const jobColumns = `id, run_id, type, subject, status, claimed_by, claimed_at, last_heartbeat,
	timeout_seconds, attempts, max_attempts, payload, error, created_at, updated_at`

func scanJob(row pgx.Row) (Job, error) {
	var j Job
	var claimed, beat *time.Time
	err := row.Scan(&j.ID, &j.RunID, &j.Type, &j.Subject, &j.Status, &j.ClaimedBy, &claimed, &beat,
		&j.TimeoutSeconds, &j.Attempts, &j.MaxAttempts, &j.Payload, &j.Error, &j.CreatedAt, &j.UpdatedAt)
	j.ClaimedAt, j.LastHeartbeat = timeOf(claimed), timeOf(beat)
	return j, err
}

// defaults are the plan's timeouts (seconds) and attempts per job type.
var defaults = map[string][2]int{
	TypeStagePlan:  {120, 3},
	TypeStageChunk: {300, 3},
	TypeExec:       {1800, 2},
}

// jobRows are NewJobs as columns, ready for unnest.
type jobRows struct {
	ids, types, subjects []string
	msgIDs               []string
	timeouts, maxes      []int
	payloads             [][]byte
}

func prepareJobs(runID string, jobs []NewJob) (jobRows, error) {
	var r jobRows
	for _, j := range jobs {
		if j.ID == "" {
			j.ID = NewID()
		}
		if !validID(j.ID) {
			return r, fmt.Errorf("job id %q is not a UUID", j.ID)
		}
		j.ID = strings.ToLower(j.ID)
		d := defaults[j.Type]
		j.TimeoutSeconds, j.MaxAttempts = or(j.TimeoutSeconds, d[0]), or(j.MaxAttempts, d[1])
		payload, err := stamp(j.Payload, j.ID, runID, 1)
		if err != nil {
			return r, err
		}
		r.ids, r.types, r.subjects = append(r.ids, j.ID), append(r.types, j.Type), append(r.subjects, j.Subject)
		r.msgIDs = append(r.msgIDs, queue.MsgID(j.ID, 1))
		r.timeouts, r.maxes = append(r.timeouts, j.TimeoutSeconds), append(r.maxes, j.MaxAttempts)
		r.payloads = append(r.payloads, payload)
	}
	return r, nil
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// insertJobs inserts jobs (attempt 1) and one outbox row each. With
// idempotent, a job id that exists already is skipped, outbox row too.
func insertJobs(ctx context.Context, tx pgx.Tx, runID string, jobs []NewJob, idempotent bool) error {
	if len(jobs) == 0 {
		return nil
	}
	r, err := prepareJobs(runID, jobs)
	if err != nil {
		return err
	}
	conflict := ""
	if idempotent {
		conflict = "ON CONFLICT DO NOTHING"
	}
	_, err = tx.Exec(ctx, `WITH input AS (
			SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bytea[], $8::text[])
			AS u(id, type, subject, timeout_seconds, max_attempts, payload, msg_id)),
		j AS (
			INSERT INTO jobs (id, run_id, type, subject, timeout_seconds, max_attempts, payload)
			SELECT id, $1, type, subject, timeout_seconds, max_attempts, payload FROM input
			`+conflict+` RETURNING id, subject, payload)
		INSERT INTO outbox (job_id, subject, msg_id, payload)
		SELECT j.id, j.subject, input.msg_id, j.payload FROM j JOIN input USING (id) `+conflict,
		runID, r.ids, r.types, r.subjects, r.timeouts, r.maxes, r.payloads, r.msgIDs)
	if err != nil {
		return fmt.Errorf("insert jobs %s: %w", strings.Join(r.ids, ", "), err)
	}
	return nil
}

// AddJobs enqueues more jobs of an active run, each with its outbox row, in
// one transaction. A job whose id exists already is skipped, so a retried
// stage plan can add its chunk jobs again.
func (s *Store) AddJobs(ctx context.Context, runID string, jobs []NewJob) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, "SELECT status FROM runs WHERE id = $1 FOR SHARE", runID).Scan(&status)
		if err != nil {
			return notFound(err)
		}
		if !isActive(status) {
			return runEnded{status}
		}
		return insertJobs(ctx, tx, runID, jobs, true)
	})
	if err != nil {
		return fmt.Errorf("add jobs to run %s: %w", runID, err)
	}
	return nil
}

func isActive(status string) bool {
	return status == RunQueued || status == RunStaging || status == RunExecuting
}

// Claim gives the job to workerID for delivery attempt (the envelope's
// attempt). It returns false, without error, when the job has ended, its
// run is not active, or attempt is older than the job's current attempt:
// the message is stale or done, and the caller acks it without running it.
// A claimed job may be claimed again (a redelivery); the earlier worker
// then gets ErrLostClaim.
func (s *Store) Claim(ctx context.Context, jobID, workerID string, attempt int) (Job, bool, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `UPDATE jobs SET status = 'claimed', claimed_by = $2,
			claimed_at = now(), last_heartbeat = now(), attempts = greatest(attempts, $3)
		WHERE id = $1 AND status IN ('pending', 'claimed') AND attempts <= $3
			AND EXISTS (SELECT 1 FROM runs r WHERE r.id = jobs.run_id AND r.`+activeRun+`)
		RETURNING `+jobColumns, jobID, workerID, attempt))
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.jobExists(ctx, jobID)
		if err == nil {
			return Job{}, false, nil
		}
	}
	if err != nil {
		return Job{}, false, fmt.Errorf("claim job %s for worker %s: %w", jobID, workerID, err)
	}
	return j, true, nil
}

func (s *Store) jobExists(ctx context.Context, jobID string) error {
	var ok bool
	err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1)", jobID).Scan(&ok)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return err
}

// Heartbeat records that workerID still works on the job. It returns
// ErrLostClaim when the job is no longer claimed by workerID.
func (s *Store) Heartbeat(ctx context.Context, jobID, workerID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE jobs SET last_heartbeat = now()
		WHERE id = $1 AND status = 'claimed' AND claimed_by = $2`, jobID, workerID)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrLostClaim
	}
	if err != nil {
		return fmt.Errorf("heartbeat job %s by worker %s: %w", jobID, workerID, err)
	}
	return nil
}

// Complete marks the job completed. Only the claiming worker may; anyone
// else gets ErrLostClaim. Completing twice is a no-op.
func (s *Store) Complete(ctx context.Context, jobID, workerID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE jobs SET status = 'completed', error = ''
		WHERE id = $1 AND claimed_by = $2 AND status IN ('claimed', 'completed')`, jobID, workerID)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrLostClaim
	}
	if err != nil {
		return fmt.Errorf("complete job %s by worker %s: %w", jobID, workerID, err)
	}
	return nil
}

// Failure is how a job failed.
type Failure int

const (
	// Retry: another attempt may succeed.
	Retry Failure = iota
	// Final: no attempt will; the job and its run fail now.
	Final
	// BadInput: Final, because of the run's input (its recipe, its data,
	// its source's tables or credentials); the run records it.
	BadInput
)

// Fail reports that workerID could not do the job. When the failure is
// Final or BadInput, or the job has used all its attempts, the job and its
// run fail with reason. Otherwise the job goes back to pending with the
// next attempt and is republished through the outbox after s.RetryDelay;
// the caller acks (or terms) the current message, whose older attempt
// Claim will refuse. Only the claiming worker may fail a job (else
// ErrLostClaim).
func (s *Store) Fail(ctx context.Context, jobID, workerID, reason string, how Failure) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		j, err := scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs
			WHERE id = $1 AND status = 'claimed' AND claimed_by = $2 FOR UPDATE`, jobID, workerID))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrLostClaim
		}
		if err != nil {
			return err
		}
		if how == BadInput {
			if _, err := tx.Exec(ctx, "UPDATE runs SET bad_input = true WHERE id = $1 AND "+activeRun, j.RunID); err != nil {
				return err
			}
		}
		if how != Retry {
			return failJob(ctx, tx, j, reason, fmt.Sprintf("%s job %s failed: %s", j.Type, j.ID, reason))
		}
		return retryOrFail(ctx, tx, j, reason, s.RetryDelay)
	})
	if err != nil {
		return fmt.Errorf("fail job %s by worker %s: %w", jobID, workerID, err)
	}
	return nil
}

// retryOrFail republishes the job with its next attempt after delay, or,
// when it has used all its attempts, fails it and its run.
func retryOrFail(ctx context.Context, tx pgx.Tx, j Job, reason string, delay time.Duration) error {
	if j.Attempts >= j.MaxAttempts {
		return failJob(ctx, tx, j, reason,
			fmt.Sprintf("%s job %s failed after %d attempts: %s", j.Type, j.ID, j.Attempts, reason))
	}
	attempt := j.Attempts + 1
	payload, err := stamp(j.Payload, j.ID, j.RunID, attempt)
	if err != nil {
		return failJob(ctx, tx, j, err.Error(), err.Error())
	}
	_, err = tx.Exec(ctx, `UPDATE jobs SET status = 'pending', attempts = $2, claimed_by = '',
		claimed_at = NULL, last_heartbeat = NULL, payload = $3, error = $4 WHERE id = $1`,
		j.ID, attempt, payload, reason)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO outbox (job_id, subject, msg_id, payload, claimed_until)
		VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) ON CONFLICT (msg_id) DO NOTHING`,
		j.ID, j.Subject, queue.MsgID(j.ID, int32(attempt)), payload, delay.Seconds())
	return err
}

// failJob fails the job with jobErr and its run with runErr.
func failJob(ctx context.Context, tx pgx.Tx, j Job, jobErr, runErr string) error {
	_, err := tx.Exec(ctx, "UPDATE jobs SET status = 'failed', error = $2 WHERE id = $1", j.ID, jobErr)
	if err != nil {
		return err
	}
	_, err = failRun(ctx, tx, j.RunID, runErr)
	return err
}

// staleJobs is the condition of a claimed job whose heartbeat is older than
// its timeout at $1.
const staleJobs = `status = 'claimed'
	AND last_heartbeat + make_interval(secs => timeout_seconds) < $1`

// ReclaimStale handles every stale job (see staleJobs), one transaction
// each: back to pending with the next attempt and a new outbox row, or,
// when out of attempts, failed together with its run. Any number of
// reapers may call it at once; each stale job is handled once.
func (s *Store) ReclaimStale(ctx context.Context, now time.Time) (Reclaimed, error) {
	var r Reclaimed
	for {
		j, found, err := s.reclaimOne(ctx, now)
		if err != nil {
			return r, fmt.Errorf("reclaim stale job %s: %w", j.ID, err)
		}
		if !found {
			return r, nil
		}
		if j.Attempts >= j.MaxAttempts {
			r.Failed++
		} else {
			r.Retried++
		}
	}
}

func (s *Store) reclaimOne(ctx context.Context, now time.Time) (Job, bool, error) {
	var j Job
	found := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		j, err = scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE `+staleJobs+`
			ORDER BY last_heartbeat LIMIT 1 FOR UPDATE SKIP LOCKED`, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		reason := fmt.Sprintf("no heartbeat from worker %s for %ds", j.ClaimedBy, j.TimeoutSeconds)
		return retryOrFail(ctx, tx, j, reason, 0)
	})
	return j, found, err
}

// ActiveJobs counts claimed jobs by type.
func (s *Store) ActiveJobs(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, "SELECT type, count(*) FROM jobs WHERE status = 'claimed' GROUP BY type")
	if err != nil {
		return nil, fmt.Errorf("active jobs: %w", err)
	}
	counts := map[string]int{}
	var typ string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&typ, &n}, func() error { counts[typ] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("active jobs: %w", err)
	}
	return counts, nil
}
