// Command floor computes, with one hand-written DuckDB query, the result of
// the benchmark recipe's exact rule: invoices and payments paired 1:1 on
// invoice_id = reference_number with the amounts within 2%. It is the floor
// Kalla's run is measured against: the same engine, the same files, nothing
// but the answer.
//
//	floor --invoices DIR/invoices.csv --payments DIR/payments.csv
//
// It prints {"pairs": N, "seconds": S}, S being the wall time from opening
// DuckDB to the answer.
//
// With --evidence DIR it also writes the answer, as a hand-written script
// that delivers a reconciliation would: DIR/matched.parquet (one row per
// pair: both keys and the difference), DIR/unmatched_invoices.parquet and
// DIR/unmatched_payments.parquet (the full rows in no pair), each in key
// order. It reads each file once into a table for that. Kalla writes more
// (a row per member, deltas as text, near misses), so this is a floor too.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// The columns of the generated files, typed as they are meant.
var (
	invoiceColumns = [][2]string{
		{"invoice_id", "VARCHAR"}, {"customer_id", "VARCHAR"}, {"invoice_date", "DATE"},
		{"due_date", "DATE"}, {"amount", "DECIMAL(18,2)"}, {"currency", "VARCHAR"},
		{"description", "VARCHAR"},
	}
	paymentColumns = [][2]string{
		{"payment_id", "VARCHAR"}, {"payer_id", "VARCHAR"}, {"payment_date", "DATE"},
		{"paid_amount", "DECIMAL(18,2)"}, {"currency", "VARCHAR"},
		{"reference_number", "VARCHAR"}, {"bank_reference", "VARCHAR"},
	}
)

// query is the exact rule by hand. Candidates share the reference and are
// within 2% of the invoice amount; a pair is kept when each record is the
// other's first choice (smallest difference, then the other's key). For a
// book where every record has at most one candidate, as the generated one,
// that is the whole greedy 1:1 matching.
const query = `
WITH inv AS (SELECT invoice_id, amount FROM %s),
pay AS (SELECT payment_id, reference_number, paid_amount FROM %s),
candidates AS (
    SELECT i.invoice_id, p.payment_id, abs(i.amount - p.paid_amount) AS diff
    FROM inv i JOIN pay p ON i.invoice_id = p.reference_number
    WHERE abs(i.amount - p.paid_amount) * 100 <= 2 * abs(i.amount)
),
ranked AS (
    SELECT row_number() OVER (PARTITION BY invoice_id ORDER BY diff, payment_id) AS invoice_rank,
           row_number() OVER (PARTITION BY payment_id ORDER BY diff, invoice_id) AS payment_rank
    FROM candidates
)
SELECT count(*) FROM ranked WHERE invoice_rank = 1 AND payment_rank = 1`

// evidenceScript is the same rule over whole tables, writing its answer;
// {invoices} and {payments} stand for the scans, the other {names} for
// the files written. The rule is written out again rather than shared
// with query: built from one fragment, the count-only floor, the issue's
// baseline, measured slower.
var evidenceScript = []string{
	`CREATE TEMP TABLE inv AS SELECT * FROM {invoices}`,
	`CREATE TEMP TABLE pay AS SELECT * FROM {payments}`,
	`CREATE TEMP TABLE pairs AS
    WITH candidates AS (
        SELECT i.invoice_id, p.payment_id, abs(i.amount - p.paid_amount) AS diff
        FROM inv i JOIN pay p ON i.invoice_id = p.reference_number
        WHERE abs(i.amount - p.paid_amount) * 100 <= 2 * abs(i.amount)
    )
    SELECT invoice_id, payment_id, diff FROM candidates
    QUALIFY row_number() OVER (PARTITION BY invoice_id ORDER BY diff, payment_id) = 1
        AND row_number() OVER (PARTITION BY payment_id ORDER BY diff, invoice_id) = 1`,
	`COPY (SELECT * FROM pairs ORDER BY invoice_id) TO {matched} (FORMAT parquet, COMPRESSION zstd)`,
	`COPY (SELECT * FROM inv WHERE invoice_id NOT IN (SELECT invoice_id FROM pairs) ORDER BY invoice_id)
    TO {unmatched_invoices} (FORMAT parquet, COMPRESSION zstd)`,
	`COPY (SELECT * FROM pay WHERE payment_id NOT IN (SELECT payment_id FROM pairs) ORDER BY payment_id)
    TO {unmatched_payments} (FORMAT parquet, COMPRESSION zstd)`,
}

func main() {
	invoices := flag.String("invoices", "", "invoices file, .csv or .parquet (required)")
	payments := flag.String("payments", "", "payments file, .csv or .parquet (required)")
	threads := flag.Int("threads", 0, "DuckDB threads (default: one per core)")
	evidence := flag.String("evidence", "", "also write the answer as Parquet files into this directory")
	flag.Parse()
	if *invoices == "" || *payments == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: floor --invoices FILE --payments FILE [--threads N] [--evidence DIR]")
		os.Exit(2)
	}
	pairs, seconds, err := run(*invoices, *payments, *threads, *evidence)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(struct {
		Pairs   int64   `json:"pairs"`
		Seconds float64 `json:"seconds"`
	}{pairs, seconds})
	fmt.Println(string(out))
}

func run(invoices, payments string, threads int, evidence string) (int64, float64, error) {
	inv, err := scan(invoices, invoiceColumns)
	if err != nil {
		return 0, 0, err
	}
	pay, err := scan(payments, paymentColumns)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	if threads > 0 {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET threads = %d", threads)); err != nil {
			return 0, 0, err
		}
	}
	q := fmt.Sprintf(query, inv, pay)
	if evidence != "" {
		if err := os.MkdirAll(evidence, 0o755); err != nil {
			return 0, 0, err
		}
		fill := strings.NewReplacer("{invoices}", inv, "{payments}", pay,
			"{matched}", quote(filepath.Join(evidence, "matched.parquet")),
			"{unmatched_invoices}", quote(filepath.Join(evidence, "unmatched_invoices.parquet")),
			"{unmatched_payments}", quote(filepath.Join(evidence, "unmatched_payments.parquet")))
		for _, stmt := range evidenceScript {
			if _, err := conn.ExecContext(ctx, fill.Replace(stmt)); err != nil {
				return 0, 0, err
			}
		}
		q = "SELECT count(*) FROM pairs"
	}
	var pairs int64
	if err := conn.QueryRowContext(ctx, q).Scan(&pairs); err != nil {
		return 0, 0, err
	}
	return pairs, time.Since(start).Seconds(), nil
}

// scan is the table function that reads path: read_parquet, or read_csv
// with every column typed and nothing detected.
func scan(path string, columns [][2]string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet":
		return fmt.Sprintf("read_parquet(%s)", quote(path)), nil
	case ".csv":
		spec := make([]string, len(columns))
		for i, c := range columns {
			spec[i] = fmt.Sprintf("%s: %s", quote(c[0]), quote(c[1]))
		}
		return fmt.Sprintf(`read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {%s})`,
			quote(path), strings.Join(spec, ", ")), nil
	}
	return "", fmt.Errorf("%s: expected a .csv or .parquet file", path)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
