// Command gen writes a seeded accounts-receivable book for Kalla's
// benchmark: invoices and the payments made against them, as CSV and as
// Parquet with exact types, plus the recipes that reconcile them.
//
//	go run ./bench/cmd/gen --invoices 1000000 --seed 42 --out bench/data/1000000
//
// The book, per invoice: about 60% paid exactly, 15% paid within 2% (never
// exactly), 5% paid in two halves that quote the same invoice, 20% unpaid.
// Payments equal to 10% of the invoice count quote a purchase order number
// that is no invoice at all. Payments are shuffled. The same seed gives the
// same files, byte for byte.
//
// The files written are invoices.csv, payments.csv, invoices.parquet,
// payments.parquet, recipe-csv.json, recipe-parquet.json,
// recipe-full-csv.json and, last, manifest.json with the counts the
// recipes must find. With --reuse nothing is written when manifest.json
// already describes the same book.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/kallahq/kalla/bench/internal/books"
)

// version changes whenever the same seed would give a different book, so
// --reuse never keeps data of an older generator.
const version = 1

// The share of invoices in each outcome, in per mille.
const (
	exactPerMille  = 600
	withinPerMille = 150
	splitPerMille  = 50
)

// Manifest describes a generated book; gen writes it last.
type Manifest struct {
	Version  int   `json:"generator_version"`
	Seed     int64 `json:"seed"`
	Invoices int   `json:"invoices"`
	Payments int   `json:"payments"`
	// PaidExactly, PaidWithin, PaidInHalves and Unpaid count invoices;
	// Unknown counts payments that quote no invoice.
	PaidExactly  int `json:"paid_exactly"`
	PaidWithin   int `json:"paid_within_2pct"`
	PaidInHalves int `json:"paid_in_halves"`
	Unpaid       int `json:"unpaid"`
	Unknown      int `json:"unknown_payments"`
	// ExactPairs is what the recipe's exact rule must match; SplitGroups
	// what the full recipe's split rule must match after it.
	ExactPairs  int `json:"exact_pairs"`
	SplitGroups int `json:"split_groups"`
}

func main() {
	invoices := flag.Int("invoices", 0, "number of invoices (required)")
	seed := flag.Int64("seed", 42, "random seed")
	out := flag.String("out", "", "output directory (required)")
	reuse := flag.Bool("reuse", false, "keep the files when manifest.json already describes this book")
	flag.Parse()
	if *invoices <= 0 || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gen --invoices N [--seed S] --out DIR [--reuse]")
		os.Exit(2)
	}
	if err := run(*invoices, *seed, *out, *reuse); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

var outputs = []string{
	"invoices.csv", "payments.csv", "invoices.parquet", "payments.parquet",
	"recipe-csv.json", "recipe-parquet.json", "recipe-full-csv.json",
}

