// Package stagetest builds the fixtures of the stager's tests: a source
// table in PostgreSQL, Kalla's state database, and a run with one stage
// plan job.
package stagetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/testenv"
)

// Known values of the row with id 1.
const (
	Amount1 = "1234.56"
	Due1    = "2024-02-29"
)

// Exec runs SQL on the database at url.
func Exec(t testing.TB, url string, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Source creates public.invoices (id int, amount numeric(12,2), memo text,
// due date, qty int) with n rows in a fresh database and returns the source
// URI of the table and the database URL.
func Source(t testing.TB, n int) (sourceURI, dbURL string) {
	t.Helper()
	dbURL = testenv.Postgres(t)
	Exec(t, dbURL, `CREATE TABLE invoices (id int PRIMARY KEY, amount numeric(12,2), memo text, due date, qty int)`)
	Exec(t, dbURL, `INSERT INTO invoices
		SELECT g,
			CASE WHEN g = 1 THEN `+Amount1+` ELSE ((g * 7919) % 10000000) / 100.0 END,
			CASE WHEN g % 97 = 0 THEN NULL ELSE 'invoice ' || g || ' for customer ' || (g % 311) END,
			CASE WHEN g = 1 THEN DATE '`+Due1+`' ELSE DATE '2024-01-01' + (g % 400) END,
			g % 13 - 6
		FROM generate_series(1, $1::int) g`, n)
	Exec(t, dbURL, "ANALYZE invoices")
	return dbURL + "&table=public.invoices", dbURL
}

// State returns a migrated, empty Kalla state database.
func State(t testing.TB) (*jobs.Store, *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := jobs.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return jobs.New(pool), pool
}

// Recipe has the PostgreSQL source leftURI on the left and a small CSV
// file on the right.
func Recipe(t testing.TB, leftURI string) *kallav1.Recipe {
	t.Helper()
	csv := filepath.Join(t.TempDir(), "bank.csv")
	if err := os.WriteFile(csv, []byte("id,amount\n1,1234.56\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &kallav1.Recipe{
		RecipeId: "stager-test",
		Version:  "1",
		Sources: &kallav1.Sources{
			Left:  &kallav1.Source{Alias: "ledger", Uri: leftURI, PrimaryKey: []string{"id"}},
			Right: &kallav1.Source{Alias: "bank", Uri: "file://" + csv},
		},
	}
}

// CreateRun records a run of recipe with one stage plan job for its left
// side and returns the run and job ids.
func CreateRun(t testing.TB, store *jobs.Store, recipe *kallav1.Recipe) (runID, planJobID string) {
	t.Helper()
	ctx := context.Background()
	plan, err := pipeline.NewJob(ctx, jobs.TypeStagePlan, &kallav1.JobEnvelope{Job: &kallav1.JobEnvelope_StagePlan{
		StagePlan: &kallav1.StagePlan{Side: kallav1.Side_SIDE_LEFT, Alias: recipe.GetSources().GetLeft().GetAlias()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(recipe)
	if err != nil {
		t.Fatal(err)
	}
	runID, err = store.CreateRun(ctx, jobs.NewRun{RecipeID: recipe.GetRecipeId(), Recipe: b, Jobs: []jobs.NewJob{plan}})
	if err != nil {
		t.Fatal(err)
	}
	return runID, plan.ID
}
