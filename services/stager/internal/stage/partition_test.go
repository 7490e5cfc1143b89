package stage_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/services/stager/internal/stagetest"
)

// TestStagePartitionedTable stages a partitioned table (one leaf itself
// partitioned, one empty, the primary key composite as partitioning
// demands) from its leaves' pages: every row lands in exactly one part,
// each chunk names its leaf and the empty leaf gets none. When row-level
// security is on, or this role may read the parent but not its leaves, the
// table is cut by its key instead, and still staged whole.
func TestStagePartitionedTable(t *testing.T) {
	_, db := stagetest.Source(t, 3000)
	stagetest.Exec(t, db, `CREATE TABLE ledger (LIKE invoices, PRIMARY KEY (id, due)) PARTITION BY RANGE (due)`)
	stagetest.Exec(t, db, `CREATE TABLE ledger_2024h1 PARTITION OF ledger FOR VALUES FROM ('2024-01-01') TO ('2024-07-01')`)
	stagetest.Exec(t, db, `CREATE TABLE ledger_2024h2 PARTITION OF ledger FOR VALUES FROM ('2024-07-01') TO ('2025-01-01') PARTITION BY RANGE (id)`)
	stagetest.Exec(t, db, `CREATE TABLE ledger_2024h2_a PARTITION OF ledger_2024h2 FOR VALUES FROM (MINVALUE) TO (1500)`)
	stagetest.Exec(t, db, `CREATE TABLE ledger_2024h2_b PARTITION OF ledger_2024h2 FOR VALUES FROM (1500) TO (MAXVALUE)`)
	stagetest.Exec(t, db, `CREATE TABLE ledger_2025 PARTITION OF ledger FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`)
	stagetest.Exec(t, db, `CREATE TABLE ledger_2030 PARTITION OF ledger FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')`)
	stagetest.Exec(t, db, `INSERT INTO ledger SELECT * FROM invoices`)
	role := "reader_" + strings.TrimPrefix(must(url.Parse(db)).Path, "/")
	stagetest.Exec(t, db, `CREATE ROLE `+role+` LOGIN PASSWORD 'reader-pw'`)
	stagetest.Exec(t, db, `GRANT SELECT ON ledger TO `+role)
	t.Cleanup(func() {
		stagetest.Exec(t, db, `DROP OWNED BY `+role)
		stagetest.Exec(t, db, `DROP ROLE `+role)
	})
	reader := must(url.Parse(db))
	reader.User = url.UserPassword(role, "reader-pw")
	leaves := []string{"public.ledger_2024h1", "public.ledger_2024h2_a", "public.ledger_2024h2_b", "public.ledger_2025"}

	e := newEnv(t, 300)
	for _, tc := range []struct {
		name, db, setup, undo string
		byLeaf                bool
	}{
		{name: "by_leaf", db: db, byLeaf: true},
		{name: "row_level_security_by_key", db: db, setup: `ALTER TABLE ledger ENABLE ROW LEVEL SECURITY`, undo: `ALTER TABLE ledger DISABLE ROW LEVEL SECURITY`},
		{name: "leaves_not_readable_by_key", db: reader.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != "" {
				stagetest.Exec(t, db, tc.setup)
				defer stagetest.Exec(t, db, tc.undo)
			}
			runID, _ := stagetest.CreateRun(t, e.store, stagetest.Recipe(t, tc.db+"&table=public.ledger"))
			chunks := e.plan(t, runID)
			var tables []string
			for _, c := range chunks {
				if b := c.GetStageChunk().GetBlocks(); b != nil {
					tables = append(tables, b.GetTable())
				}
			}
			if tc.byLeaf {
				if len(tables) != len(chunks) || !slices.Equal(slices.Compact(tables), leaves) || len(chunks) > 10 {
					t.Errorf("chunks of %v, want at most 10 block ranges of the non-empty leaves %v", tables, leaves)
				}
			} else if len(tables) > 0 || len(chunks) < 2 {
				t.Errorf("%d chunks, %d of them block ranges; want several key ranges", len(chunks), len(tables))
			}
			for i, c := range chunks {
				if err := e.stager.Handle(context.Background(), jobOf(c), c); err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
			}
			got, nulls := stagedKeys(t, e.staging, runID, 1)
			if want := viewKeys(t, db, "ledger", []string{"id"}); nulls != 0 || !slices.Equal(got, want) {
				t.Errorf("parts hold %d keys (%d NULL), want the table's %d", len(got), nulls, len(want))
			}
			if run, _ := e.store.GetRun(context.Background(), runID); !run.ExecEnqueued || run.RowsStaged != 3000 {
				t.Errorf("run %s (%s): exec enqueued %v, %d rows staged; want true, 3000", run.Status, run.Error, run.ExecEnqueued, run.RowsStaged)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