func run(n int, seed int64, dir string, reuse bool) error {
	manifestPath := filepath.Join(dir, "manifest.json")
	if reuse {
		if m, ok := existing(manifestPath, n, seed); ok {
			fmt.Fprintf(os.Stderr, "gen: reusing %s (seed %d)\n", dir, seed)
			return printJSON(m)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Remove(manifestPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}

	start := time.Now()
	b := generate(n, seed)
	fmt.Fprintf(os.Stderr, "gen: %d invoices, %d payments generated in %.1fs\n", n, len(b.pays), time.Since(start).Seconds())

	start = time.Now()
	var wg sync.WaitGroup
	var errInv, errPay error
	wg.Go(func() { errInv = books.WriteFile(filepath.Join(dir, "invoices.csv"), b.writeInvoices) })
	wg.Go(func() { errPay = books.WriteFile(filepath.Join(dir, "payments.csv"), b.writePayments) })
	wg.Wait()
	if err := errors.Join(errInv, errPay); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: CSV written in %.1fs\n", time.Since(start).Seconds())

	start = time.Now()
	if err := toParquet(dir); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: Parquet written in %.1fs\n", time.Since(start).Seconds())

	if err := writeRecipes(dir); err != nil {
		return err
	}
	m := b.manifest
	m.Version, m.Seed = version, seed
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := manifestPath + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, manifestPath); err != nil {
		return err
	}
	return printJSON(m)
}

// existing returns the manifest at path when it describes the same book and
// every file is there.
func existing(path string, n int, seed int64) (Manifest, bool) {
	var m Manifest
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &m) != nil {
		return m, false
	}
	if m.Version != version || m.Invoices != n || m.Seed != seed {
		return m, false
	}
	for _, name := range outputs {
		if _, err := os.Stat(filepath.Join(filepath.Dir(path), name)); err != nil {
			return m, false
		}
	}
	return m, true
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// The book is held compactly: strings are rendered only when written.

type book struct {
	invoices  int
	idWidth   int // digits of invoice and payment numbers
	custWidth int
	amount    []int64 // cents
	customer  []int32
	date      []int32 // days after baseDate
	terms     []uint8 // days until due
	currency  []uint8
	desc      []uint8
	pays      []payment
	manifest  Manifest
}

type payment struct {
	paid     int64  // cents
	invoice  int32  // index of the invoice quoted, or -1
	po       int32  // the purchase order quoted when invoice is -1
	payer    int32  // customer index
	date     int32  // days after baseDate
	number   int32  // payment number, 1-based
	bank     uint32 // bank reference digits
	method   uint8
	currency uint8
}

var (
	baseDate   = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	spanDays   = 3 * 365
	currencies = []string{"USD", "EUR", "GBP"}
	terms      = []uint8{15, 30, 30, 30, 45, 60}
	methods    = []string{"WT-", "ACH-", "CC-", "CHK-"}
	// Descriptions as they appear in the CSV: some need quoting.
	descriptions = csvFields(
		"Software license", "Consulting services", "Annual maintenance contract",
		"Hardware, peripherals and cabling", "Freight charges", "Support plan \"Gold\"",
		"Cloud hosting", "Training workshop", "Implementation milestone 2",
		"Office supplies", "Subscription renewal", "Professional services, on site",
	)
	// dates[d] is baseDate+d as YYYY-MM-DD.
	dates = func() [][]byte {
		out := make([][]byte, spanDays+400)
		for d := range out {
			out[d] = baseDate.AddDate(0, 0, d).AppendFormat(nil, time.DateOnly)
		}
		return out
	}()
)

func csvFields(values ...string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		if strings.ContainsAny(v, ",\"\n\r") {
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		out[i] = v
	}
	return out
}

func digits(n int) int { return len(strconv.Itoa(n)) }

// generate draws the whole book from one PCG stream, so the seed decides
// everything.
func generate(n int, seed int64) *book {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6b616c6c61)) // "kalla"
	customers := max(1, n/25)
	unknown := n / 10
	b := &book{
		invoices:  n,
		custWidth: max(6, digits(customers)),
		amount:    make([]int64, n),
		customer:  make([]int32, n),
		date:      make([]int32, n),
		terms:     make([]uint8, n),
		currency:  make([]uint8, n),
		desc:      make([]uint8, n),
		pays:      make([]payment, 0, n+unknown),
	}
	pay := func(p payment) {
		p.number = int32(len(b.pays) + 1)
		p.bank = rng.Uint32N(100_000_000)
		p.method = uint8(rng.IntN(len(methods)))
		b.pays = append(b.pays, p)
	}
	for i := range n {
		cust := int32(rng.IntN(customers))
		day := int32(rng.IntN(spanDays))
		term := terms[rng.IntN(len(terms))]
		cents := amount(rng)
		cur := currencyOf(rng)
		b.amount[i], b.customer[i], b.date[i], b.terms[i], b.currency[i] = cents, cust, day, term, cur
		b.desc[i] = uint8(rng.IntN(len(descriptions)))

		paidOn := func() int32 { return day + int32(rng.IntN(int(term)+30)) }
		p := payment{invoice: int32(i), payer: cust, currency: cur}
		switch k := rng.IntN(1000); {
		case k < exactPerMille:
			p.paid, p.date = cents, paidOn()
			pay(p)
			b.manifest.PaidExactly++
		case k < exactPerMille+withinPerMille:
			// Off by at least a cent and at most 2% of the amount: a bank fee
			// kept back more often than an overpayment.
			off := 1 + rng.Int64N(max(1, cents*2/100))
			if rng.IntN(10) < 7 {
				off = -off
			}
			p.paid, p.date = cents+off, paidOn()
			pay(p)
			b.manifest.PaidWithin++
		case k < exactPerMille+withinPerMille+splitPerMille:
			half := cents / 2
			p.paid, p.date = half, paidOn()
			pay(p)
			p.paid, p.date = cents-half, paidOn()
			pay(p)
			b.manifest.PaidInHalves++
		default:
			b.manifest.Unpaid++
		}
	}
	for range unknown {
		pay(payment{
			invoice:  -1,
			po:       int32(rng.IntN(100_000_000)),
			payer:    int32(rng.IntN(customers)),
			paid:     amount(rng),
			date:     int32(rng.IntN(spanDays + 90)),
			currency: currencyOf(rng),
		})
	}
	rng.Shuffle(len(b.pays), func(i, j int) { b.pays[i], b.pays[j] = b.pays[j], b.pays[i] })
	b.idWidth = max(7, digits(n), digits(len(b.pays)))
	b.manifest.Invoices = n
	b.manifest.Payments = len(b.pays)
	b.manifest.Unknown = unknown
	b.manifest.ExactPairs = b.manifest.PaidExactly + b.manifest.PaidWithin
	b.manifest.SplitGroups = b.manifest.PaidInHalves
	return b
}

