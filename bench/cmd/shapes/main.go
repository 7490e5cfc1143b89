// Command shapes writes four books of shapes of data that cost the engine
// more than the benchmark's accounts-receivable book does, for Kalla's
// benchmark: records that tie, chains of records, paths of pairs and
// crowds of records sharing a key. manifest.json says how many groups each
// must give.
//
//	go run ./bench/cmd/shapes --customers 1000 --fees 50 --days 200 --out bench/data/shapes
//
// ties/: each customer's invoices and payments (fees of each) all of one
// fee, reconciled 1:1 on the customer and the amount: every pair of a
// customer ties, and the greedy walk pairs them in key order.
//
// chains/: each customer's invoices and payments one a day (days of each),
// their ids shuffled, reconciled M:N on the customer within a day: a
// customer's records form one chain, one group, its smallest id anywhere
// in it.
//
// paths/: each customer's invoices of 100.00, 101.00, 102.00 and so on
// (fees of each) and payments of 100.50, 101.50 and so on, reconciled 1:1
// on the customer and the amount within 1: each invoice ties with the
// payment above it and the one below, so a customer's records form one
// path, which the greedy walk takes from one end, a pair a round (it holds
// no block of ties).
//
// crowds/: each customer's invoices and payments (fees of each) of amounts
// never within the rule's tolerance of each other, reconciled 1:1 on the
// customer and the amount: nothing matches, and each record's near miss is
// the closest of its customer's records on the other side.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// Manifest describes the books; shapes writes it last.
type Manifest struct {
	Customers int `json:"customers"`
	Fees      int `json:"fees_per_customer"`
	Days      int `json:"days_per_customer"`
	// TiePairs, ChainGroups, PathPairs and CrowdGroups are what the recipes
	// must match.
	TiePairs    int `json:"tie_pairs"`
	ChainGroups int `json:"chain_groups"`
	PathPairs   int `json:"path_pairs"`
	CrowdGroups int `json:"crowd_groups"`
}

func main() {
	customers := flag.Int("customers", 1000, "number of customers")
	fees := flag.Int("fees", 50, "invoices (and as many payments) per customer in ties/ and crowds/")
	days := flag.Int("days", 200, "invoices (and as many payments) per customer in chains/")
	out := flag.String("out", "", "output directory (required)")
	flag.Parse()
	if *customers <= 0 || *fees <= 0 || *days <= 0 || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: shapes --customers N --fees N --days N --out DIR")
		os.Exit(2)
	}
	if err := run(*customers, *fees, *days, *out); err != nil {
		fmt.Fprintln(os.Stderr, "shapes:", err)
		os.Exit(1)
	}
}

// book is one book: its records per customer, the value of its third
// column for record i of customer c on either side, and its rule.
type book struct {
	name, column string
	records      int
	shuffled     bool // ids in a seeded random order, else in the records' order
	value        func(side string, c, i int) string
	rule         map[string]any
}

func run(customers, fees, days int, dir string) error {
	onCustomerAnd := func(name, pattern string, cond map[string]any) map[string]any {
		return map[string]any{"name": name, "pattern": pattern, "conditions": []map[string]any{
			{"left": "customer", "op": "eq", "right": "customer"}, cond}}
	}
	books := []book{
		{"ties", "amount", fees, false,
			func(_ string, c, _ int) string { return fmt.Sprintf("%d.00", 10+c%90) },
			onCustomerAnd("same_fee", "1:1", map[string]any{"left": "amount", "op": "tolerance", "right": "amount", "threshold": 1})},
		{"chains", "day", days, true,
			func(_ string, _, i int) string {
				return time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
			},
			onCustomerAnd("within_a_day", "M:N", map[string]any{"left": "day", "op": "date_within", "right": "day", "threshold": 1})},
		{"paths", "amount", fees, false,
			func(side string, _, i int) string {
				if side == "payments" {
					return fmt.Sprintf("%d.50", 100+i)
				}
				return fmt.Sprintf("%d.00", 100+i)
			},
			onCustomerAnd("within_one", "1:1", map[string]any{"left": "amount", "op": "tolerance", "right": "amount", "threshold": 1})},
		{"crowds", "amount", fees, false,
			func(side string, _, i int) string {
				if side == "payments" {
					return fmt.Sprintf("%d.00", 1000+2*i)
				}
				return fmt.Sprintf("%d.00", 100+2*i)
			},
			onCustomerAnd("within_a_cent", "1:1", map[string]any{"left": "amount", "op": "tolerance", "right": "amount", "threshold": 0.01})},
	}
	for _, b := range books {
		if err := b.write(filepath.Join(dir, b.name), customers); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, "manifest.json"), Manifest{
		Customers: customers, Fees: fees, Days: days, TiePairs: customers * fees, ChainGroups: customers,
		PathPairs: customers * fees,
	})
}

func (b book) write(dir string, customers int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for s, side := range []string{"invoices", "payments"} {
		ids := make([]int, customers*b.records)
		for i := range ids {
			ids[i] = i + 1
		}
		if b.shuffled {
			rng := rand.New(rand.NewPCG(42, uint64(s)))
			rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		}
		err := writeFile(filepath.Join(dir, side+".csv"), func(w *bufio.Writer) error {
			fmt.Fprintf(w, "id,customer,%s\n", b.column)
			for c := range customers {
				for i := range b.records {
					fmt.Fprintf(w, "%d,C%06d,%s\n", ids[c*b.records+i], c, b.value(side, c, i))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, "recipe.json"), map[string]any{
		"version": "1.0", "recipe_id": "bench-shapes-" + b.name,
		"sources": map[string]any{
			"left":  map[string]any{"alias": "invoices", "uri": "file://invoices.csv", "primary_key": []string{"id"}},
			"right": map[string]any{"alias": "payments", "uri": "file://payments.csv", "primary_key": []string{"id"}},
		},
		"match_rules": []any{b.rule},
		"output": map[string]any{"matched": "out/matched.parquet", "unmatched_left": "out/unmatched_invoices.parquet",
			"unmatched_right": "out/unmatched_payments.parquet"},
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
