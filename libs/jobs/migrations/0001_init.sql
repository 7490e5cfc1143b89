-- Kalla's state: runs, jobs, staging progress, the outbox and saved recipes.

CREATE TABLE runs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    recipe_id     text NOT NULL,
    recipe_text   text NOT NULL DEFAULT '',
    recipe        bytea,
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'staging', 'executing', 'completed', 'failed', 'cancelled')),
    phase         text NOT NULL DEFAULT 'queued',
    chunks_total  int NOT NULL DEFAULT 0,
    chunks_staged int NOT NULL DEFAULT 0,
    rows_staged   bigint NOT NULL DEFAULT 0,
    exec_enqueued boolean NOT NULL DEFAULT false,
    summary       jsonb,
    error         text NOT NULL DEFAULT '',
    evidence      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    deadline      timestamptz
);
CREATE INDEX runs_created_idx ON runs (created_at DESC, id DESC);
CREATE INDEX runs_status_created_idx ON runs (status, created_at DESC, id DESC);
CREATE INDEX runs_active_deadline_idx ON runs (deadline)
    WHERE status IN ('queued', 'staging', 'executing');

CREATE TABLE jobs (
    id              uuid PRIMARY KEY,
    run_id          uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    type            text NOT NULL CHECK (type IN ('stage_plan', 'stage_chunk', 'exec')),
    subject         text NOT NULL CHECK (subject <> ''),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'claimed', 'completed', 'failed', 'cancelled')),
    claimed_by      text NOT NULL DEFAULT '',
    claimed_at      timestamptz,
    last_heartbeat  timestamptz,
    timeout_seconds int NOT NULL CHECK (timeout_seconds > 0),
    attempts        int NOT NULL DEFAULT 1,
    max_attempts    int NOT NULL CHECK (max_attempts > 0),
    payload         bytea NOT NULL,
    error           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_status_heartbeat_idx ON jobs (status, last_heartbeat);
CREATE INDEX jobs_run_idx ON jobs (run_id);
CREATE INDEX jobs_pending_type_idx ON jobs (type, updated_at) WHERE status = 'pending';

-- staged_sources holds each staged side's chunk count, set by its stage plan.
CREATE TABLE staged_sources (
    run_id       uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    side         text NOT NULL,
    chunks_total int NOT NULL CHECK (chunks_total >= 0),
    PRIMARY KEY (run_id, side)
);

CREATE TABLE staged_chunks (
    run_id      uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    side        text NOT NULL,
    chunk_index int NOT NULL CHECK (chunk_index >= 0),
    rows        bigint NOT NULL CHECK (rows >= 0),
    object_key  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, side, chunk_index)
);

-- outbox holds messages written in the same transaction as their job; a
-- publisher leases rows (claimed_until) and marks them published.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    job_id        uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    subject       text NOT NULL,
    msg_id        text NOT NULL UNIQUE,
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_job_idx ON outbox (job_id);

CREATE TABLE recipes (
    recipe_id  text PRIMARY KEY,
    text       text NOT NULL,
    recipe     bytea,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION kalla_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE TRIGGER runs_touch BEFORE UPDATE ON runs
    FOR EACH ROW EXECUTE FUNCTION kalla_touch();
CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION kalla_touch();

-- Every change of a run is announced on channel kalla_runs with the run id,
-- so WatchRun can follow it with LISTEN.
CREATE FUNCTION kalla_notify_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kalla_runs', NEW.id::text);
    RETURN NULL;
END $$;

CREATE TRIGGER runs_notify AFTER INSERT OR UPDATE ON runs
    FOR EACH ROW EXECUTE FUNCTION kalla_notify_run();
