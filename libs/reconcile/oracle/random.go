package oracle

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/recipe"
)

// RandomCase returns a recipe (its sources point at left.csv/right.csv in
// dir, as file:// absolute URIs, primary keys set) and writes those two CSV
// files into dir. Same seed, same files.
//
// The data is built from clusters of related rows (same reference, amounts
// that match exactly, nearly, or split across several rows) so rules find
// many ties, near ties and values exactly at their thresholds.
func RandomCase(seed int64, dir string) (*kallav1.Recipe, error) {
	return RandomCaseScaled(seed, dir, 1)
}

// RandomCaseScaled is RandomCase with scale times the records, references
// and invoices (scale 1 is RandomCase; the rules, drawn after the records,
// are others at another scale): cases of thousands of records, past the
// engine's vectors of 2,048, whose records share keys as RandomCase's do.
func RandomCaseScaled(seed int64, dir string, scale int) (*kallav1.Recipe, error) {
	g := &generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x6b616c6c61)), scale: max(scale, 1)}
	// Times are drawn apart, so the other draws of a seed stay as they were.
	if clock := rand.New(rand.NewPCG(uint64(seed), 0x74696d65)); clock.IntN(4) == 0 {
		g.clock = clock
	}
	g.chooseStyle()
	left, right := g.rows()
	lt, rt := g.table(left, true), g.table(right, false)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	lpath, rpath := filepath.Join(abs, "left.csv"), filepath.Join(abs, "right.csv")
	if err := writeCSV(lpath, lt); err != nil {
		return nil, err
	}
	if err := writeCSV(rpath, rt); err != nil {
		return nil, err
	}
	r := &kallav1.Recipe{
		RecipeId: fmt.Sprintf("random-%d", seed),
		Version:  "1.0",
		Sources: &kallav1.Sources{
			Left:  &kallav1.Source{Alias: "ledger", Uri: "file://" + lpath, PrimaryKey: g.keyColumns(true), ReverseSign: g.reverseSign(true)},
			Right: &kallav1.Source{Alias: "bank", Uri: "file://" + rpath, PrimaryKey: g.keyColumns(false), ReverseSign: g.reverseSign(false)},
		},
		MatchRules: g.rules(),
	}
	if g.nets {
		net := &kallav1.Net{Plus: "paid_in", Minus: "paid_out"}
		if g.reversed[1] {
			net.Plus, net.Minus = net.Minus, net.Plus
		}
		r.Sources.Right.Net = map[string]*kallav1.Net{"amt": net}
	}
	if g.signs {
		signed := &kallav1.Signed{Value: "unsigned", By: "dc", Positive: []string{"D", "DR"}, Negative: []string{"C"}}
		if g.reversed[0] {
			signed.Positive, signed.Negative = signed.Negative, signed.Positive
		}
		r.Sources.Left.Signed = map[string]*kallav1.Signed{"amount": signed}
	}
	if g.extracts {
		// The invoice's number, from memos such as "Payment INV-105" and
		// notes such as "inv-105 Acme" or "INV-10" (cut short).
		r.Sources.Left.Extract = map[string]*kallav1.Extract{"inv": {From: "memo", Pattern: "INV-([0-9]+)"}}
		r.Sources.Right.Extract = map[string]*kallav1.Extract{"inv": {From: "note", Pattern: "(?i)inv-[0-9]+"}}
		if g.rng.IntN(2) == 0 {
			r.Sources.Right.Extract["inv"].Pattern = "(?i)inv-([0-9]+)"
		}
		if g.rng.IntN(2) == 0 {
			// 105 rather than "105"; INV-105 is no integer, so empty.
			r.Sources.Left.Extract["inv"].Type, r.Sources.Right.Extract["inv"].Type = "integer", "integer"
		}
	}
	if g.rng.IntN(2) == 0 {
		// Drawn last, so the files and rules of a seed stay as they were.
		r.Sources.Left.Totals = g.totals("amount", "ref", "name")
		r.Sources.Right.Totals = g.totals("amt", "reference", "payee")
	}
	if g.rng.IntN(3) == 0 {
		r.Sources.Left.Filter = g.filter(
			&kallav1.Filter{Column: "amount", Op: kallav1.FilterOperator_FILTER_OPERATOR_GTE, Values: []string{"7.495"}},
			&kallav1.Filter{Column: "amount", Op: kallav1.FilterOperator_FILTER_OPERATOR_LT, Values: []string{"25.505"}},
			&kallav1.Filter{Column: "name", Op: kallav1.FilterOperator_FILTER_OPERATOR_NE, Values: []string{"Globex"}},
			&kallav1.Filter{Column: "booked", Op: kallav1.FilterOperator_FILTER_OPERATOR_LT, Values: []string{"2024-01-20"}},
			&kallav1.Filter{Column: "ref", Op: kallav1.FilterOperator_FILTER_OPERATOR_IN, Values: g.refs[:1+g.rng.IntN(len(g.refs))]},
			&kallav1.Filter{Column: "name", Op: kallav1.FilterOperator_FILTER_OPERATOR_NOT_EMPTY},
		)
	}
	if g.rng.IntN(3) == 0 {
		r.Sources.Right.Filter = g.filter(
			&kallav1.Filter{Column: "amt", Op: kallav1.FilterOperator_FILTER_OPERATOR_GT, Values: []string{"-5.005"}},
			&kallav1.Filter{Column: "payee", Op: kallav1.FilterOperator_FILTER_OPERATOR_NOT_IN, Values: []string{"Initech", "ACME CORP"}},
			&kallav1.Filter{Column: "value_date", Op: kallav1.FilterOperator_FILTER_OPERATOR_GTE, Values: []string{"2024-01-10"}},
			&kallav1.Filter{Column: "reference", Op: kallav1.FilterOperator_FILTER_OPERATOR_EQ, Values: []string{g.refs[0]}},
			&kallav1.Filter{Column: "note", Op: kallav1.FilterOperator_FILTER_OPERATOR_EMPTY},
		)
	}
	if err := recipe.Validate(r); err != nil {
		return nil, fmt.Errorf("random case %d made an invalid recipe: %w", seed, err)
	}
	return r, nil
}

