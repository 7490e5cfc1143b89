// Command rounds writes two books whose rules the engine takes in rounds,
// for Kalla's benchmark: how many rounds they need shows whether a shape of
// data makes the engine repeat itself once per record.
//
//	go run ./bench/cmd/rounds --customers 1000 --fees 50 --days 200 --out bench/data/rounds
//
// ties/: each customer's invoices and payments (fees of each) all of one
// fee, reconciled 1:1 on the customer and the amount: every pair of a
// customer ties, and the greedy walk pairs them in key order. chains/: each
// customer's invoices and payments one a day (days of each), reconciled
// M:N on the customer within a day: a customer's records form one chain,
// one group. manifest.json says how many groups each must give.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Manifest describes the books; rounds writes it last.
type Manifest struct {
	Customers int `json:"customers"`
	Fees      int `json:"fees_per_customer"`
	Days      int `json:"days_per_customer"`
	// TiePairs and ChainGroups are what the two recipes must match.
	TiePairs    int `json:"tie_pairs"`
	ChainGroups int `json:"chain_groups"`
}

func main() {
	customers := flag.Int("customers", 1000, "number of customers")
	fees := flag.Int("fees", 50, "invoices (and as many payments) per customer in ties/")
	days := flag.Int("days", 200, "invoices (and as many payments) per customer in chains/")
	out := flag.String("out", "", "output directory (required)")
	flag.Parse()
	if *customers <= 0 || *fees <= 0 || *days <= 0 || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: rounds --customers N --fees N --days N --out DIR")
		os.Exit(2)
	}
	if err := run(*customers, *fees, *days, *out); err != nil {
		fmt.Fprintln(os.Stderr, "rounds:", err)
		os.Exit(1)
	}
}

func run(customers, fees, days int, dir string) error {
	fee := func(c, _ int) string { return fmt.Sprintf("%d.00", 10+c%90) }
	day := func(_, i int) string { return time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly) }
	books := []struct {
		name, column string
		records      int
		cell         func(c, i int) string
		rule         map[string]any
	}{
		{"ties", "amount", fees, fee, map[string]any{"name": "same_fee", "pattern": "1:1", "conditions": []map[string]any{
			{"left": "customer", "op": "eq", "right": "customer"},
			{"left": "amount", "op": "tolerance", "right": "amount", "threshold": 1}}}},
		{"chains", "day", days, day, map[string]any{"name": "within_a_day", "pattern": "M:N", "conditions": []map[string]any{
			{"left": "customer", "op": "eq", "right": "customer"},
			{"left": "day", "op": "date_within", "right": "day", "threshold": 1}}}},
	}
	for _, b := range books {
		bdir := filepath.Join(dir, b.name)
		if err := os.MkdirAll(bdir, 0o755); err != nil {
			return err
		}
		for _, side := range []string{"invoices", "payments"} {
			err := writeFile(filepath.Join(bdir, side+".csv"), func(w *bufio.Writer) error {
				fmt.Fprintf(w, "id,customer,%s\n", b.column)
				for c := range customers {
					for i := range b.records {
						fmt.Fprintf(w, "%d,C%06d,%s\n", c*b.records+i+1, c, b.cell(c, i))
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		recipe := map[string]any{
			"version": "1.0", "recipe_id": "bench-rounds-" + b.name,
			"sources": map[string]any{
				"left":  map[string]any{"alias": "invoices", "uri": "file://invoices.csv", "primary_key": []string{"id"}},
				"right": map[string]any{"alias": "payments", "uri": "file://payments.csv", "primary_key": []string{"id"}},
			},
			"match_rules": []any{b.rule},
			"output": map[string]any{"matched": "out/matched.parquet", "unmatched_left": "out/unmatched_invoices.parquet",
				"unmatched_right": "out/unmatched_payments.parquet"},
		}
		if err := writeJSON(filepath.Join(bdir, "recipe.json"), recipe); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, "manifest.json"), Manifest{
		Customers: customers, Fees: fees, Days: days, TiePairs: customers * fees, ChainGroups: customers,
	})
}

func writeFile(path string, write func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := write(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
