// Command shapes writes books of shapes of data that cost the engine
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
// path, which the greedy walk takes from one end: the rounds a pair at a
// time.
//
// crowds/: each customer's invoices and payments (fees of each) of amounts
// never within the rule's tolerance of each other, reconciled 1:1 on the
// customer and the amount: nothing matches, and each record's near miss is
// the closest of its customer's records on the other side.
//
// coarse/: crowds with a key as coarse as a currency: 3 customers of 5,000
// invoices and 5,000 payments, so that each record's near miss is the
// closest of 5,000 (75 million pairs a side).
//
// skewed/: coarse with one customer of 5,000 invoices and 5,000 payments
// among 45,000 of one each: as many keys as records, nearly, and still 25
// million pairs sharing a key.
//
// banded/: coarse's amounts and customers, each record a day after the one
// before, reconciled 1:1 on the customer, the amount within a cent and the
// day within 30: nothing matches, and each record's near miss is the
// closest amount among the records within 30 days.
//
// ordered/: banded's records, reconciled 1:1 on the customer, the amount
// within a cent and the invoice's day on or after the payment's: nothing
// matches, and each record's near miss is the closest amount among the
// records on its side of its day (the record of the same day).
//
// compared/: ordered's records and conditions, the day's first: each
// record's near miss is the record of the same day, found among those of
// its day before any other.
//
// timed/: compared with times for days, the invoice's half a second after
// the payment's of its day: each record's near miss is that other record,
// found at the nearest time by lookups.
//
// loose/: 3 customers of 5,000 invoices of 100.00, 100.02, 100.04 and so
// on and 5,000 payments of 100.01, 100.03 and so on, reconciled 1:1 on the
// customer, the invoice's amount at or above the payment's and within 5:
// 250 candidates an invoice, 3.75 million in all, and each invoice but
// the first paid by the payment a cent below it, which a 1:1 rule's stages
// take within a cent without making the other candidates.
//
// blocks/: 3 customers of 5,000 invoices and 5,000 payments of 10 fees
// (10.00 to 19.00, ids shuffled), reconciled 1:1 on the customer and the
// amount: blocks of 500 invoices and 500 payments that all tie, 7.5
// million pairs sharing keys, which the rule pairs in key order without
// making them.
//
// apart/: banded's amounts and customers, the invoices dated from 2000 and
// the payments from 2020, reconciled as banded: every pair fails both
// conditions, so each record's near miss is at its nearest amounts (then
// the nearest day, then the smaller id), found by lookups.
//
// few/: 10,000 customers of 10 invoices and 10 payments, banded's records
// and rule: keys shared by few records, not coarse, so the candidates join
// on the keys alone, and each record's near miss is chosen among 10.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/kallahq/kalla/bench/internal/books"
)

// Manifest describes the books; shapes writes it last.
type Manifest struct {
	Customers int `json:"customers"`
	Fees      int `json:"fees_per_customer"`
	Days      int `json:"days_per_customer"`
	// TiePairs, ChainGroups, PathPairs, CrowdGroups, CoarseGroups,
	// SkewedGroups, BandedGroups, OrderedGroups, ComparedGroups,
	// TimedGroups, LooseGroups, BlockPairs, ApartGroups and FewGroups are
	// what the recipes must match.
	TiePairs       int `json:"tie_pairs"`
	ChainGroups    int `json:"chain_groups"`
	PathPairs      int `json:"path_pairs"`
	CrowdGroups    int `json:"crowd_groups"`
	CoarseGroups   int `json:"coarse_groups"`
	SkewedGroups   int `json:"skewed_groups"`
	BandedGroups   int `json:"banded_groups"`
	OrderedGroups  int `json:"ordered_groups"`
	ComparedGroups int `json:"compared_groups"`
	TimedGroups    int `json:"timed_groups"`
	LooseGroups    int `json:"loose_groups"`
	BlockPairs     int `json:"block_pairs"`
	ApartGroups    int `json:"apart_groups"`
	FewGroups      int `json:"few_groups"`
}

