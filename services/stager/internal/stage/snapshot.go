package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/source"
)

// A source is cut into chunks that different stagers read at different
// times, while the table may be written to. Each chunk reading its own
// snapshot could miss a row that an UPDATE moves from a block not yet read
// to one already read, and the reconciliation would silently lack it. So
// the stage plan exports the snapshot it measured the table in and keeps
// its transaction open while the run stages (as pg_dump --jobs does); every
// chunk imports it and reads exactly the rows the plan counted.
//
// If the stager holding the snapshot stops, chunks still to read fall back
// to a snapshot of their own, and the completion gate compares the rows
// they hold with the rows the plan counted: a table that changed fails the
// run with that reason instead of reconciling a mix of states.

// holdPoll is how often a held snapshot runs a statement and checks whether
// its run still stages; maxHold bounds how long one is held.
const (
	holdPoll = 500 * time.Millisecond
	maxHold  = 24 * time.Hour
)

// invalidSnapshot is PostgreSQL's SQLSTATE for SET TRANSACTION SNAPSHOT
// with an identifier no open transaction exports (invalid_parameter_value).
const invalidSnapshot = "22023"

// snapshotID is the shape of pg_export_snapshot()'s identifiers, checked
// before one is written into SQL (SET TRANSACTION SNAPSHOT takes no
// parameters).
var snapshotID = regexp.MustCompile(`^[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+$`)

// planTx is the stage plan's read-only transaction on the source and the
// identifier of its exported snapshot ("" if the source cannot export one).
type planTx struct {
	conn     *pgx.Conn
	tx       pgx.Tx
	snapshot string
}

// beginPlan opens the plan's repeatable-read transaction and exports its
// snapshot. A server that refuses to export one (a standby of an old
// version, a restricted role) still gets a plan: its chunks then read
// snapshots of their own, checked by the gate's row count.
func beginPlan(ctx context.Context, ref source.Ref, log *slog.Logger) (*planTx, error) {
	conn, err := source.Connect(ctx, ref.DSN)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", ref, err)
	}
	p := &planTx{conn: conn}
	if p.tx, err = begin(ctx, conn); err != nil {
		p.release()
		return nil, fmt.Errorf("read %s: %w", ref.Table, err)
	}
	err = p.tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&p.snapshot)
	if err == nil {
		return p, nil
	}
	log.Warn("the source cannot export a snapshot; each chunk reads its own, and the run fails if the table changes while it stages", "table", ref.Table, "error", source.RedactError(err, ref.DSN))
	p.snapshot = ""
	if rerr := p.tx.Rollback(ctx); rerr != nil {
		p.release()
		return nil, rerr
	}
	if p.tx, err = begin(ctx, conn); err != nil {
		p.release()
		return nil, fmt.Errorf("read %s: %w", ref.Table, err)
	}
	return p, nil
}

func begin(ctx context.Context, conn *pgx.Conn) (pgx.Tx, error) {
	return conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
}

// release ends the transaction and closes the connection.
func (p *planTx) release() {
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if p.tx != nil {
		_ = p.tx.Rollback(ctx)
	}
	_ = p.conn.Close(ctx)
}

// hold keeps p open while the run stages: until its exec job is enqueued
// (every chunk read), the run leaves staging, the jobs store cannot be
// asked, p's session ends, or maxHold passes. Then it releases p.
func (s *Stager) hold(p *planTx, runID string, log *slog.Logger) {
	defer p.release()
	deadline := time.Now().Add(maxHold)
	tick := time.NewTicker(holdPoll)
	defer tick.Stop()
	for range tick.C {
		if done, err := s.stillStaging(p, runID); err != nil || done || time.Now().After(deadline) {
			if err != nil {
				log.Warn("releasing the plan's snapshot", "error", err)
			}
			return
		}
	}
}

// stillStaging runs a statement in p, which keeps a server's
// idle_in_transaction_session_timeout from ending it and notices a session
// that is gone, and reports whether the run no longer needs p.
func (s *Stager) stillStaging(p *planTx, runID string) (done bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), holdPoll*4)
	defer cancel()
	if _, err := p.tx.Exec(ctx, "SELECT 1"); err != nil {
		return true, fmt.Errorf("its session ended: %w", err)
	}
	staging, err := s.Store.Staging(ctx, runID)
	if err != nil {
		return true, fmt.Errorf("the run's state cannot be read: %w", err)
	}
	return !staging, nil
}

// beginChunk opens a chunk's read-only transaction in the plan's snapshot.
// When that snapshot is gone, the chunk reads a snapshot of its own (see
// above); any other error is returned.
func beginChunk(ctx context.Context, conn *pgx.Conn, snapshot string, log *slog.Logger) (pgx.Tx, error) {
	if snapshot != "" && !snapshotID.MatchString(snapshot) {
		return nil, queue.Poison(fmt.Errorf("the stage plan's snapshot identifier %q is malformed", snapshot))
	}
	tx, err := begin(ctx, conn)
	if err != nil || snapshot == "" {
		return tx, err
	}
	if _, err = tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+snapshot+"'"); err == nil {
		return tx, nil
	}
	if rerr := tx.Rollback(ctx); rerr != nil {
		return nil, errors.Join(err, rerr)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != invalidSnapshot {
		return nil, err
	}
	log.Warn("the stage plan's snapshot is gone (the stager holding it stopped); this chunk reads its own, and the run fails if the table changed", "snapshot", snapshot)
	return begin(ctx, conn)
}
