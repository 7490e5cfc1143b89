package duckdb_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// postgresDB runs setup in a new PostgreSQL database and returns its URL
// and a connection to it, closed when the test ends.
func postgresDB(t *testing.T, setup string) (string, *pgx.Conn) {
	t.Helper()
	url := testenv.Postgres(t)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(context.Background(), setup); err != nil {
		t.Fatal(err)
	}
	return url, conn
}

// postgresBook runs setup in a new PostgreSQL database, which must create
// public.ledger keyed by code, and reconciles it with the rules given
// against right.csv (the text right, keyed by id).
func postgresBook(t *testing.T, setup, right, rules string) outcome {
	t.Helper()
	url, _ := postgresDB(t, setup)
	dir := t.TempDir()
	recipeText := `
recipe_id: pg
sources:
  left: {alias: ledger, uri: "` + url + `&table=public.ledger", primary_key: [code]}
  right: {alias: bank, uri: "file://right.csv", primary_key: [id]}
match_rules:
` + rules
	for name, text := range map[string]string{"right.csv": right, "recipe.yaml": recipeText} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o, err := runRecipe(t, filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPostgresSource(t *testing.T) {
	t.Parallel()
	o := postgresBook(t, `CREATE TABLE ledger (code text PRIMARY KEY, ref text, amount numeric(12,2), fee numeric, booked date, at timestamptz, ok bool);
		INSERT INTO ledger VALUES ('007', 'A', 10.50, 0.125, '2024-01-02', '2024-01-02 10:00:00+00', true),
		                          ('008', 'B', 20.00, 1, '2024-01-03', NULL, false),
		                          ('009', 'C', NULL, NULL, NULL, NULL, NULL)`,
		"id,ref,amount\n1,A,10.5\n2,B,19.99\n3,C,1\n",
		`  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0}]}
`)
	// Text keys keep their leading zeros: the database's types are used,
	// not guessed from the text.
	if got, want := o.pairs(), []string{"exact: l007 r1"}; !slices.Equal(got, want) {
		t.Errorf("matches = %v, want %v", got, want)
	}
	if got := keys(o.unmatchedLeft, "code"); !slices.Equal(got, []string{"008", "009"}) {
		t.Errorf("unmatched left = %v", got)
	}
	if got := o.unmatchedLeft[0]; got["fee"] != "1.000" || got["booked"] != "2024-01-03" || got["ok"] != "false" {
		t.Errorf("values of 008 = %v (undeclared numeric keeps the largest scale, dates ISO)", got)
	}
	if reason := o.unmatchedLeft[0]["kalla_near_reason"]; !strings.Contains(reason, "ledger.amount differs from bank.amount by 0.01") {
		t.Errorf("near miss = %q", reason)
	}
}

// TestPostgresFloats reads float columns as the exact decimals their values
// print as, the shortest text, even where the database asks for 15 digits.
func TestPostgresFloats(t *testing.T) {
	t.Parallel()
	o := postgresBook(t, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET extra_float_digits = 0', current_database()); END $$;
		CREATE TABLE ledger (code text PRIMARY KEY, ref text, amount float8);
		INSERT INTO ledger VALUES ('a', 'A', 1.1), ('b', 'B', 0.1::float8 + 0.2::float8), ('c', 'C', 2.675)`,
		"id,ref,amount\n1,A,1.08\n2,B,0.3\n3,C,2.655\n",
		`  - {name: near, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.02}]}
`)
	// As printed, each pair is 0.02 apart at most; as binary floats 2.675
	// - 2.655 is more.
	if got, want := o.pairs(), []string{"near: la r1", "near: lb r2", "near: lc r3"}; !slices.Equal(got, want) {
		t.Errorf("matches = %v, want %v", got, want)
	}
	deltas := map[string]string{}
	for _, m := range o.matched {
		deltas[m["key"]] = m["deltas"]
	}
	if deltas["b"] != "ledger.amount-bank.amount: 0.00000000000000004" {
		t.Errorf("deltas of b = %q, want the 17 digits 0.1 + 0.2 prints with", deltas["b"])
	}
}

// TestPostgresChangedWhileRead: a value with more decimals than the schema
// measured, written before the copy, fails the copy with a sentence; the
// engine's reader would round it to the measured scale.
func TestPostgresChangedWhileRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, conn := postgresDB(t, `CREATE TABLE ledger (code text PRIMARY KEY, fee numeric, rate float8);
		INSERT INTO ledger VALUES ('a', 0.12, 0.5)`)
	ref, err := source.Parse(url + "&table=public.ledger")
	if err != nil {
		t.Fatal(err)
	}
	s, err := source.PostgresSchema(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := source.CopyCSV(ctx, ref, s.Columns, io.Discard); err != nil {
		t.Fatalf("copy of the table as measured: %v", err)
	}
	for _, insert := range []string{"INSERT INTO ledger VALUES ('b', 0.125, 0.5)", "UPDATE ledger SET fee = 0.12, rate = 0.25 WHERE code = 'b'"} {
		if _, err := conn.Exec(ctx, insert); err != nil {
			t.Fatal(err)
		}
		_, err = source.CopyCSV(ctx, ref, s.Columns, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "more decimals than the") || !strings.Contains(err.Error(), "the table changed while it was read") {
			t.Errorf("after %s: copy err = %v, want the table changed", insert, err)
		}
	}
}