// amount draws an invoice amount in cents from 10.00 to 99,999.99, most
// between 100 and 10,000, a third of them whole.
func amount(rng *rand.Rand) int64 {
	var lo, hi int64
	switch k := rng.IntN(100); {
	case k < 15:
		lo, hi = 1_000, 10_000
	case k < 50:
		lo, hi = 10_000, 100_000
	case k < 85:
		lo, hi = 100_000, 1_000_000
	default:
		lo, hi = 1_000_000, 10_000_000
	}
	c := lo + rng.Int64N(hi-lo)
	if rng.IntN(3) == 0 {
		c = max(lo, c/100*100)
	}
	return c
}

func currencyOf(rng *rand.Rand) uint8 {
	switch k := rng.IntN(10); {
	case k < 7:
		return 0
	case k < 9:
		return 1
	}
	return 2
}

func (b *book) writeInvoices(w *bufio.Writer) error {
	if _, err := w.WriteString("invoice_id,customer_id,invoice_date,due_date,amount,currency,description\n"); err != nil {
		return err
	}
	line := make([]byte, 0, 256)
	for i := range b.invoices {
		line = b.invoiceID(line[:0], int32(i))
		line = append(line, ',')
		line = b.customerID(line, b.customer[i])
		line = append(line, ',')
		line = append(line, dates[b.date[i]]...)
		line = append(line, ',')
		line = append(line, dates[b.date[i]+int32(b.terms[i])]...)
		line = append(line, ',')
		line = appendCents(line, b.amount[i])
		line = append(line, ',')
		line = append(line, currencies[b.currency[i]]...)
		line = append(line, ',')
		line = append(line, descriptions[b.desc[i]]...)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

func (b *book) writePayments(w *bufio.Writer) error {
	if _, err := w.WriteString("payment_id,payer_id,payment_date,paid_amount,currency,reference_number,bank_reference\n"); err != nil {
		return err
	}
	line := make([]byte, 0, 256)
	for _, p := range b.pays {
		line = append(line[:0], "PAY-"...)
		line = appendPadded(line, int64(p.number), b.idWidth)
		line = append(line, ',')
		line = b.customerID(line, p.payer)
		line = append(line, ',')
		line = append(line, dates[p.date]...)
		line = append(line, ',')
		line = appendCents(line, p.paid)
		line = append(line, ',')
		line = append(line, currencies[p.currency]...)
		line = append(line, ',')
		if p.invoice >= 0 {
			line = b.invoiceID(line, p.invoice)
		} else {
			line = append(line, "PO-"...)
			line = appendPadded(line, int64(p.po), 8)
		}
		line = append(line, ',')
		line = append(line, methods[p.method]...)
		line = appendPadded(line, int64(p.bank), 8)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

func (b *book) invoiceID(dst []byte, i int32) []byte {
	return appendPadded(append(dst, "INV-"...), int64(i)+1, b.idWidth)
}

func (b *book) customerID(dst []byte, c int32) []byte {
	return appendPadded(append(dst, "CUST-"...), int64(c)+1, b.custWidth)
}

// appendPadded appends n >= 0 zero-padded to width digits.
func appendPadded(dst []byte, n int64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], n, 10)
	for range width - len(s) {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendCents appends cents as a decimal with two places, such as 1234.05.
func appendCents(dst []byte, cents int64) []byte {
	if cents < 0 {
		dst = append(dst, '-')
		cents = -cents
	}
	dst = strconv.AppendInt(dst, cents/100, 10)
	return append(dst, '.', byte('0'+cents%100/10), byte('0'+cents%10))
}

// toParquet converts both CSV files to Parquet with exact types: amounts
// DECIMAL(18,2), dates DATE, text VARCHAR.
func toParquet(dir string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	tables := []struct {
		name    string
		columns [][2]string
	}{
		{"invoices", [][2]string{
			{"invoice_id", "VARCHAR"}, {"customer_id", "VARCHAR"}, {"invoice_date", "DATE"},
			{"due_date", "DATE"}, {"amount", "DECIMAL(18,2)"}, {"currency", "VARCHAR"},
			{"description", "VARCHAR"},
		}},
		{"payments", [][2]string{
			{"payment_id", "VARCHAR"}, {"payer_id", "VARCHAR"}, {"payment_date", "DATE"},
			{"paid_amount", "DECIMAL(18,2)"}, {"currency", "VARCHAR"},
			{"reference_number", "VARCHAR"}, {"bank_reference", "VARCHAR"},
		}},
	}
	for _, t := range tables {
		var spec, casts []string
		for _, c := range t.columns {
			spec = append(spec, fmt.Sprintf("'%s': 'VARCHAR'", c[0]))
			casts = append(casts, fmt.Sprintf("CAST(%[1]s AS %[2]s) AS %[1]s", c[0], c[1]))
		}
		csvPath := filepath.Join(dir, t.name+".csv")
		parquetPath := filepath.Join(dir, t.name+".parquet")
		q := fmt.Sprintf(`COPY (SELECT %s FROM read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {%s}))
TO %s (FORMAT parquet, COMPRESSION zstd)`,
			strings.Join(casts, ", "), quote(csvPath), strings.Join(spec, ", "), quote(parquetPath+".tmp"))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", parquetPath, err)
		}
		if err := os.Rename(parquetPath+".tmp", parquetPath); err != nil {
			return err
		}
	}
	return nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func writeRecipes(dir string) error {
	exact := books.Rule{Name: "exact", Pattern: "1:1", Priority: 1, Conditions: []books.Condition{
		{Left: "invoice_id", Op: "eq", Right: "reference_number"},
		{Left: "amount", Op: "tolerance_pct", Right: "paid_amount", Threshold: "2"},
	}}
	split := books.Rule{Name: "split", Pattern: "1:N", Priority: 2, Conditions: []books.Condition{
		{Left: "invoice_id", Op: "eq", Right: "reference_number"},
	}, Aggregate: &books.Aggregate{Left: "amount", Right: "paid_amount", Tolerance: "0.02"}}
	recipes := []struct {
		file, id, ext string
		rules         []books.Rule
	}{
		{"recipe-csv.json", "bench-exact-csv", "csv", []books.Rule{exact}},
		{"recipe-parquet.json", "bench-exact-parquet", "parquet", []books.Rule{exact}},
		{"recipe-full-csv.json", "bench-full-csv", "csv", []books.Rule{exact, split}},
	}
	for _, r := range recipes {
		err := books.WriteJSON(filepath.Join(dir, r.file), books.Recipe{
			Version:  "1.0",
			RecipeID: r.id,
			Name:     "Benchmark: invoices against payments",
			Sources: map[string]books.Side{
				"left":  {Alias: "invoices", URI: "file://invoices." + r.ext, PrimaryKey: []string{"invoice_id"}},
				"right": {Alias: "payments", URI: "file://payments." + r.ext, PrimaryKey: []string{"payment_id"}},
			},
			MatchRules: r.rules,
			Output: map[string]string{
				"matched":         "out/" + r.id + "/matched.parquet",
				"unmatched_left":  "out/" + r.id + "/unmatched_invoices.parquet",
				"unmatched_right": "out/" + r.id + "/unmatched_payments.parquet",
			},
		})
		if err != nil {
			return err
		}
	}
	return nil
}
