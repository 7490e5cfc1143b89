package duckdb_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/reconcile"
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

// postgresDatabase runs setup in a new PostgreSQL database encoding text in
// encoding (ordered by bytes, as testenv's) and returns its URL.
func postgresDatabase(t *testing.T, encoding, setup string) string {
	t.Helper()
	if encoding == "UTF8" {
		url, _ := postgresDB(t, setup)
		return url
	}
	ctx := context.Background()
	base, conn := postgresDB(t, "")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/") + "_" + strings.ToLower(encoding)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s ENCODING '%s' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0", name, encoding)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	// The setup's text is UTF-8, whatever the database's encoding.
	other, err := pgx.Connect(ctx, u.String()+"&client_encoding=UTF8")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	if _, err := other.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// postgresBook runs setup in a new PostgreSQL database, which must create
// public.ledger keyed by code, and reconciles it with the rules given
// against right.csv (the text right, keyed by id).
func postgresBook(t *testing.T, setup, right, rules string) outcome {
	t.Helper()
	url, _ := postgresDB(t, setup)
	return mustRun(t, postgresRecipe(t, url, right, rules))
}

// postgresRecipe writes postgresBook's recipe, reading public.ledger at the
// database URL, and returns its path.
func postgresRecipe(t *testing.T, url, right, rules string) string {
	t.Helper()
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
	return filepath.Join(dir, "recipe.yaml")
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
	url, conn := postgresDB(t, `CREATE TABLE ledger (code text PRIMARY KEY, fee numeric, rate float8, born date);
		INSERT INTO ledger VALUES ('a', 0.12, 0.5, '2024-01-01')`)
	ref, err := source.Parse(url + "&table=public.ledger")
	if err != nil {
		t.Fatal(err)
	}
	s, err := source.PostgresSchema(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := source.CopyCSV(ctx, ref, s.Columns, nil, io.Discard); err != nil {
		t.Fatalf("copy of the table as measured: %v", err)
	}
	// Each change in turn, each leaving a value measure did not see.
	for _, step := range []struct{ change, why string }{
		{"INSERT INTO ledger VALUES ('b', 0.125, 0.5)", "more decimals than the 2"},
		{"UPDATE ledger SET fee = 0.12, rate = 0.25 WHERE code = 'b'", "more decimals than the 1"},
		{"UPDATE ledger SET rate = 0.5, fee = 'NaN' WHERE code = 'b'", "or is NaN or infinite"},
		{"UPDATE ledger SET fee = 0, born = '0044-03-15 BC' WHERE code = 'b'", "column born is before year 1 or infinite"},
	} {
		change, why := step.change, step.why
		if _, err := conn.Exec(ctx, change); err != nil {
			t.Fatal(err)
		}
		_, err = source.CopyCSV(ctx, ref, s.Columns, nil, io.Discard)
		if err == nil || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "the table changed while it was read") {
			t.Errorf("after %s: copy err = %v, want the table changed: %s", change, err, why)
		}
	}
}

