package jobs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// PendingOutbox leases up to limit unpublished entries, oldest first, for
// s.OutboxLease. Concurrent callers never get the same entry; an entry not
// marked published before its lease ends is handed out again, so a crashed
// publish is retried (JetStream drops the duplicate by its msg id).
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]OutboxEntry, error) {
	rows, err := s.pool.Query(ctx, `UPDATE outbox SET claimed_until = now() + make_interval(secs => $2)
		WHERE id IN (
			SELECT id FROM outbox
			WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= now())
			ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING id, job_id, subject, msg_id, payload, created_at`, limit, s.OutboxLease.Seconds())
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByPos[OutboxEntry])
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	slices.SortFunc(entries, func(a, b OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
	return entries, nil
}

// MarkPublished records that the entries were published.
func (s *Store) MarkPublished(ctx context.Context, ids []int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE outbox SET published_at = now()
		WHERE id = ANY($1) AND published_at IS NULL`, ids)
	if err != nil {
		return fmt.Errorf("mark outbox entries %v published: %w", ids, err)
	}
	return nil
}

// DeletePublished removes entries published before before and returns how
// many it removed.
func (s *Store) DeletePublished(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM outbox WHERE published_at < $1", before)
	if err != nil {
		return 0, fmt.Errorf("delete published outbox entries: %w", err)
	}
	return tag.RowsAffected(), nil
}
