// Package jobs keeps Kalla's state in PostgreSQL: runs, their jobs, staging
// progress, the transactional outbox and saved recipes.
//
// Every job row is written together with an outbox row in one transaction;
// a publisher takes outbox rows with PendingOutbox, publishes them (msg id =
// job id + "-" + attempt, for JetStream de-duplication) and calls
// MarkPublished. A retry (Fail not final, ReclaimStale) writes a new outbox
// row with the next attempt, so a retried job is always republished.
//
// Every insert into or update of runs is announced with NOTIFY on channel
// RunsChannel, the payload being the run id.
package jobs

import (
	"errors"
	"time"
)

// RunsChannel is the LISTEN channel that announces run changes.
const RunsChannel = "kalla_runs"

// Run statuses.
const (
	RunQueued    = "queued"
	RunStaging   = "staging"
	RunExecuting = "executing"
	RunCompleted = "completed"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
)

// Job statuses.
const (
	JobPending   = "pending"
	JobClaimed   = "claimed"
	JobCompleted = "completed"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// Job types.
const (
	TypeStagePlan  = "stage_plan"
	TypeStageChunk = "stage_chunk"
	TypeExec       = "exec"
)

// PhaseDone is the phase of a run that has ended.
const PhaseDone = "done"

var (
	// ErrNotFound: no run, job or recipe with that id.
	ErrNotFound = errors.New("not found")
	// ErrBadPageToken: a page token that no list of this store handed out.
	ErrBadPageToken = errors.New("invalid page token")
	// ErrLostClaim: the job is no longer claimed by this worker (reclaimed,
	// cancelled or finished); the worker must stop and not report results.
	ErrLostClaim = errors.New("job is no longer claimed by this worker")
	// ErrRunNotActive: the run has already completed, failed or been cancelled.
	ErrRunNotActive = errors.New("run is not active")
)

// Run is one row of the runs table. Zero times mean NULL.
type Run struct {
	ID           string
	RecipeID     string
	RecipeText   string
	Recipe       []byte // protobuf kalla.v1.Recipe
	Status       string
	Phase        string
	ChunksTotal  int
	ChunksStaged int
	RowsStaged   int64
	ExecEnqueued bool
	Summary      []byte // JSON
	Error        string
	BadInput     bool   // failed on its input (see Failure)
	Evidence     []byte // JSON
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FinishedAt   time.Time
	Deadline     time.Time
}

// Job is one row of the jobs table. Zero times mean NULL.
type Job struct {
	ID             string
	RunID          string
	Type           string
	Subject        string
	Status         string
	ClaimedBy      string
	ClaimedAt      time.Time
	LastHeartbeat  time.Time
	TimeoutSeconds int
	Attempts       int
	MaxAttempts    int
	Payload        []byte // protobuf kalla.v1.JobEnvelope
	Error          string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// NewRun is a run to create with its first jobs.
type NewRun struct {
	RecipeID   string
	RecipeText string
	Recipe     []byte
	Deadline   time.Time // zero: no deadline
	Jobs       []NewJob
}

// NewJob is a job to enqueue. ID may be empty (a new one is made). Payload
// is a protobuf kalla.v1.JobEnvelope; its job_id, run_id and attempt are
// set by the store. Zero TimeoutSeconds and MaxAttempts take the defaults
// of the job type.
type NewJob struct {
	ID             string
	Type           string
	Subject        string
	Payload        []byte
	TimeoutSeconds int
	MaxAttempts    int
}

// OutboxEntry is a message waiting to be published.
type OutboxEntry struct {
	ID        int64
	JobID     string
	Subject   string
	MsgID     string
	Payload   []byte
	CreatedAt time.Time
}

// Recipe is a saved recipe.
type Recipe struct {
	ID        string
	Text      string
	Recipe    []byte
	UpdatedAt time.Time
}

// Reclaimed counts what ReclaimStale did.
type Reclaimed struct {
	Retried int // set back to pending and republished
	Failed  int // out of attempts: job and run failed
}