// Key styles.
const (
	styleInteger = iota
	styleText
	styleComposite
)

type generator struct {
	rng *rand.Rand
	// scale multiplies the records, references and invoices.
	scale int
	// leftKey and rightKey are key styles.
	leftKey, rightKey int
	refs              []string
	// decimalRefs writes some right references as "2.0" so eq meets an
	// INTEGER and a DECIMAL column.
	decimalRefs bool
	// nets writes the right amounts in two columns, paid_in and paid_out,
	// which the right source's net makes amt again.
	nets bool
	// signs writes the left amounts unsigned beside a mark, D or DR for
	// positive, C for negative (X, now and then, for neither), which the
	// left source's signed makes amount again.
	signs bool
	// extracts gives both sides an extract, inv, that rules may join on.
	extracts bool
	// reversed says which sides (left, right) write their numbers negated
	// and name them in reverse_sign, as a bank statement and a ledger do.
	reversed [2]bool
	// clock, when set, writes dates as timestamps, at a few times of day
	// a microsecond to hours apart, so that comparisons rank by the time
	// between values and date_within by the days between their dates.
	clock *rand.Rand
}

// row is one generated record before keys are given; nil is NULL.
type row struct {
	ref, amount, date, name, memo *string
	// paidIn and paidOut write the amount in two columns (see nets);
	// unsigned and mark write it as a debit/credit ledger does (see signs).
	paidIn, paidOut, unsigned, mark *string
}

