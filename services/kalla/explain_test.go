package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/testenv"
)

func TestExplain(t *testing.T) {
	t.Parallel()
	t.Run("says_what_a_run_would_do", func(t *testing.T) {
		t.Parallel()
		r := kalla(t, "explain", "--recipe", copyExample(t, "bank", "payments.csv", "statement.csv"))
		if r.code != exitOK || r.stderr != "" {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		containsAll(t, "stdout", r.stdout,
			"recipe bank-statement: its fields fit its sources' columns and types",
			"  columns: txn_id text, date date, memo text, paid_in decimal(4,2), paid_out decimal(6,2)\n",
			`  derived: ref (taken from memo by "(?i)INV-[0-9]+") text, amount (paid_in - paid_out) decimal(7,2)`+"\n",
			"  totals: amount\n",
			"  1. by_reference (1:1): invoice eq_ci ref; -payments.amount tolerance bank.amount 0.01; paid_on date_within date 3\n",
			"  2. by_amount (1:1): -payments.amount eq bank.amount; paid_on date_within date 2\n",
		)
		if strings.Contains(r.stdout, "CREATE") {
			t.Errorf("SQL without --sql:\n%s", r.stdout)
		}
	})
	t.Run("filters_and_why_a_column_is_text", func(t *testing.T) {
		t.Parallel()
		recipe := example(t)
		replaceInFile(t, recipe, `"primary_key": ["invoice_id"],`,
			`"primary_key": ["invoice_id"], "filter": [{"column": "status", "op": "ne", "value": "void"}, {"column": "due_date", "op": "gte", "value": "2024-02-01"}],`)
		// A status of N/A in a column of numbers: text, and why.
		replaceInFile(t, filepath.Join(filepath.Dir(recipe), "invoices.csv"), ",pending,", ",1,",
			"INV-2024-002,CUST-002,TechStart Inc,2024-01-18,2024-02-18,7500.50,USD,1,", "INV-2024-002,CUST-002,TechStart Inc,2024-01-18,2024-02-18,7500.50,USD,N/A,")
		r := kalla(t, "explain", "--recipe", recipe, "--sql")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		containsAll(t, "stdout", r.stdout,
			`status text (because of "N/A")`,
			`  kept: the records where status ne "void" and due_date gte 2024-02-01`+"\n",
			"  totals: amount by currency\n",
			"2. split_payments (1:N): customer_id eq payer_id; invoices.currency eq payments.currency; due_date date_within payment_date 30; aggregate amount and the sum of paid_amount within 0.02\n",
			"-- Kalla plan for recipe invoice-payment-match",
			"-- the records the filter left out",
			"-- total of invoices.amount",
		)
	})
	t.Run("files_a_pattern_names", func(t *testing.T) {
		t.Parallel()
		r := kalla(t, "explain", "--recipe", splitInvoices(t, example(t)), "--sql")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		containsAll(t, "stdout", r.stdout,
			"invoices-*.csv\n  files, read in this order: invoices-01.csv (7 rows), invoices-02.csv (8 rows)\n  key: invoice_id\n",
			"amount decimal(8,2)",
			"invoices-01.csv', header = true, auto_detect = false, delim = ','",
			"UNION ALL SELECT",
			"invoices-02.csv', header = true, auto_detect = false, delim = ';'",
		)
	})
	t.Run("lines_skipped", func(t *testing.T) {
		t.Parallel()
		recipe := example(t)
		replaceInFile(t, recipe, `"primary_key": ["invoice_id"],`, `"primary_key": ["invoice_id"], "skip_lines": 2,`)
		invoices := filepath.Join(filepath.Dir(recipe), "invoices.csv")
		os.WriteFile(invoices, append([]byte("Invoices \"2024\n\n"), readFile(t, invoices)...), 0o644)
		r := kalla(t, "explain", "--recipe", recipe, "--sql")
		for _, want := range []string{"invoices.csv\n  skips: the first 2 lines of each file, before its header\n  key: invoice_id\n", "invoices.csv rewritten from its header on"} {
			if r.code != exitOK || !strings.Contains(r.stdout, want) {
				t.Errorf("exit %d, stdout lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
			}
		}
	})
	t.Run("no_header_row", func(t *testing.T) {
		t.Parallel()
		recipe := withoutHeader(t, example(t))
		replaceInFile(t, recipe, `"columns": [`, `"separator": ",", "encoding": "latin1", "columns": [`)
		r := kalla(t, "explain", "--recipe", recipe, "--sql")
		for _, want := range []string{"invoices.csv\n  header: none; every line is a record, of the columns the recipe names\n  encoding: latin1, read as UTF-8\n  separator: ',', as the recipe sets\n  key: invoice_id\n",
			"amount decimal(8,2)", "invoices.csv rewritten from its first record on, its lines ending in \\n alone, in UTF-8>', header = false, auto_detect = false"} {
			if r.code != exitOK || !strings.Contains(r.stdout, want) {
				t.Errorf("exit %d, stdout lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
			}
		}
	})
	t.Run("workbook", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Dir(copyExample(t, "bank", "recipe-workbook.json", "payments.csv", "statement.xlsx"))
		r := kalla(t, "explain", "--recipe", filepath.Join(dir, "recipe-workbook.json"), "--sql")
		for _, want := range []string{"statement.xlsx\n  sheet: \"Transactions\", its cells' values (whole numbers as saved, others to 15 digits; dates and times by their format), written as CSV for the engine\n  skips: the first 3 rows of each file, before its header\n",
			"date date, memo text, paid_in decimal(4,2)", `statement.xlsx sheet "Transactions" written as CSV from its header on>', header = true`} {
			if r.code != exitOK || !strings.Contains(r.stdout, want) {
				t.Errorf("exit %d, stdout lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
			}
		}
	})
	t.Run("bad_input_exits_two", func(t *testing.T) {
		t.Parallel()
		recipe := example(t)
		replaceInFile(t, recipe, `"right": "reference_number"`, `"right": "payment_ref"`)
		r := kalla(t, "explain", "--recipe", recipe)
		if want := `column "payment_ref" is not in payments`; r.code != exitBadInput || r.stdout != "" || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing and %q", r.code, r.stdout, r.stderr, want)
		}
		r = kalla(t, "explain")
		if r.code != exitBadInput || !strings.Contains(r.stderr, "--recipe is required") {
			t.Errorf("without --recipe: exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("never_shows_a_password_and_names_what_the_database_checks", func(t *testing.T) {
		t.Parallel()
		db := testenv.Postgres(t)
		conn, err := pgx.Connect(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "CREATE TABLE ledger (code text PRIMARY KEY, amount numeric(12,2))"); err != nil {
			t.Fatal(err)
		}
		// The test server trusts loopback: the password is read, not needed.
		u, err := url.Parse(db)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), "hunter2")
		dir := t.TempDir()
		recipe := filepath.Join(dir, "recipe.yaml")
		os.WriteFile(filepath.Join(dir, "bank.csv"), []byte("id,amount\n1,5.00\n"), 0o644)
		os.WriteFile(recipe, []byte(`recipe_id: pg
sources:
  left: {alias: ledger, uri: "`+u.String()+`&table=public.ledger", primary_key: [code],
    extract: {n: {from: code, pattern: "[0-9]+"}},
    filter: [{column: amount, op: gte, value: 10}, {column: code, op: ne, value: "x"}, {column: n, op: not_empty}]}
  right: {alias: bank, uri: "file://bank.csv", primary_key: [id]}
match_rules:
  - {name: exact, pattern: "1:1", conditions: [{left: amount, op: eq, right: amount}]}
`), 0o644)
		r := kalla(t, "explain", "--recipe", recipe, "--sql")
		if r.code != exitOK || !strings.Contains(r.stdout, "columns: code text, amount decimal(12,2)") {
			t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		// The extract's condition is the engine's alone.
		containsAll(t, "stdout", r.stdout,
			`  checked by PostgreSQL before it sends the rows: amount gte 10 and code ne "x" (those on text when it encodes text in UTF-8, as by default)`+"\n",
			`-- PostgreSQL copies only the rows where (("amount") >= E'10'::numeric) AND (("code"::text)::text COLLATE "C" IS NULL OR NOT (("code"::text)::text COLLATE "C" IN (E'x')))`+"\n",
		)
		if strings.Contains(r.stdout+r.stderr, "hunter2") {
			t.Errorf("the password shows:\n%s", r.stdout)
		}
	})
}