// TestPostgresValues reads values as PostgreSQL compares them: a domain as
// its base type, an empty text as a value, a char(n) without its padding;
// and a column holding values no engine type compares as PostgreSQL does is
// text, refused in rules and keys.
func TestPostgresValues(t *testing.T) {
	t.Parallel()
	exact := `  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0}]}
`
	t.Run("domains_are_their_base_types", func(t *testing.T) {
		t.Parallel()
		o := postgresBook(t, `CREATE DOMAIN code_t AS integer; CREATE DOMAIN money_t AS numeric(12,2); CREATE DOMAIN amount_t AS money_t;
			CREATE TABLE ledger (code code_t PRIMARY KEY, ref text, amount amount_t);
			INSERT INTO ledger VALUES (10, 'A', 100.5), (9, 'B', 50), (11, 'C', 7)`,
			"id,ref,amount\n1,A,100.50\n2,B,50.0\n",
			exact)
		if got, want := o.pairs(), []string{"exact: l9 r2", "exact: l10 r1"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v (numbers compared as numbers, keys ordered as numbers)", got, want)
		}
	})
	t.Run("empty_text_is_a_value", func(t *testing.T) {
		t.Parallel()
		o := postgresBook(t, `CREATE TABLE ledger (code text PRIMARY KEY, ref text, amount numeric(12,2));
			INSERT INTO ledger VALUES ('', 'A', 1), ('b', '', 2), ('c', NULL, 3)`,
			"id,ref,amount\n1,A,1\n",
			exact)
		if got, want := o.pairs(), []string{"exact: l r1"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v (an empty key is a key)", got, want)
		}
		reasons := map[string]string{}
		for _, u := range o.unmatchedLeft {
			reasons[u["code"]] = u["kalla_near_reason"]
		}
		if !strings.HasPrefix(reasons["b"], "no bank record has ref equal to its ref") || !strings.HasPrefix(reasons["c"], "its ref is empty") {
			t.Errorf("reasons = %q, want b's empty text told apart from c's NULL", reasons)
		}
	})
	t.Run("char_padding_is_not_data", func(t *testing.T) {
		t.Parallel()
		o := postgresBook(t, `CREATE TABLE ledger (code char(4) PRIMARY KEY, ref char(6), amount numeric(12,2));
			INSERT INTO ledger VALUES ('a', 'A1', 1)`,
			"id,ref,amount\n1,A1,1\n",
			exact)
		if got, want := o.pairs(), []string{"exact: la r1"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("addresses_as_printed", func(t *testing.T) {
		t.Parallel()
		// inet's cast to text adds the mask a single host prints without.
		o := postgresBook(t, `CREATE TABLE ledger (code text PRIMARY KEY, ref inet, amount numeric(12,2), net cidr);
			INSERT INTO ledger VALUES ('a', '10.0.0.2', 1, '10.0.0.0/8'), ('b', '10.0.0.3/24', 2, '192.168.1.0/24')`,
			"id,ref,amount\n1,10.0.0.2,1\n2,10.0.0.3/24,2\n",
			exact)
		if got, want := o.pairs(), []string{"exact: la r1", "exact: lb r2"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("declared_width_beyond_38_is_measured", func(t *testing.T) {
		t.Parallel()
		o := postgresBook(t, `CREATE TABLE ledger (code text PRIMARY KEY, ref text, amount numeric(50,10));
			INSERT INTO ledger VALUES ('a', 'A', 1.5)`,
			"id,ref,amount\n1,A,1.50\n",
			exact)
		if got, want := o.pairs(), []string{"exact: la r1"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	setup := `CREATE TABLE ledger (code text PRIMARY KEY, ref text, amount numeric(12,2), big numeric, rate numeric(5,2), born date, seen timestamptz);
		INSERT INTO ledger VALUES ('a', 'A', 1, 1e-40, 'NaN', '0044-03-15 BC', 'infinity'), ('b', 'B', 2, 1, 1, '2024-01-01', NULL)`
	t.Run("unfit_columns_are_text", func(t *testing.T) {
		t.Parallel()
		o := postgresBook(t, setup, "id,ref,amount\n1,B,2\n", exact)
		if got, want := o.pairs(), []string{"exact: lb r1"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
		if len(o.unmatchedLeft) != 1 {
			t.Fatalf("unmatched left = %v", o.unmatchedLeft)
		}
		u := o.unmatchedLeft[0]
		if u["big"] != "0."+strings.Repeat("0", 39)+"1" || u["rate"] != "NaN" || u["born"] != "0044-03-15 BC" || u["seen"] != "infinity" {
			t.Errorf("unmatched a = %v, want its values as PostgreSQL prints them", u)
		}
	})
	for column, why := range map[string]string{
		"big":  "holds numbers of 41 digits, and Kalla computes with at most 38",
		"rate": "holds NaN, which is no number to compare exactly, in 1 row",
		"born": "holds 0044-03-15 BC, a date before year 1 or an infinite one",
		"seen": "holds infinity, a date before year 1 or an infinite one",
	} {
		t.Run("unfit_"+column+"_is_refused_in_a_rule", func(t *testing.T) {
			t.Parallel()
			url, _ := postgresDB(t, setup)
			rules := `  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}, {left: ` + column + `, op: eq, right: amount}]}
`
			_, err := runRecipe(t, postgresRecipe(t, url, "id,ref,amount\n1,B,2\n", rules))
			want := `column "` + column + `" of ledger cannot be compared or be a key: it ` + why
			wantBadInput(t, err, want)
		})
	}
	// Without a privilege the copy fails, or before it the measuring of a
	// table with numbers or dates.
	for name, tt := range map[string]struct{ columns, want string }{
		"no_privilege_to_copy_is_bad_input":    {"amount text", "source ledger: copy public.ledger"},
		"no_privilege_to_measure_is_bad_input": {"amount numeric", "source ledger: measure the columns of public.ledger"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dbURL, conn := postgresDB(t, `CREATE TABLE ledger (code text PRIMARY KEY, ref text, `+tt.columns+`)`)
			u, err := url.Parse(dbURL)
			if err != nil {
				t.Fatal(err)
			}
			role := "nobody_" + strings.TrimPrefix(u.Path, "/")
			if _, err := conn.Exec(context.Background(), "CREATE ROLE "+role+" LOGIN PASSWORD 'pw'"); err != nil {
				t.Fatal(err)
			}
			u.User = url.UserPassword(role, "pw")
			rules := `  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}]}
`
			_, err = runRecipe(t, postgresRecipe(t, u.String(), "id,ref\n1,A\n", rules))
			if !reconcile.IsBadInput(err) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "permission denied") {
				t.Errorf("err = %v, want bad input: %s ... permission denied", err, tt.want)
			}
		})
	}
	t.Run("a_wide_table_is_measured_in_passes", func(t *testing.T) {
		t.Parallel()
		// 450 dates: more than one query's select list holds.
		days := make([]string, 450)
		for i := range days {
			days[i] = fmt.Sprintf("d%d date DEFAULT '2024-01-01'", i)
		}
		o := postgresBook(t, `CREATE TABLE ledger (code text PRIMARY KEY, ref text, amount numeric(12,2), `+strings.Join(days, ", ")+`);
			INSERT INTO ledger (code, ref, amount) VALUES ('a', 'A', 1)`,
			"id,ref,amount\n1,A,1\n", exact)
		if got, want := o.pairs(), []string{"exact: la r1"}; !slices.Equal(got, want) {
			t.Errorf("matches = %v, want %v", got, want)
		}
	})
	t.Run("unfit_key_is_refused_once", func(t *testing.T) {
		t.Parallel()
		url, _ := postgresDB(t, `CREATE TABLE ledger (code numeric PRIMARY KEY, ref text, amount numeric(12,2)); INSERT INTO ledger VALUES ('NaN', 'A', 1)`)
		_, err := runRecipe(t, postgresRecipe(t, url, "id,ref,amount\n1,A,1\n", exact))
		if !reconcile.IsBadInput(err) || !strings.Contains(err.Error(), `column "code" of ledger cannot be compared or be a key`) || strings.Contains(err.Error(), "needs a primary key") {
			t.Errorf("err = %v, want the unfit key named, and only that", err)
		}
	})
	t.Run("unreachable_server_is_no_bad_input", func(t *testing.T) {
		t.Parallel()
		rules := `  - {name: exact, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}]}
`
		_, err := runRecipe(t, postgresRecipe(t, "postgres://kalla:pw@127.0.0.1:1/none?sslmode=disable", "id,ref\n1,A\n", rules))
		if err == nil || reconcile.IsBadInput(err) || !strings.Contains(err.Error(), "source ledger") {
			t.Errorf("err = %v, want a failure that is not the input's, naming the source", err)
		}
	})
}

// TestPostgresEncoding reads the text of a database that does not encode it
// in UTF-8 as the characters it holds: the server converts it.
func TestPostgresEncoding(t *testing.T) {
	t.Parallel()
	url := postgresDatabase(t, "LATIN1", `CREATE TABLE ledger (code text PRIMARY KEY, name text);
		INSERT INTO ledger VALUES ('a1', 'Müller'), ('a2', 'Ørsted')`)
	o := mustRun(t, postgresRecipe(t, url, "id,name\n1,Müller\n2,Orsted\n",
		`  - {name: by_name, pattern: "1:1", conditions: [{left: name, op: eq, right: name}]}
`))
	if got, want := o.pairs(), []string{"by_name: la1 r1"}; !slices.Equal(got, want) {
		t.Errorf("matches = %v, want %v", got, want)
	}
	if got := keys(o.unmatchedLeft, "name"); !slices.Equal(got, []string{"Ørsted"}) {
		t.Errorf("unmatched left names = %v, want Ørsted as the database holds it", got)
	}
}

// TestPostgresURIParameters passes the URI's parameters to the server as
// they are written (a space in options too), and a statement the server
// cancels is the server's fault, not the input's: running again may work.
func TestPostgresURIParameters(t *testing.T) {
	t.Parallel()
	url, _ := postgresDB(t, `CREATE TABLE book (code text PRIMARY KEY, amount numeric(12,2));
		INSERT INTO book VALUES ('a', 1.00), ('b', 2.00);
		CREATE VIEW ledger AS SELECT * FROM book;
		CREATE VIEW slow AS SELECT * FROM book WHERE pg_sleep(0.5) IS NOT NULL`)
	rules := `  - {name: exact, pattern: "1:1", conditions: [{left: code, op: eq, right: id}]}
`
	o, err := runRecipe(t, postgresRecipe(t, url+"&options=-c%20statement_timeout%3D60000&application_name=kalla%20test", "id\na\n", rules))
	if err != nil || !slices.Equal(o.pairs(), []string{"exact: la ra"}) {
		t.Fatalf("with options: matches %v, err %v", o.pairs(), err)
	}
	path := postgresRecipe(t, url+"&options=-c%20statement_timeout%3D100", "id\na\n", rules)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(text), "table=public.ledger", "table=public.slow", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runRecipe(t, path)
	if err == nil || reconcile.IsBadInput(err) || !strings.Contains(err.Error(), "statement timeout") {
		t.Errorf("err = %v, want the server's statement timeout, not bad input", err)
	}
}