func (g *generator) chooseStyle() {
	g.leftKey, g.rightKey = g.rng.IntN(3), g.rng.IntN(3)
	n := (1 + g.rng.IntN(4)) * g.scale
	textRefs := g.rng.IntN(2) == 0
	for i := range n {
		if textRefs {
			g.refs = append(g.refs, string(rune('A'+i%26))+strings.Repeat("'", i/26))
		} else {
			g.refs = append(g.refs, fmt.Sprint(i+1))
		}
	}
	g.decimalRefs = !textRefs && g.rng.IntN(3) == 0
	g.reversed = [2]bool{g.rng.IntN(6) == 0, g.rng.IntN(4) == 0}
	g.extracts = g.rng.IntN(3) == 0
	g.nets = g.rng.IntN(4) == 0
	g.signs = g.rng.IntN(4) == 0
}

// reverseSign lists a side's columns that reverse_sign names: its amounts,
// its references when they are numbers, and its key when an integer (which
// keys keep as written).
func (g *generator) reverseSign(left bool) []string {
	side, amount, ref, key := 1, "amt", "reference", "txn"
	if left {
		side, amount, ref, key = 0, "amount", "ref", "id"
	}
	if !g.reversed[side] {
		return nil
	}
	var names []string
	if left && !g.signs || !left && !g.nets {
		names = append(names, amount) // else its marks or net reverse it
	}
	if number(g.refs[0]) {
		names = append(names, ref)
	}
	if style := [2]int{g.leftKey, g.rightKey}[side]; style == styleInteger {
		names = append(names, key)
	}
	return names
}

// totals sums a side's amount, over all records or per reference or name,
// which some records leave empty.
func (g *generator) totals(amount string, ref, name string) []*kallav1.Total {
	totals := []*kallav1.Total{{Column: amount}}
	by := []string{ref, name}
	if 2*len(g.refs) > plan.MaxTotalGroups {
		// A scaled case's references, some written twice (2 and 2.0),
		// are more than a total may be split by: split by name instead.
		by[0] = name
	}
	if split := g.rng.IntN(len(by) + 1); split < len(by) {
		totals = append(totals, &kallav1.Total{Column: amount, By: by[split]})
	}
	return totals
}

// filter picks one or two of a side's conditions. Amount bounds sit half
// a cent from amounts the clusters write (7.50, 25.50, -5.00), finer than
// the columns' scale, so rounding them the wrong way keeps or drops one.
func (g *generator) filter(conditions ...*kallav1.Filter) []*kallav1.Filter {
	g.rng.Shuffle(len(conditions), func(i, j int) { conditions[i], conditions[j] = conditions[j], conditions[i] })
	return conditions[:1+g.rng.IntN(2)]
}

func number(s string) bool { return s[0] >= '0' && s[0] <= '9' }

// pick returns one of the choices at random.
func pick[T any](g *generator, choices ...T) T { return choices[g.rng.IntN(len(choices))] }

// rows builds clusters of related rows until each side reaches its size,
// then pads with unrelated rows and shuffles.
func (g *generator) rows() (left, right []row) {
	nl, nr := (5+g.rng.IntN(56))*g.scale, (5+g.rng.IntN(56))*g.scale
	for len(left) < nl && len(right) < nr {
		l, r := g.cluster()
		left = append(left, l[:min(len(l), nl-len(left))]...)
		right = append(right, r[:min(len(r), nr-len(right))]...)
	}
	for len(left) < nl {
		l, _ := g.cluster()
		left = append(left, l[0])
	}
	for len(right) < nr {
		_, r := g.cluster()
		right = append(right, r[0])
	}
	g.rng.Shuffle(len(left), func(i, j int) { left[i], left[j] = left[j], left[i] })
	g.rng.Shuffle(len(right), func(i, j int) { right[i], right[j] = right[j], right[i] })
	return left, right
}