func main() {
	customers := flag.Int("customers", 1000, "number of customers")
	fees := flag.Int("fees", 50, "invoices (and as many payments) per customer in ties/, paths/ and crowds/")
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
	customers    int  // when not 0, in place of the run's
	first        int  // when not 0, the first customer's records
	shuffled     bool // ids in a seeded random order, else in the records' order
	value        func(side string, c, i int) string
	rule         books.Rule
}

func run(customers, fees, days int, dir string) error {
	onCustomerAnd := func(name, pattern string, conds ...books.Condition) books.Rule {
		return books.Rule{Name: name, Pattern: pattern, Priority: 1, Conditions: append([]books.Condition{
			{Left: "customer", Op: "eq", Right: "customer"}}, conds...)}
	}
	// Invoices of 100.00, 102.00, ... and payments of 101.00, 103.00, ...:
	// never within a cent, each record's nearest a unit away.
	interleaved := func(side string, _, i int) string {
		if side == "payments" {
			return fmt.Sprintf("%d.00", 101+2*i)
		}
		return fmt.Sprintf("%d.00", 100+2*i)
	}
	// interleaved's amounts, each record a day after the one before.
	daily := func(side string, c, i int) string {
		return interleaved(side, c, i) + "," + time.Date(2000, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	// interleaved's amounts, the invoices a day apart from 2000, the
	// payments from 2020.
	apart := func(side string, c, i int) string {
		year := 2000
		if side == "payments" {
			year = 2020
		}
		return interleaved(side, c, i) + "," + time.Date(year, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	// daily's amounts, at 09:00 on the day, the invoice half a second later.
	timed := func(side string, c, i int) string {
		at := time.Date(2000, 1, 1+i, 9, 0, 0, 0, time.UTC)
		if side == "invoices" {
			at = at.Add(500 * time.Millisecond)
		}
		return interleaved(side, c, i) + "," + at.Format("2006-01-02 15:04:05.000")
	}
	aCent := books.Condition{Left: "amount", Op: "tolerance", Right: "amount", Threshold: "0.01"}
	byTheDay := books.Condition{Left: "day", Op: "gte", Right: "day"}
	withinACent := onCustomerAnd("within_a_cent", "1:1", aCent)
	centAnd30Days := onCustomerAnd("within_a_cent_and_30_days", "1:1", aCent, books.Condition{Left: "day", Op: "date_within", Right: "day", Threshold: "30"})
	shapes := []book{
		{"ties", "amount", fees, 0, 0, false,
			func(_ string, c, _ int) string { return fmt.Sprintf("%d.00", 10+c%90) },
			onCustomerAnd("same_fee", "1:1", books.Condition{Left: "amount", Op: "tolerance", Right: "amount", Threshold: "1"})},
		{"chains", "day", days, 0, 0, true,
			func(_ string, _, i int) string {
				return time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
			},
			onCustomerAnd("within_a_day", "M:N", books.Condition{Left: "day", Op: "date_within", Right: "day", Threshold: "1"})},
		{"paths", "amount", fees, 0, 0, false,
			func(side string, _, i int) string {
				if side == "payments" {
					return fmt.Sprintf("%d.50", 100+i)
				}
				return fmt.Sprintf("%d.00", 100+i)
			},
			onCustomerAnd("within_one", "1:1", books.Condition{Left: "amount", Op: "tolerance", Right: "amount", Threshold: "1"})},
		{"crowds", "amount", fees, 0, 0, false,
			func(side string, _, i int) string {
				if side == "payments" {
					return fmt.Sprintf("%d.00", 1000+2*i)
				}
				return fmt.Sprintf("%d.00", 100+2*i)
			},
			onCustomerAnd("within_a_cent", "1:1", books.Condition{Left: "amount", Op: "tolerance", Right: "amount", Threshold: "0.01"})},
		{"coarse", "amount", 5000, 3, 0, false, interleaved, withinACent},
		{"skewed", "amount", 1, 45001, 5000, false, interleaved, withinACent},
		{"banded", "amount,day", 5000, 3, 0, false, daily, centAnd30Days},
		{"ordered", "amount,day", 5000, 3, 0, false, daily, onCustomerAnd("within_a_cent_paid_by_the_day", "1:1", aCent, byTheDay)},
		{"compared", "amount,day", 5000, 3, 0, false, daily, onCustomerAnd("paid_by_the_day_within_a_cent", "1:1", byTheDay, aCent)},
		{"timed", "amount,at", 5000, 3, 0, false, timed, onCustomerAnd("paid_by_the_time_within_a_cent", "1:1",
			books.Condition{Left: "at", Op: "gte", Right: "at"}, aCent)},
		{"blocks", "amount", blockRecords, blockCustomers, 0, true,
			func(_ string, _, i int) string { return fmt.Sprintf("%d.00", 10+i%blockFees) },
			onCustomerAnd("same_fee", "1:1", books.Condition{Left: "amount", Op: "eq", Right: "amount"})},
		{"loose", "amount", looseRecords, looseCustomers, 0, false,
			func(side string, _, i int) string {
				cents := 10000 + 2*i
				if side == "payments" {
					cents++
				}
				return fmt.Sprintf("%d.%02d", cents/100, cents%100)
			},
			onCustomerAnd("paid_at_most_5_below", "1:1", books.Condition{Left: "amount", Op: "gte", Right: "amount"},
				books.Condition{Left: "amount", Op: "tolerance", Right: "amount", Threshold: "5"})},
		{"apart", "amount,day", 5000, 3, 0, false, apart, centAnd30Days},
		{"few", "amount,day", 10, 10000, 0, false, daily, centAnd30Days},
	}
	for _, b := range shapes {
		n := customers
		if b.customers != 0 {
			n = b.customers
		}
		if err := b.write(filepath.Join(dir, b.name), n); err != nil {
			return err
		}
	}
	return books.WriteJSON(filepath.Join(dir, "manifest.json"), Manifest{
		Customers: customers, Fees: fees, Days: days, TiePairs: customers * fees, ChainGroups: customers,
		PathPairs: customers * fees, LooseGroups: looseCustomers * (looseRecords - 1), BlockPairs: blockCustomers * blockRecords,
	})
}

// The loose book's customers and records of each side a customer.
const looseCustomers, looseRecords = 3, 5000

// The blocks book's customers, records of each side a customer, and fees.
const blockCustomers, blockRecords, blockFees = 3, 5000, 10

func (b book) write(dir string, customers int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	records := func(c int) int {
		if c == 0 && b.first != 0 {
			return b.first
		}
		return b.records
	}
	for s, side := range []string{"invoices", "payments"} {
		ids := make([]int, records(0)+(customers-1)*b.records)
		for i := range ids {
			ids[i] = i + 1
		}
		if b.shuffled {
			rng := rand.New(rand.NewPCG(42, uint64(s)))
			rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		}
		err := books.WriteFile(filepath.Join(dir, side+".csv"), func(w *bufio.Writer) error {
			fmt.Fprintf(w, "id,customer,%s\n", b.column)
			next := 0
			for c := range customers {
				for i := range records(c) {
					fmt.Fprintf(w, "%d,C%06d,%s\n", ids[next], c, b.value(side, c, i))
					next++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return books.WriteJSON(filepath.Join(dir, "recipe.json"), books.Recipe{
		Version: "1.0", RecipeID: "bench-shapes-" + b.name, Name: "Benchmark shapes: " + b.name,
		Sources: map[string]books.Side{
			"left":  {Alias: "invoices", URI: "file://invoices.csv", PrimaryKey: []string{"id"}},
			"right": {Alias: "payments", URI: "file://payments.csv", PrimaryKey: []string{"id"}},
		},
		MatchRules: []books.Rule{b.rule},
		Output: map[string]string{"matched": "out/matched.parquet", "unmatched_left": "out/unmatched_invoices.parquet",
			"unmatched_right": "out/unmatched_payments.parquet"},
	})
}
