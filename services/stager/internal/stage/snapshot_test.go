package stage_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/services/stager/internal/stagetest"
)

// TestStageReadsThePlansSnapshot writes to the source after the first half
// of its chunks (in block order) are read: updates that move rows of the
// first block to new pages at the end, and deletes of the last rows. Chunks that import the plan's snapshot hold the table
// as the plan counted it. When that snapshot is lost (its holder's session
// ends), the chunks read their own: the run goes on if the table did not
// change, and fails with the reason if it did, rather than reconcile rows
// read twice or never.
func TestStageReadsThePlansSnapshot(t *testing.T) {
	const n = 5000
	for _, tc := range []struct {
		name                     string
		lose, write, idleTimeout bool
		fails                    bool
	}{
		{name: "writes_while_held", write: true},
		// A server that ends sessions idle in a transaction after 1 s.
		{name: "writes_while_held_past_idle_timeout", write: true, idleTimeout: true},
		{name: "lost_without_writes", lose: true},
		{name: "lost_with_writes", lose: true, write: true, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srcURI, db := stagetest.Source(t, n)
			e := newEnv(t, 500)
			want := sortedStrings(t, db, "SELECT id || ':' || amount FROM invoices")
			if tc.idleTimeout {
				stagetest.Exec(t, db, "ALTER ROLE CURRENT_USER IN DATABASE "+must(url.Parse(db)).Path[1:]+" SET idle_in_transaction_session_timeout = '1s'")
			}
			runID, _ := stagetest.CreateRun(t, e.store, stagetest.Recipe(t, srcURI))
			chunks := e.plan(t, runID)
			if len(chunks) < 4 {
				t.Fatalf("%d chunks, want several", len(chunks))
			}
			if held := holders(t, db, tc.lose); held != 1 {
				t.Fatalf("%d sessions hold a snapshot of the source, want the plan's", held)
			}
			if tc.idleTimeout {
				time.Sleep(2500 * time.Millisecond)
			}
			for i, c := range chunks {
				if i == len(chunks)/2 && tc.write {
					stagetest.Exec(t, db, `UPDATE invoices SET amount = amount + 1 WHERE id <= 200`)
					stagetest.Exec(t, db, fmt.Sprintf(`DELETE FROM invoices WHERE id > %d`, n-100))
				}
				if err := e.stager.Handle(ctx, jobOf(c), c); err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
			}
			run, err := e.store.GetRun(ctx, runID)
			if err != nil {
				t.Fatal(err)
			}
			if tc.fails {
				if run.Status != jobs.RunFailed || run.ExecEnqueued || !strings.HasPrefix(run.Error, "the left source changed while it was staged: its stage plan counted 5000 rows") {
					t.Fatalf("run %s (%q), exec enqueued %v; want failed: the source changed", run.Status, run.Error, run.ExecEnqueued)
				}
				return
			}
			if !run.ExecEnqueued || run.Status == jobs.RunFailed {
				t.Fatalf("run %s (%q), exec enqueued %v; want the gate open", run.Status, run.Error, run.ExecEnqueued)
			}
			if got := stagedRows(t, e.staging, runID); !slices.Equal(got, want) {
				t.Errorf("the parts hold %d rows, want the %d the plan counted, as they were then", len(got), len(want))
			}
			// The gate is open: the plan's transaction ends.
			for deadline := time.Now().Add(5 * time.Second); holders(t, db, false) > 0; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the plan's transaction is still open after every chunk was staged")
				}
			}
		})
	}
}

// holders counts the sessions idle in a transaction on db (the plan's
// snapshot holder), terminating them if terminate is set.
func holders(t *testing.T, db string, terminate bool) int {
	t.Helper()
	q := "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
	if terminate {
		// With a timeout it waits until each has ended: without one it
		// returns once signalled, and a chunk could still import the
		// snapshot of a holder not yet gone (a flake on a loaded machine).
		q = "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
	}
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// stagedRows lists the rows of the run's left parts as "id:amount", sorted.
func stagedRows(t *testing.T, staging objstore.Store, runID string) []string {
	t.Helper()
	var out []string
	eachStagedRow(t, staging, runID, func(rec arrow.RecordBatch, i int) {
		id, amount := rec.Column(0).(*array.Int64).Value(i), rec.Column(1).(*array.Decimal128).Value(i)
		out = append(out, fmt.Sprintf("%d:%s", id, amount.ToString(2)))
	})
	slices.Sort(out)
	return out
}
