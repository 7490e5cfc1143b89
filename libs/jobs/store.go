package jobs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// Store is Kalla's PostgreSQL state. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool

	// OutboxLease is how long an entry returned by PendingOutbox is hidden
	// from other publishers; unpublished after that, it is handed out again.
	OutboxLease time.Duration
	// RetryDelay is how long Fail (not final) waits before the job's next
	// attempt is published.
	RetryDelay time.Duration
}

// New returns a Store on pool with a 30 s outbox lease and a 10 s retry
// delay. Call Migrate first.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, OutboxLease: 30 * time.Second, RetryDelay: 10 * time.Second}
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// NewID returns a random (version 4) UUID.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// validID reports whether id is a UUID in its usual text form, so a bad id
// from a client reads as ErrNotFound instead of a PostgreSQL error.
func validID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, c := range id {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return false
		}
	}
	return true
}

// stamp sets the envelope's ids and attempt, so the message always agrees
// with the job row.
func stamp(payload []byte, jobID, runID string, attempt int) ([]byte, error) {
	var env kallav1.JobEnvelope
	if err := proto.Unmarshal(payload, &env); err != nil {
		return nil, fmt.Errorf("job %s: payload is not a kalla.v1.JobEnvelope: %w", jobID, err)
	}
	env.JobId, env.RunId, env.Attempt = jobID, runID, int32(attempt)
	b, err := proto.Marshal(&env)
	if err != nil {
		return nil, fmt.Errorf("job %s: marshal envelope: %w", jobID, err)
	}
	return b, nil
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// notFound turns pgx.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