// cluster makes 1..3 rows on each side that share a reference, company and
// invoice, with amounts that match, nearly match or split.
func (g *generator) cluster() (left, right []row) {
	ref := pick(g, g.refs...)
	base := pick(g, 1000, 110, 10000, 2550, -500, 750)
	day := g.rng.IntN(40)
	company := pick(g, "Acme Corp", "Globex", "Initech", "Umbrella Co", "Société Générale", "Müller AG", "Straße GmbH", "Οδός ΑΕ")
	invoice := fmt.Sprintf("INV-%d", 100+g.rng.IntN(12*g.scale))
	shape := pick(g, [2]int{1, 1}, [2]int{1, 1}, [2]int{1, 2}, [2]int{1, 3}, [2]int{2, 1}, [2]int{3, 1}, [2]int{2, 2})
	nl, nr := shape[0], shape[1]
	lAmounts, rAmounts := g.amounts(base, nl), g.amounts(base, nr)
	for i := range nl {
		left = append(left, g.row(ref, lAmounts[i], day, company, g.leftMemo(invoice, company), false))
	}
	for i := range nr {
		right = append(right, g.row(ref, rAmounts[i], day, company, g.rightNote(invoice, company), true))
	}
	return left, right
}

// amounts returns n amounts in cents: one amount near base, or n parts
// that sum to base (sometimes off by a cent or two).
func (g *generator) amounts(base, n int) []int {
	if n == 1 {
		return []int{base + g.nudge()}
	}
	parts := make([]int, n)
	rest := base
	for i := range n - 1 {
		parts[i] = base / n
		rest -= parts[i]
	}
	parts[n-1] = rest + pick(g, 0, 0, 0, 1, 2, -2, 3)
	return parts
}

// nudge is an amount difference in cents that lands on or near the
// thresholds used by the rules (0.02, 1, 10, and 1% or 10% of the bases).
func (g *generator) nudge() int {
	return pick(g, 0, 0, 0, 1, -1, 2, -2, 3, 10, -10, 100, -100, 1000, 11)
}

func (g *generator) row(ref string, cents, day int, company, memo string, right bool) row {
	if right && g.decimalRefs && g.rng.IntN(3) == 0 {
		ref += ".0"
	}
	if g.reversed[0] && !right || g.reversed[1] && right {
		cents = -cents
		if number(ref) {
			ref = "-" + ref
		}
	}
	in, out := g.paid(cents)
	unsigned, mark := g.marked(cents)
	return row{
		ref:      &ref,
		paidIn:   in,
		paidOut:  out,
		unsigned: unsigned,
		mark:     mark,
		amount:   ptr(g.amountText(cents)),
		date:     ptr(g.dateText(int64(19723 + day + pick(g, 0, 0, 0, 1, -1, 2, 10)))), // 19723 is 2024-01-01
		name:     ptr(g.nameVariant(company)),
		memo:     &memo,
	}
}

// dateText writes a day, with a time of day where the case has a clock.
func (g *generator) dateText(day int64) string {
	if g.clock == nil {
		return dayText(day)
	}
	times := []string{"00:00:00", "09:00:00", "09:00:00.000001", "09:00:00.5", "17:30:00", "23:59:59.999999"}
	return dayText(day) + " " + times[g.clock.IntN(len(times))]
}

// amountText writes cents with two decimals, sometimes with one (7.5)
// or with surrounding spaces, which typing must ignore.
func (g *generator) amountText(cents int) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	s := fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
	if cents%10 == 0 && g.rng.IntN(8) == 0 {
		s = strings.TrimSuffix(s, "0")
	}
	if g.rng.IntN(25) == 0 {
		s = " " + s + " "
	}
	return s
}

// paid writes an amount as paid in and paid out: one of them, the other
// empty or zero, or both.
func (g *generator) paid(cents int) (in, out *string) {
	in, out = ptr(g.amountText(max(cents, 0))), ptr(g.amountText(max(-cents, 0)))
	switch g.rng.IntN(4) {
	case 0: // 0.00 written on the side not paid
	case 1:
		extra := 100 * (1 + g.rng.IntN(9))
		in, out = ptr(g.amountText(max(cents, 0)+extra)), ptr(g.amountText(max(-cents, 0)+extra))
	default:
		if cents >= 0 {
			out = nil
		} else {
			in = nil
		}
	}
	return in, out
}

// marked writes an amount unsigned beside its mark.
func (g *generator) marked(cents int) (unsigned, mark *string) {
	mark = ptr(pick(g, "D", "DR"))
	if cents < 0 {
		mark = ptr("C")
	}
	if g.rng.IntN(20) == 0 {
		mark = ptr("X")
	}
	return ptr(g.amountText(max(cents, -cents))), mark
}

func (g *generator) nameVariant(company string) string {
	return pick(g, company, company, strings.ToUpper(company), strings.ToLower(company),
		" "+company, company+" ", "  "+strings.ToLower(company)+" ")
}

func (g *generator) leftMemo(invoice, company string) string {
	return pick(g, invoice, invoice+" "+company, "Payment "+invoice, company+" "+invoice, "Bank fee")
}

func (g *generator) rightNote(invoice, company string) string {
	return pick(g, invoice, strings.ToLower(invoice), invoice[:len(invoice)-1], "Payment", company, invoice+" "+company)
}

// table lays rows out as CSV text with keys first; some non-key cells are
// NULL, but never in the first row, so every column keeps its type.
func (g *generator) table(rows []row, left bool) Table {
	style := g.rightKey
	names := []string{"reference", "amt", "value_date", "payee", "note"}
	split := !left && g.nets
	if split {
		names = []string{"reference", "paid_in", "paid_out", "value_date", "payee", "note"}
	}
	if left {
		style = g.leftKey
		names = []string{"ref", "amount", "booked", "name", "memo"}
		if g.signs {
			names = []string{"ref", "unsigned", "dc", "booked", "name", "memo"}
		}
	}
	t := Table{Columns: append(g.keyColumns(left), names...)}
	keys := g.keys(style, len(rows))
	for i, r := range rows {
		cells := []*string{r.ref, r.amount, r.date, r.name, r.memo}
		switch {
		case split:
			cells = []*string{r.ref, r.paidIn, r.paidOut, r.date, r.name, r.memo}
		case left && g.signs:
			cells = []*string{r.ref, r.unsigned, r.mark, r.date, r.name, r.memo}
		}
		for c := range cells {
			if i > 0 && g.rng.IntN(15) == 0 {
				cells[c] = nil
			}
		}
		t.Rows = append(t.Rows, append(keys[i], cells...))
	}
	return t
}

func (g *generator) keyColumns(left bool) []string {
	style, single, pair := g.rightKey, "txn", []string{"batch", "line"}
	if left {
		style, single, pair = g.leftKey, "id", []string{"branch", "seq"}
	}
	if style == styleComposite {
		return pair
	}
	return []string{single}
}

// keys returns n distinct keys in the style: integers (some negative),
// text whose byte order differs from numeric order ("k10" < "k9"), or a
// text and an integer.
func (g *generator) keys(style, n int) [][]*string {
	perm := g.rng.Perm(3*n + 10)
	out := make([][]*string, n)
	for i := range n {
		switch style {
		case styleInteger:
			out[i] = []*string{ptr(fmt.Sprint(perm[i] - 5))}
		case styleText:
			out[i] = []*string{ptr(fmt.Sprintf("k%d", perm[i]))}
		default:
			branch := []string{"north", "south", "east"}[perm[i]%3]
			out[i] = []*string{ptr(branch), ptr(fmt.Sprint(perm[i]/3 + 1))}
		}
	}
	return out
}

func writeCSV(path string, t Table) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(t.Columns)
	for _, r := range t.Rows {
		fields := make([]string, len(r))
		for i, cell := range r {
			if cell != nil {
				fields[i] = *cell
			}
		}
		w.Write(fields)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Column pairs the rules compare, left then right.
var (
	refPair    = [2]string{"ref", "reference"}
	amountPair = [2]string{"amount", "amt"}
	datePair   = [2]string{"booked", "value_date"}
	namePair   = [2]string{"name", "payee"}
	memoPair   = [2]string{"memo", "note"}
	invPair    = [2]string{"inv", "inv"}
)

// rules draws 1..3 rules; each starts with an eq or eq_ci condition. Most
// recipes give every rule a priority (ties likely), the others none.
func (g *generator) rules() []*kallav1.MatchRule {
	var out []*kallav1.MatchRule
	prioritised := g.rng.IntN(4) > 0
	for i := range 1 + g.rng.IntN(3) {
		ru := g.rule(fmt.Sprintf("rule_%d", i+1))
		if prioritised {
			ru.Priority = ptr(int32(g.rng.IntN(3)))
		}
		out = append(out, ru)
	}
	return out
}

func (g *generator) rule(name string) *kallav1.MatchRule {
	ru := &kallav1.MatchRule{Name: name}
	ru.Pattern = pick(g, kallav1.Pattern_PATTERN_ONE_TO_ONE, kallav1.Pattern_PATTERN_ONE_TO_MANY,
		kallav1.Pattern_PATTERN_MANY_TO_ONE, kallav1.Pattern_PATTERN_MANY_TO_MANY)
	ru.Conditions = append(ru.Conditions, g.joinCondition())
	for range g.rng.IntN(3) {
		ru.Conditions = append(ru.Conditions, g.otherCondition())
	}
	fans := ru.Pattern == kallav1.Pattern_PATTERN_ONE_TO_MANY || ru.Pattern == kallav1.Pattern_PATTERN_MANY_TO_ONE
	if fans && g.rng.IntN(2) == 0 {
		ru.Aggregate = &kallav1.Aggregate{Left: "amount", Right: "amt", Tolerance: decimal(pick(g, "0", "0.01", "0.02"))}
	}
	return ru
}

func (g *generator) joinCondition() *kallav1.Condition {
	if g.extracts && g.rng.IntN(2) == 0 {
		return newCondition(invPair, kallav1.Operator_OPERATOR_EQ, "")
	}
	switch g.rng.IntN(6) {
	case 0, 1, 2:
		return newCondition(refPair, kallav1.Operator_OPERATOR_EQ, "")
	case 3, 4:
		return newCondition(namePair, kallav1.Operator_OPERATOR_EQ_CI, "")
	}
	return newCondition(datePair, kallav1.Operator_OPERATOR_EQ, "")
}

func (g *generator) otherCondition() *kallav1.Condition {
	ordered := []kallav1.Operator{kallav1.Operator_OPERATOR_GT, kallav1.Operator_OPERATOR_LT,
		kallav1.Operator_OPERATOR_GTE, kallav1.Operator_OPERATOR_LTE}
	textual := []kallav1.Operator{kallav1.Operator_OPERATOR_CONTAINS,
		kallav1.Operator_OPERATOR_STARTSWITH, kallav1.Operator_OPERATOR_ENDSWITH}
	switch g.rng.IntN(9) {
	case 0, 1:
		return newCondition(amountPair, kallav1.Operator_OPERATOR_TOLERANCE, pick(g, "0", "0.02", "1", "10"))
	case 2:
		return newCondition(amountPair, kallav1.Operator_OPERATOR_TOLERANCE_PCT, pick(g, "0", "1", "10"))
	case 3:
		return newCondition(pick(g, amountPair, datePair, memoPair), pick(g, ordered...), "")
	case 4:
		return newCondition(datePair, kallav1.Operator_OPERATOR_DATE_WITHIN, pick(g, "0", "1", "2", "10"))
	case 5:
		return newCondition(pick(g, memoPair, namePair), pick(g, textual...), "")
	case 6:
		return newCondition(pick(g, memoPair, namePair), kallav1.Operator_OPERATOR_FUZZY, pick(g, "0", "0.5", "0.8", "1"))
	case 7:
		return newCondition(namePair, kallav1.Operator_OPERATOR_EQ_CI, "")
	}
	return newCondition(pick(g, amountPair, refPair), kallav1.Operator_OPERATOR_EQ, "")
}

// newCondition builds a condition on a column pair; threshold "" means none.
func newCondition(cols [2]string, op kallav1.Operator, threshold string) *kallav1.Condition {
	c := &kallav1.Condition{Left: cols[0], Op: op, Right: cols[1]}
	if threshold != "" {
		c.Threshold = decimal(threshold)
	}
	return c
}

func decimal(text string) *kallav1.Decimal { return &kallav1.Decimal{Value: text} }
