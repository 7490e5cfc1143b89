package sqlplan

import (
	"fmt"
	"math"
	"math/big"
	"path/filepath"
	"slices"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"

	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
)

// Side names one side in the statements below.
type Side struct {
	// Code is "L" or "R" in the near-miss table; Name is "left" or "right".
	Code, Name string
	Table      string
	Other      string
	// ID is this side's id column in the pairs table.
	ID, OtherID string
	Input       plan.Input
	OtherInput  plan.Input
	// OtherRepeats says whether a record of the other side can be in
	// several pairs (see repeats).
	OtherRepeats bool
}

// Sides returns the left and the right side of a plan.
func Sides(p *plan.Plan) (left, right Side) {
	repeatsLeft, repeatsRight := repeats(p, kallav1.Pattern_PATTERN_ONE_TO_MANY), repeats(p, kallav1.Pattern_PATTERN_MANY_TO_ONE)
	return Side{Code: "L", Name: "left", Table: Left, Other: Right, ID: "lid", OtherID: "rid", Input: p.Left, OtherInput: p.Right, OtherRepeats: repeatsRight},
		Side{Code: "R", Name: "right", Table: Right, Other: Left, ID: "rid", OtherID: "lid", Input: p.Right, OtherInput: p.Left, OtherRepeats: repeatsLeft}
}

// NearMissSteps are the statements that find, for each unmatched record of
// a side, its closest record of the other side under one rule: among
// records sharing the rule's join keys, fewest failed conditions first,
// then the rule's order. The engine runs those For gives, or widens.
//
// Each and Coarse compare each record with every record sharing its keys.
// Each chooses with a window over the pairs, which carry the columns the
// reason reads as two structs, u and o (text for each pair cost four times
// the rest); the reason and the other record's key are worked out for the
// chosen pair alone. Coarse chooses with an aggregate: the smallest, per
// record, of a struct that orders as the rule does (failed, each
// condition's rank with NULLs last, the other record's id, which no two
// pairs of a record share), then reads the two records of each chosen
// pair. Where keys are nearly unique the window is faster (the 1M book:
// 121-164 ms a side against 191-202); where a record shares its keys with
// thousands (one of three currencies, 20,000 records a side) it took 72 s
// and 11 GB, the aggregate 4.7-13 s and 150 MB. Carrying the columns
// through the aggregate as Each does cost more there: within a cent and
// due_date gte payment_date, 20,000 a side, 10.1-10.4 s a side against
// 7.6 s.
//
// Nearest, set for a rule whose one condition besides its joins is a
// tolerance or a tolerance_pct on exact numbers or a date_within (a right
// side's near misses of a tolerance_pct only up to 100%), finds the same
// near misses by two lookups a record (see nearestValues): about a pass
// over both sides whatever the keys, 0.6-1.0 s a side on the 1M book.
//
// Widening, set for a rule whose first condition ranked by a distance
// (see Widening) is a tolerance on exact numbers or a date_within, or a
// comparison of exact numbers, dates or timestamps or a tolerance_pct
// where a condition of the rule bands (a tolerance_pct below 100% bands
// itself), seeks each record's closest within a distance that grows round
// by round.
//
// Banded, set for a rule with two or more conditions besides its joins
// that band (see cond.band), serves under coarse keys where the rule does
// not widen (a fuzzy first); where it does, Widening
// comes first (the bank book below: 1.9 s by Banded, 0.8 s; a
// tolerance_pct first, 1.1 s by Banded, 0.8 s), then settles in the bands
// as Banded does. Banded finds the same near misses in three
// statements: first each record's closest among the pairs passing one of
// those conditions or more, sought in each one's bands (a pair passing a
// condition is in its bands); any other pair fails every one of them, so a
// record's closest there, when it fails fewer, is its closest of all. The
// second takes those and, for the other records, compares every pair
// sharing keys as Coarse does; the third drops the first's table.
// Under three currencies, 20,000 records a side, within a cent and 30
// days: 10.6 s a side by Coarse, 0.8-0.9 s. Where every pair sharing keys
// is in every condition's bands and fails them all, it costs more than
// Coarse (10,000 a side: 4.4 s against 3.8 s; with a third condition, a
// tolerance_pct of 99.99%, 17.4 s against 11.5 s).
type NearMissSteps struct {
	Each, Coarse, Nearest string
	Banded                []string
	Widening              *Widening
}

// For is the statements that find the near misses where a record shares
// its keys with perRecord others on average, under keys coarse or not (the
// engine's judgement): under keys not coarse, the window up to
// WindowPairs, the aggregate up to AggregatePairs, then the coarse ways.
// Where keys are coarse and the rule widens, the engine runs Widening
// instead.
func (n NearMissSteps) For(perRecord float64, coarse bool) []string {
	switch {
	case !coarse && perRecord <= WindowPairs:
		return []string{n.Each}
	case !coarse && perRecord <= AggregatePairs:
		return []string{n.Coarse}
	case n.Nearest != "":
		return []string{n.Nearest}
	case n.Banded != nil:
		return n.Banded
	}
	return []string{n.Coarse}
}

// Where keys are not coarse, the window (Each) up to WindowPairs pairs
// sharing keys a record, the aggregate (Coarse) up to AggregatePairs, the
// coarse ways past it. Both sides' statements on the 1M bench book's
// Parquet files, in ms, by the window, the aggregate and the coarse ways
// (For under coarse keys), under keys of 2 invoices (1.6 pairs a record),
// 4 (3.4) and 10 (8.4):
//   - within 2%: 507, 751, 1,020; 948, 785, 1,528; 1,553, 1,005, 1,684;
//   - within a cent and 30 days: 749, 954, 2,062; 1,438, 1,317, 2,402;
//     2,864, 1,376, 2,636.
//
// Under customers (24 pairs a record): within a cent and 30 days 8,552,
// 2,830, 2,241 (in the bands); 1:N within 60 days 11,636, 4,209, 3,608
// (by the nearest values); within 2% 4,902 by the window, 2,523 by the
// nearest values. The evidence is the same every way.
const (
	WindowPairs    = 2.5
	AggregatePairs = 16
)

// Widens says whether the engine finds the near misses by Widening.
func (n NearMissSteps) Widens(coarse bool) bool {
	return coarse && n.Nearest == "" && n.Widening != nil
}

// Widening finds a side's near misses under a rule whose first condition
// ranked by a distance (c) ranks pairs by the distance between their
// values, in rounds of a radius R, from c's threshold t in c's units
// (cond.inUnits: a cent for amounts of two decimals; a day) and growing.
// A round compares each record not yet settled with the records sharing
// its keys within R (in bands of width R next to its own), and settles
// those whose closest there fails one condition at most. That one is its
// closest of all: where c is a tolerance or a date_within, any other pair
// is more than R >= t apart or has an empty operand, so it fails c, and
// where it fails as many conditions, c's rank, which the rule's order
// takes next, puts it after. A comparison or a tolerance_pct passes values
// however far apart: the records with a pair passing every condition
// settle first (in rounds of their own, PassingRounds, then Passing), so
// that any other pair fails one condition or more, and c's rank puts it
// after likewise. Such a condition's threshold is 0, so its rounds start
// at the same value (R = 0, an equality join; then 1 unit: many dates
// share a day), as a tolerance of 0 does; those of timestamps, counted in
// microseconds, start at a second, since they rarely share a
// microsecond. Without a condition that bands, where those pairs are
// sought, such a rule does not widen.
// Conditions before c (a contains, a comparison of text) rank a pair only
// by whether it has an empty operand: a record settles only where its
// closest has none there, since a farther pair failing c alone passes
// them, and would rank first were it otherwise.
// A rule of a comparison of dates or timestamps and one condition that
// bands settles its records by lookups instead of rounds (Lookups): once
// no pair passes both, a record's closest fails the comparison alone (a
// pair in the bands passing the other), or the other alone (a pair
// passing the comparison, at the nearest value that does), or both (every
// pair does; then at the nearest value either way). At one value every
// pair ranks alike on the comparison, so where many others share the
// nearest values (dates), only the nearest of them on the other condition
// is compared. The 1M bench book's Parquet files under currency keys,
// each record given a timestamp on its date, issued_at gte paid_at then
// the amount within a cent: 21-23 s against 323 s by rounds; due_date gte
// payment_date (thousands share a day): 22 s (29 s comparing every record
// at the nearest days) against 132 s.
// A rule of two conditions or more that band then settles the records
// left in their bands (InBands), as Banded does. The records not settled
// by then (their closest fails two conditions or more, or c's operand is
// empty) compare every pair sharing keys, as Coarse does.
// Within a cent and due_date gte payment_date, 20,000 a side under three
// currencies: 9.7 s a side by Coarse (7.6 s once it compared a struct
// alone), 0.3-0.5 s in six rounds (radii 0.01 to 10,485.76, 2,788 to 144
// of 16,907 records settled in each; the 14 left compare every pair).
// Within a cent and 30 days (the Banded book): 0.8 s against 1.9 s. On the
// 1M bench book's Parquet files under currency keys: 86 s, where Banded
// had not ended after 600 s (rounds from a cent: 9 s for the invoices;
// from a unit, 17 s; the 2,497 payments left compare every pair, 42-45 s).
type Widening struct {
	// Create makes the tables of the side's unmatched records (read by
	// every step: picking them from the side's records anew each time
	// took 0.1-0.2 s a step at 1M) and of settled near misses; Unsettled
	// counts the records still to settle; Finish writes the near misses of
	// all and drops the tables.
	Create    []string
	Unsettled string
	Finish    []string
	// Passing, for a comparison or a tolerance_pct (c passes values
	// however far apart), or for a c that is bounded where another
	// condition bands, are the ways to settle the records with a pair
	// passing every condition, at their closest among those: in the bands
	// of each condition that bands (a pair passing it is in its bands),
	// each the count of the pairs there and the statement; the engine
	// takes the way of the fewest. Empty otherwise. The rounds run only
	// after it: a record's closest within R failing one condition is then
	// its closest of all, since any farther pair fails one or more and
	// ranks after it on c. So the rounds of a bounded c start at the same
	// value, not at its threshold, within which every pair passes c: 30
	// days of a currency's records against the same day's, where the
	// amount within a cent bands far tighter.
	Passing [][2]string
	// PassingRounds, where Passing is set, are rounds before it: a round
	// of radius R (a count and a statement, as Round's) settles the
	// records whose closest within R on first passes every condition,
	// their closest of all, since a pair farther apart or failing one
	// ranks after it. The engine runs them as it runs Round's, from
	// Width and below Threshold where it is set, where Passing compares
	// many pairs, each while it compares at most 1/AheadShare of those,
	// and Passing then for the records left, which are fewer and far from
	// the others. The
	// 1M bench book's Parquet files under currency keys, 1:1 within 2% and
	// invoice_date on or after payment_date: Passing alone compared 1.4 and
	// 1.0 billion pairs in 37 and 22 s for the records left unmatched;
	// rounds to 2.56 and then Passing, 10.5 and 11.5 s.
	PassingRounds func(radius int64) (pairs, settle string)
	// Lookups, for a rule of a comparison of dates or timestamps and one
	// condition that bands, settle the records with a pair in its bands
	// passing it, or another record's value of the comparison, at their
	// closest among those and the others at the nearest values; nil
	// otherwise. Once the passing step has run, they take the rounds'
	// place.
	Lookups *Lookups
	// Apart, for a rule whose every condition besides its joins bands,
	// two or more (so InBands is set), where first's units hold its values
	// exactly, settles the records InBands leaves once it has run: a pair
	// passing a condition is in its bands, so every pair of those records
	// fails every condition, and their closest is the nearest on first
	// (then on the others, then the other record's id): among the others at
	// their nearest values below and above, by the lookups' Values and All
	// (Tied and Nearest empty). Currencies as keys, within a cent and 30
	// days, 1M invoices against 0.95M payments: 2,426 payments left after
	// the bands took 40.5 s comparing every pair sharing keys; nil
	// otherwise.
	Apart *Lookups
	// InBands, for a rule of two conditions or more that band, are the
	// count of the pairs in their bands for the records left after the
	// rounds, and the statement that settles those whose closest among the
	// pairs there passing a condition fails fewer conditions than band, as
	// Banded's do; empty otherwise.
	InBands [2]string
	// Width is the first round's radius: the threshold in the condition's
	// Unit, the finer decimal place of its columns (a day for dates), 0
	// for a comparison (a second for one of timestamps) and where Passing
	// comes first.
	Width int64
	// Threshold, where Passing comes first for a bounded c, is the radius
	// of c's threshold: where a round of it compares few pairs, the
	// engine starts there without the passing step (within it every pair
	// passes c, and a pair beyond it fails c), which costs less; else 0.
	Threshold int64
	Unit      *big.Rat
	// Units names the unit where the values are not numbers (days,
	// microseconds, nanoseconds); "" for numbers, counted in their own.
	Units string
	round func(radius int64) (pairs, settle string)
}

// Lookups are Widening's statements of that name. Values makes the table
// of the records' nearest values (see nearestOf) and Drop drops it. All
// and, where the other condition allows it, Nearest are each the count of
// the pairs a statement compares and that statement, which settles the
// records: All with every other record at those values, Nearest with the
// one nearest on the other condition at each (see nearestAmong), which
// pays where values tie: where Tied returns 1.
type Lookups struct {
	Values, Tied, Drop string
	All, Nearest       [2]string
}

// TiedBy is how many more pairs at the nearest values than values Tied
// asks for: below it comparing every pair there is the cheaper.
const TiedBy = 4

// Widening's rounds: the first of radius Width, each next WidenBy times
// the last, at most MaxRounds of them, each while it compares at most
// 1/RoundShare of the pairs that comparing every pair sharing keys would
// for the records left (see duckdb's widen).
const (
	WidenBy    = 16
	MaxRounds  = 8
	RoundShare = 4
	// BandsShare bounds the pairs in the bands (InBands) likewise.
	BandsShare = 1
)

// Round is a round of radius R units (see cond.inUnits), at least Width:
// the count of the pairs it compares, and the statement that settles
// records.
func (w *Widening) Round(radius int64) (pairs, settle string) { return w.round(radius) }

// Next is the radius of the round after one of radius R: WidenBy times R,
// or 1 after 0 (the first round of a threshold of 0); ok is false where it
// would overflow.
func Next(radius int64) (next int64, ok bool) {
	if radius == 0 {
		return 1, true
	}
	return radius * WidenBy, radius <= math.MaxInt64/WidenBy
}

// Distance is a radius as the condition's values write it (16 cents:
// 0.16), with the unit's name where they are not numbers (16 days).
func (w *Widening) Distance(radius int64) string { return distance(radius, w.Unit, w.Units) }

// distance is a radius of units as Distance writes it.
func distance(radius int64, unit *big.Rat, units string) string {
	text, _ := decimalText(new(big.Rat).Mul(big.NewRat(radius, 1), unit))
	switch {
	case units != "" && text == "1":
		text += " " + strings.TrimSuffix(units, "s")
	case units != "":
		text += " " + units
	}
	return text
}

// nearBanded holds a side's closest records among those in its bands (see
// NearMissSteps.Banded); nearFree the side's unmatched records, for
// Widening, and nearWide those it settled; nearValues the nearest values
// of Lookups.
const (
	nearBanded = "kalla_near_banded"
	nearFree   = "kalla_near_free"
	nearWide   = "kalla_near_wide"
	nearValues = "kalla_near_values"
)

// NearMisses renders rule k's near misses of side s.
func NearMisses(k int, r plan.Rule, s Side) NearMissSteps {
	l, rt := "u", "o"
	if s.Code == "R" {
		l, rt = "o", "u"
	}
	var joins, tests, failed, reasons, ranks, byRank, order []string
	var bands []bandOf
	// first is the first condition besides the joins that ranks pairs by a
	// distance; settles, that a round's closest has no empty operand in
	// the conditions before first, which rank a pair only by whether it
	// has one (and how many conditions it may fail, see roundOf).
	var first *cond
	var firstAt int // its index in the rule's conditions
	var settles []string
	carried := map[string][]string{"u": nil, "o": nil}
	carry := func(alias, name string) {
		if !slices.Contains(carried[alias], name) {
			carried[alias] = append(carried[alias], name)
		}
	}
	var keys [][2]string // each join key as the record (u) and the other (o) read it
	for i, c := range r.Conditions {
		sc := newCond(c, l, rt)
		if c.Join() {
			joins = append(joins, sc.Test())
			mine, theirs := sc.keys()
			if s.Code == "R" {
				mine, theirs = theirs, mine
			}
			keys = append(keys, [2]string{mine, theirs})
			continue
		}
		switch {
		case first != nil:
		case sc.Cost() == "":
			settles = append(settles, fmt.Sprintf("NOT m.r%d", i))
		default:
			first, firstAt = &sc, i
		}
		tests = append(tests, sc.Test())
		carry(l, c.Left.Name)
		carry(rt, c.Right.Name)
		if ub, ob, ok := sc.band(); ok {
			if s.Code == "R" {
				ub, ob = ob, ub // the record is the right operand
			}
			bands = append(bands, bandOf{record: ub, other: ob, test: sc.Test()})
		}
		failed = append(failed, fmt.Sprintf("CASE WHEN %s THEN 0 ELSE 1 END", sc.Test()))
		reasons = append(reasons, fmt.Sprintf("CASE WHEN NOT coalesce(%s, false) THEN %s END", sc.Test(), sc.Failure()))
		ranks = append(ranks, fmt.Sprintf("%s AS r%d", sc.NearMissRank(), i))
		byRank = append(byRank, fmt.Sprintf("r%d NULLS LAST", i))
		order = append(order, fmt.Sprintf("n%[1]d: r%[1]d IS NULL, r%[1]d: r%[1]d", i))
	}
	for _, name := range keyNames(s.OtherInput) {
		carry("o", name)
	}
	failedSum, reason := "0", "NULL"
	if len(failed) > 0 {
		failedSum = strings.Join(failed, " + ")
		// Every failed condition, in the order written.
		reason = "concat_ws('; ', " + strings.Join(reasons, ", ") + ")"
	}
	ids := []string{"u.__id AS id", "o.__id AS other", failedSum + " AS failed"}
	cols := slices.Clone(ids)
	for _, alias := range []string{"u", "o"} {
		if len(carried[alias]) > 0 {
			cols = append(cols, structOf(alias, carried[alias])+" AS "+alias)
		}
	}
	// joined is the records (u) and the other side's (o) joined on the
	// rule's keys and any more conditions.
	joined := func(records, other string, more ...string) string {
		return fmt.Sprintf("%s u JOIN %s o ON %s", records, other, strings.Join(append(slices.Clone(joins), more...), " AND "))
	}
	// countJoined counts the pairs of joined(records, other, ...) whose
	// conditions besides the keys are the equalities given, each of the
	// record's value (u) and the other's (o).
	countJoined := func(records, other string, more ...[2]string) string {
		return countJoined(records, "u", other, "o", append(slices.Clone(keys), more...))
	}
	// pairsOf is those pairs with the columns asked and the ranks.
	pairsOf := func(cols []string, records, other string, more ...string) string {
		return fmt.Sprintf("SELECT %s FROM %s", strings.Join(append(slices.Clone(cols), ranks...), ", "), joined(records, other, more...))
	}
	// restOf is the unmatched records (free) not among those settled.
	restOf := func(free, settled string) string {
		return fmt.Sprintf("(SELECT * FROM %s WHERE __id NOT IN (SELECT id FROM %s))", free, settled)
	}
	// Structs order as the window's ORDER BY once each rank is led by
	// whether it is NULL (NULLs last).
	key := append(append([]string{"failed: failed"}, order...), "other: other")
	steps := NearMissSteps{
		Each: fmt.Sprintf("INSERT INTO %s SELECT %s, id, %d, other, %s, failed, %s FROM (%s) QUALIFY row_number() OVER (PARTITION BY id ORDER BY %s) = 1",
			Near, String(s.Code), k, keyText("o", s.OtherInput), reason, pairsOf(cols, unmatched(s), s.Other),
			strings.Join(append(append([]string{"failed"}, byRank...), "other"), ", ")),
	}
	// closest is each record's closest among pairs (id, m), m a struct
	// of the key.
	closest := func(pairs string) string {
		return fmt.Sprintf("SELECT id, min({%s}) AS m FROM (%s) GROUP BY id", strings.Join(key, ", "), pairs)
	}
	// insert writes the near misses of chosen pairs (id, other), reading
	// both records.
	insert := func(chosen string) string {
		return fmt.Sprintf("INSERT INTO %s SELECT %s, c.id, %d, c.other, %s, %s, %s FROM (%s) c JOIN %s u ON u.__id = c.id JOIN %s o ON o.__id = c.other",
			Near, String(s.Code), k, keyText("o", s.OtherInput), failedSum, reason, chosen, s.Table, s.Other)
	}
	// settledWith writes the near misses of the records settled in table
	// and, for the others, of every pair sharing keys.
	settledWith := func(free, settled string) string {
		return insert(fmt.Sprintf("SELECT id, m.other AS other FROM (%s UNION ALL %s)", settled, closest(pairsOf(ids, restOf(free, "("+settled+")"), s.Other))))
	}
	steps.Coarse = insert(fmt.Sprintf("SELECT id, m.other AS other FROM (%s)", closest(pairsOf(ids, unmatched(s), s.Other))))
	// inBandsOf is the pairs of records in each condition's bands that
	// pass it, as their closest (id, m) and their count before the test.
	inBandsOf := func(records string) (closestThere, count string) {
		var banded, counted []string
		for _, b := range bands {
			other := inBands(s.Other, "o", b.other)
			banded = append(banded, pairsOf(ids, records, other, b.record+" = o.__band", b.test))
			counted = append(counted, "("+countJoined(records, other, [2]string{b.record, "o.__band"})+")")
		}
		return closest(strings.Join(banded, " UNION ALL ")), "SELECT " + strings.Join(counted, " + ")
	}
	if len(bands) >= 2 {
		closestThere, _ := inBandsOf(unmatched(s))
		// A pair outside the bands fails every condition that bands.
		steps.Banded = []string{
			fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", nearBanded, closestThere),
			settledWith(unmatched(s), fmt.Sprintf("SELECT * FROM %s WHERE m.failed < %d", nearBanded, len(bands))),
			"DROP TABLE " + nearBanded,
		}
	}
	if nearest, ok := nearestValues(r, s, keys); ok {
		steps.Nearest = insert(nearest)
	}
	if first == nil {
		return steps
	}
	// A pair farther apart than a radius may pass a comparison: its rounds
	// need the records with a pair passing every condition settled first,
	// among the pairs in the bands of a condition that bands.
	if ul, ur, w, unit, ok := first.inUnits(true); ok && (first.bounded() || len(bands) > 0) {
		if s.Code == "R" {
			ul, ur = ur, ul // the record is the right operand
		}
		rest := restOf(nearFree, nearWide)
		steps.Widening = &Widening{
			Create: []string{fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s", nearFree, unmatched(s)),
				fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM (%s) WHERE false", nearWide, closest(pairsOf(ids, nearFree, s.Other)))},
			Unsettled: "SELECT count(*) FROM " + rest,
			Finish:    []string{settledWith(nearFree, "SELECT * FROM "+nearWide), "DROP TABLE " + nearWide, "DROP TABLE " + nearFree},
			Width:     w,
			Unit:      unit,
			Units:     first.units(),
			// A round joins the records left on their values, or on bands
			// of the radius, each record in its band and the two beside it
			// (the records left are fewer than the others, mostly: the
			// others so tripled took 0.3-0.55 s a round at 1M, against
			// 0.1-0.3 s). It counts the pairs it so makes from each side's
			// records per key and band: counting those within the radius
			// made them (590 million, 3.5 s, where the round then did not
			// run; 1.5 billion, 15 s, in a round of the threshold).
		}
		// roundOf is the round of a radius settling the records whose
		// closest within it fails at most failing conditions. Only the
		// pairs failing that many or fewer reach the aggregate: a record
		// with one has its closest among them, and one without settles
		// not. Under currencies, within a cent and 30 days, 1M invoices:
		// 1.6 of 34.7 million pairs, the round 1.0-1.4 s against 1.8-2.1 s.
		roundOf := func(radius int64, failing int, settles []string) (string, string) {
			records, eq := rest, [2]string{ul, ur}
			if radius > 0 {
				records = inBands(rest, "u", fmt.Sprintf("%s // %d", ul, radius))
				eq = [2]string{"u.__band", fmt.Sprintf("%s // %d", ur, radius)}
			}
			within := []string{eq[0] + " = " + eq[1], fmt.Sprintf("%s <= %s", first.NearMissRank(), Decimal(new(big.Rat).Mul(big.NewRat(radius, 1), unit)))}
			pairs := fmt.Sprintf("SELECT * FROM (%s) WHERE failed <= %d", pairsOf(ids, records, s.Other, within...), failing)
			settled := append([]string{fmt.Sprintf("m.failed <= %d", failing)}, settles...)
			return countJoined(records, s.Other, eq),
				fmt.Sprintf("INSERT INTO %s SELECT * FROM (%s) WHERE %s", nearWide, closest(pairs), strings.Join(settled, " AND "))
		}
		steps.Widening.round = func(radius int64) (string, string) { return roundOf(radius, 1, settles) }
		// The nearest values on first of the records left (by ASOF joins
		// on cmps, see nearestOf) are a table, read by the count and the
		// statement that settles. Each record beside each of its values
		// (__v) joins the others there, the pairs streaming into the
		// aggregate: their count, and each record's closest among them.
		nearestValuesBy := func(cmps ...string) string {
			return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", nearValues, nearestOf(rest, s.Other, keys, ul, ur, cmps...))
		}
		valued := fmt.Sprintf("(SELECT u.*, n.v AS __v FROM %s u JOIN %s n ON n.id = u.__id)", rest, nearValues)
		atValue := [2]string{"u.__v", ur}
		atCount, atClosest := countJoined(valued, s.Other, atValue), closest(pairsOf(ids, valued, s.Other, atValue[1]+" = "+atValue[0]))
		// The records left beside the others in the bands of a condition
		// that bands: the others, the join, and the count of the pairs.
		inBandOf := func(b bandOf) (other, in, count string) {
			other = inBands(s.Other, "o", b.other)
			return other, b.record + " = o.__band", countJoined(rest, other, [2]string{b.record, "o.__band"})
		}
		other, in, inCount := inBandOf(bands[0]) // first's own where it is bounded
		if !first.bounded() || len(bands) > 1 && w > 0 {
			for _, b := range bands {
				other, in, count := inBandOf(b)
				steps.Widening.Passing = append(steps.Widening.Passing, [2]string{count,
					fmt.Sprintf("INSERT INTO %s %s", nearWide, closest(pairsOf(ids, rest, other, append([]string{in}, tests...)...)))})
			}
			if first.bounded() {
				steps.Widening.Width, steps.Widening.Threshold = 0, w
			}
			// A pair passing every condition has no empty operand, so the
			// conditions before first rank it alike.
			steps.Widening.PassingRounds = func(radius int64) (string, string) { return roundOf(radius, 0, nil) }
		}
		if len(tests) == 2 && len(bands) == 1 && len(settles) == 0 && first.comparison() && plan.Classify(first.Left.Type) == plan.Temporal {
			// The comparison, then one condition that bands: once the
			// passing step has run, a record's closest is among the pairs
			// failing the comparison alone (in the bands, passing the
			// other), those at the nearest value passing it (failing the
			// other alone) and, where every pair fails both, those at the
			// nearest value either way.
			lookups := func(count, atPairs string) [2]string {
				return [2]string{fmt.Sprintf("SELECT (%s) + (%s)", inCount, count),
					fmt.Sprintf("INSERT INTO %s SELECT id, min(m) AS m FROM (%s UNION ALL %s) GROUP BY id", nearWide,
						closest(pairsOf(ids, rest, other, in, bands[0].test)), atPairs)}
			}
			steps.Widening.Lookups = &Lookups{
				Values: nearestValuesBy(passing(first.Op, s.Code), ">=", "<="),
				All:    lookups(atCount, atClosest),
				Drop:   "DROP TABLE " + nearValues,
			}
			// At one value every pair ranks alike on the comparison, so
			// the closest there is the one nearest on the other condition:
			// nearestValues' choice with the value as one more key.
			if chosen, ok := nearestAmong(valued, slices.Delete(slices.Clone(r.Conditions), firstAt, firstAt+1), s, append(slices.Clone(keys), atValue), true); ok {
				values := "SELECT count(*) FROM " + nearValues // a pair a value
				steps.Widening.Lookups.Tied = fmt.Sprintf("SELECT CAST((%s) > %d * (%s) AS BIGINT)", atCount, TiedBy, values)
				steps.Widening.Lookups.Nearest = lookups(values, closest(pairsOf(ids,
					fmt.Sprintf("(SELECT u.*, c.other AS __other FROM %s u JOIN (%s) c ON c.id = u.__id)", rest, chosen), s.Other, "o.__id = u.__other")))
			}
		}
		if len(bands) >= 2 {
			closestThere, count := inBandsOf(rest)
			steps.Widening.InBands = [2]string{count, fmt.Sprintf("INSERT INTO %s SELECT * FROM (%s) WHERE m.failed < %d", nearWide, closestThere, len(bands))}
		}
		if len(bands) >= 2 && len(bands) == len(tests) && first.exactUnits() {
			steps.Widening.Apart = &Lookups{
				Values: nearestValuesBy(">=", "<="),
				All:    [2]string{atCount, fmt.Sprintf("INSERT INTO %s %s", nearWide, atClosest)},
				Drop:   "DROP TABLE " + nearValues,
			}
		}
	}
	return steps
}

// passing is the operator with which the record's value (u.v) and the
// other's (o.v) pass a comparison op of side code's records: an ASOF join
// on it finds the nearest other value that passes.
func passing(op kallav1.Operator, code string) string {
	ops := map[kallav1.Operator][2]string{
		kallav1.Operator_OPERATOR_GT: {">", "<"}, kallav1.Operator_OPERATOR_GTE: {">=", "<="},
		kallav1.Operator_OPERATOR_LT: {"<", ">"}, kallav1.Operator_OPERATOR_LTE: {"<=", ">="},
	}[op]
	if code == "R" {
		return ops[1] // the record is the right operand
	}
	return ops[0]
}

// nearestOf is, for each record of records, the values (id, v) of the
// others sharing its keys nearest its own, one by an ASOF join on each of
// cmps (">=": the nearest below it or equal; a comparison's passing
// operator: the nearest that passes), the values read as mine (u) and
// theirs (o). Empty values and keys stay out of the ASOF joins, as in
// nearestValues.
func nearestOf(records, others string, keys [][2]string, mine, theirs string, cmps ...string) string {
	ucols, ocols, _, semi, same, present := asofKeys(keys)
	near := make([]string, len(cmps))
	for i, cmp := range cmps {
		near[i] = fmt.Sprintf("SELECT u.__id AS id, o.v FROM (SELECT * FROM u WHERE v IS NOT NULL AND %s) u ASOF JOIN o ON %s AND u.v %s o.v",
			strings.Join(present, " AND "), strings.Join(same, " AND "), cmp)
	}
	return fmt.Sprintf("WITH u AS (SELECT u.__id, %[1]s, %[2]s AS v FROM %[3]s u), "+
		"o AS (SELECT %[4]s, %[5]s AS v FROM %[6]s o SEMI JOIN u ON %[7]s WHERE v IS NOT NULL GROUP BY ALL) %[8]s",
		strings.Join(ucols, ", "), mine, records, strings.Join(ocols, ", "), theirs, others,
		strings.Join(semi, " AND "), strings.Join(near, " UNION "))
}

// bandOf is a condition that bands, as NearMisses reads it: the band of
// the record (u) and of the other (o), and the condition's test.
type bandOf struct{ record, other, test string }

// unmatched is the records of side s in no pair, as a subquery.
func unmatched(s Side) string { return free(s.Table, s.ID) }

// free is the records of a side's table in no pair, id naming the side's
// column of Pairs (lid or rid), as a subquery.
func free(table, id string) string {
	return fmt.Sprintf("(SELECT * FROM %s WHERE __id NOT IN (SELECT %s FROM %s))", table, id, Pairs)
}

// countJoined counts the pairs of records of left (aliased la) and right
// (ra) whose values are equal in each of eqs (an expression of la's record
// and one of ra's): from each side's records per value, without making the
// pairs (an equi-join's size).
func countJoined(left, la, right, ra string, eqs [][2]string) string {
	var mine, theirs, on []string
	for i, eq := range eqs {
		mine = append(mine, fmt.Sprintf("%s AS j%d", eq[0], i))
		theirs = append(theirs, fmt.Sprintf("%s AS j%d", eq[1], i))
		on = append(on, fmt.Sprintf("%[2]s.j%[1]d = %[3]s.j%[1]d", i, la, ra))
	}
	return fmt.Sprintf("SELECT CAST(coalesce(sum(%[1]s.n * %[2]s.n), 0) AS BIGINT) FROM (SELECT %[3]s, count(*) AS n FROM %[4]s %[1]s GROUP BY ALL) %[1]s JOIN (SELECT %[5]s, count(*) AS n FROM %[6]s %[2]s GROUP BY ALL) %[2]s ON %[7]s",
		la, ra, strings.Join(mine, ", "), left, strings.Join(theirs, ", "), right, strings.Join(on, " AND "))
}

// nearestValues chooses the near misses of a rule with one condition
// besides its joins, ranked by the distance between two values (a
// tolerance or a tolerance_pct on exact numbers, a date_within), whose
// passing values for a record lie in an interval around the record's own:
// the rule's order (failed, then the rank) is then met by the nearest value
// sharing its keys, the one below it or the one above (ASOF joins over
// each key's distinct values, each with its smallest id): the one passing,
// else the nearer, the smaller id at equal distance. A tolerance_pct's
// interval for a right record r is [r/(1+f), r/(1-f)] (r > 0), not around
// r once f = threshold/100 passes 1: there the right side is not of that
// kind. Where the record's value or every other record's is empty, every
// rank is NULL and the smallest id sharing its keys is chosen.
// NearMissSteps' Each and Coarse compare each record with every record
// sharing its keys; this looks at two, whatever the key's size, reading
// only the other records that share keys with an unmatched record. It
// returns the query of the chosen pairs (id, other), and whether the rule
// is of that kind.
func nearestValues(r plan.Rule, s Side, keys [][2]string) (chosen string, ok bool) {
	return nearestAmong(unmatched(s), r.Conditions, s, keys, false)
}

// nearestAmong is nearestValues' choice for the records given, under the
// conditions given; with perKeys, one chosen pair for each record and
// value of its keys, which may then be more than the rule's joins (see
// Lookups).
func nearestAmong(records string, conditions []plan.Condition, s Side, keys [][2]string, perKeys bool) (chosen string, ok bool) {
	var value [2]string
	var distance string
	fails := "false" // whether the pair of u.v and o.v fails, where distance alone does not say
	// Each operand as the record (u) and the other (o) read it.
	ours := func(l, r string) (u, o string) {
		if s.Code == "R" {
			return r, l
		}
		return l, r
	}
	for _, c := range conditions {
		sc := newCond(c, "u", "o")
		if s.Code == "R" {
			sc = newCond(c, "o", "u")
		}
		ue, oe := ours(sc.l, sc.r)
		uc, oc := c.Left, c.Right // their columns
		if s.Code == "R" {
			uc, oc = c.Right, c.Left
		}
		switch {
		case c.Join():
			continue
		case distance != "":
			return "", false // a second condition
		case c.Op == kallav1.Operator_OPERATOR_TOLERANCE && exactNumber(c.Left) && exactNumber(c.Right):
			if c.Left.Type == source.Integer && c.Right.Type == source.Integer {
				ue, oe = "CAST("+ue+" AS HUGEINT)", "CAST("+oe+" AS HUGEINT)"
			}
			if narrowBoth(uc, oc) { // see cond.arithmetic
				ue, oe = wide(ue, uc), wide(oe, oc)
			}
			value, distance = [2]string{ue, oe}, "abs(u.v - o.v)"
		case c.Op == kallav1.Operator_OPERATOR_TOLERANCE_PCT && exactNumber(c.Left) && exactNumber(c.Right):
			// A right record passes with the left values of an interval
			// around its own only up to 100%: past it, with those of the
			// other sign far enough from 0 too.
			if s.Code == "R" && c.Threshold.Cmp(big.NewRat(100, 1)) > 0 {
				return "", false
			}
			l, r := "u.v", "o.v" // the left value, the right one
			if s.Code == "R" {
				l, r = "o.v", "u.v"
			}
			value, distance = [2]string{wide(ue, uc), wide(oe, oc)}, "abs(u.v - o.v)"
			fails = fmt.Sprintf("abs(%s - %s) * 100 > %s * abs(%[1]s)", l, r, Decimal(c.Threshold))
		case c.Op == kallav1.Operator_OPERATOR_DATE_WITHIN:
			value, distance = [2]string{"CAST(" + ue + " AS DATE)", "CAST(" + oe + " AS DATE)"}, "abs(date_diff('day', u.v, o.v))"
		default:
			return "", false
		}
	}
	if distance == "" {
		return "", false
	}
	ucols, ocols, ks, semi, same, present := asofKeys(keys)
	on := strings.Join(same, " AND ")
	// n's choice is per record, or per record and keys.
	mine, nKeys, nOn := "u.__id", "__id", "n.__id = u.__id"
	for _, k := range ks {
		if perKeys {
			mine, nKeys = mine+", u."+k, nKeys+", "+k
			nOn += fmt.Sprintf(" AND n.%[1]s = u.%[1]s", k)
		}
	}
	// Empty values and keys stay out of the ASOF joins: past 64 records
	// DuckDB's (1.5) sorts, and matches an empty value to the largest or
	// the smallest.
	near := func(cmp string) string {
		return fmt.Sprintf("SELECT %s, %s AS f, %s AS d, o.id FROM (SELECT * FROM u WHERE v IS NOT NULL AND %s) u ASOF JOIN o ON %s AND u.v %s o.v",
			mine, fails, distance, strings.Join(present, " AND "), on, cmp)
	}
	chosen = fmt.Sprintf("WITH u AS (SELECT u.__id, %[1]s, %[2]s AS v FROM %[3]s u), "+
		"s AS (SELECT o.__id, %[4]s, %[5]s AS v FROM %[6]s o SEMI JOIN u ON %[7]s), "+
		"o AS (SELECT %[8]s, v, min(__id) AS id FROM s WHERE v IS NOT NULL GROUP BY ALL), "+
		"g AS (SELECT %[8]s, min(__id) AS id FROM s GROUP BY ALL), "+
		"n AS (SELECT %[12]s, min({f: f, d: d, id: id}).id AS id FROM (%[9]s UNION ALL %[10]s) GROUP BY %[12]s) "+
		"SELECT u.__id AS id, coalesce(n.id, o.id) AS other FROM u JOIN g o ON %[11]s LEFT JOIN n ON %[13]s",
		strings.Join(ucols, ", "), value[0], records, strings.Join(ocols, ", "), value[1], s.Other,
		strings.Join(semi, " AND "), strings.Join(ks, ", "), near(">="), near("<="), on, nKeys, nOn)
	return chosen, true
}

// asofKeys are the parts of the ASOF joins of nearestValues and
// nearestOf, for join keys read as the record (u) and the other (o) read
// them: each as k<i> of u's and of o's, their names, o's semi join on u,
// their equality, and that u's are not empty.
func asofKeys(keys [][2]string) (ucols, ocols, ks, semi, same, present []string) {
	for i, key := range keys {
		present = append(present, fmt.Sprintf("k%d IS NOT NULL", i))
		ucols = append(ucols, fmt.Sprintf("%s AS k%d", key[0], i))
		ocols = append(ocols, fmt.Sprintf("%s AS k%d", key[1], i))
		ks = append(ks, fmt.Sprintf("k%d", i))
		semi = append(semi, fmt.Sprintf("%s = u.k%d", key[1], i))
		same = append(same, fmt.Sprintf("u.k%[1]d = o.k%[1]d", i))
	}
	return ucols, ocols, ks, semi, same, present
}

// exactNumber says whether a column's values compare exactly: integers and
// decimals not stored as floating point.
func exactNumber(c source.Column) bool {
	return (c.Type == source.Integer || c.Type == source.Decimal) && !c.Float
}

// keyNames names the columns keyText reads of a record of in.
func keyNames(in plan.Input) []string {
	if len(in.Key) == 0 {
		return []string{"__id"}
	}
	names := make([]string, len(in.Key))
	for i, c := range in.Key {
		names[i] = c.Name
	}
	return names
}

// structOf packs the named columns of the row alias into a struct, whose
// fields read as the columns did: alias."name".
func structOf(alias string, names []string) string {
	fields := make([]string, len(names))
	for i, n := range names {
		fields[i] = fmt.Sprintf("%s: %s", String(n), alias+"."+Ident(n))
	}
	return "{" + strings.Join(fields, ", ") + "}"
}

// sideType is the evidence's side column: an ENUM, which the Parquet writer
// encodes far faster than text and which reads back as text.
var sideType = enum("left", "right")

// Matched selects one row per member of every match group, in match order.
// Match ids count the groups rule by rule, each rule's after the groups of
// the rules before it (from Counts), within a rule in grp order (its
// smallest left id). A 1:1 rule's pairs give both members at once; the
// members of other rules are gathered side by side, a member's deltas
// those of its best pair in the group. A member of a source without a key
// read from several files also names its file and its record's number
// there, as Unmatched does. It reads Pairs as SortPairs left them.
func Matched(p *plan.Plan) string {
	var pairRules, groupRules []int
	for k, r := range p.Rules {
		if r.Pattern == kallav1.Pattern_PATTERN_ONE_TO_ONE {
			pairRules = append(pairRules, k)
		} else {
			groupRules = append(groupRules, k)
		}
	}
	var members []string
	if len(pairRules) > 0 {
		members = append(members, pairMembers(p, pairRules))
	}
	if len(groupRules) > 0 {
		members = append(members, groupMembers(p, groupRules))
	}
	var spans []string
	left, right := Sides(p)
	for _, s := range []Side{left, right} {
		if span := fileSpans(s.Input, fmt.Sprintf("CAST(%s AS %s), ", String(s.Name), sideType)); span != "" {
			spans = append(spans, span)
		}
	}
	files, fileCols := "", ""
	if len(spans) > 0 {
		fileCols = fmt.Sprintf(", mf.name AS %s, x.id - mf.first + 1 AS %s", Ident(FileColumn), Ident(FileRowColumn))
		files = " ASOF LEFT JOIN (VALUES " + strings.Join(spans, ", ") + ") mf(side, first, name) ON x.side = mf.side AND x.id >= mf.first"
	}
	return fmt.Sprintf("WITH o AS (SELECT rule_idx, coalesce(sum(groups) OVER (ORDER BY rule_idx ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS first FROM %s) SELECT CAST(o.first + x.n AS BIGINT) AS match_id, ru.name AS rule, ru.pattern, x.side, x.key, x.deltas%s FROM (%s) x JOIN o USING (rule_idx) JOIN %s ru USING (rule_idx)%s ORDER BY match_id, x.side, x.id",
		Counts, fileCols, strings.Join(members, " UNION ALL "), Rules, files)
}

// matchedPairs selects the pairs of the rules listed with both records'
// keys as text and the deltas of their rule's conditions.
func matchedPairs(p *plan.Plan, rules []int) string {
	list := make([]string, len(rules))
	whens := make([]string, len(rules))
	for i, k := range rules {
		list[i] = fmt.Sprint(k)
		whens[i] = fmt.Sprintf(" WHEN %d THEN %s", k, deltas(p.Rules[k]))
	}
	d := deltas(p.Rules[rules[0]])
	if len(rules) > 1 {
		d = "CASE p.rule_idx" + strings.Join(whens, "") + " END"
	}
	return fmt.Sprintf("SELECT p.rule_idx, p.grp, p.lid, p.rid, p.ord, p.rowid AS pos, %s AS lkey, %s AS rkey, %s AS deltas FROM %s p JOIN %s l ON l.__id = p.lid JOIN %s r ON r.__id = p.rid WHERE p.rule_idx IN (%s)",
		keyText("l", p.Left), keyText("r", p.Right), d, Pairs, Left, Right, strings.Join(list, ", "))
}

// pairMembers gives both members of each pair of the 1:1 rules listed,
// numbered (n) by grp within their rule: by their place in Pairs, which
// SortPairs left in rule and grp order, one pair to a group.
func pairMembers(p *plan.Plan, rules []int) string {
	return fmt.Sprintf("SELECT rule_idx, n, unnest([CAST('left' AS %[1]s), CAST('right' AS %[1]s)]) AS side, unnest([lid, rid]) AS id, unnest([lkey, rkey]) AS key, deltas FROM (SELECT rule_idx, pos + 1 - b.first AS n, lid, rid, lkey, rkey, deltas FROM (%[2]s) JOIN (SELECT rule_idx, min(rowid) AS first FROM %[3]s GROUP BY rule_idx) b USING (rule_idx))",
		sideType, matchedPairs(p, rules), Pairs)
}

// SortPairs rewrites Pairs in rule and grp order, so that Matched numbers
// a 1:1 rule's pairs by their place: a window numbering them would sort
// the pairs joined to their keys and deltas, where this sorts five
// numbers a pair. It is empty for a plan without a 1:1 rule.
func SortPairs(p *plan.Plan) string {
	if !slices.ContainsFunc(p.Rules, func(r plan.Rule) bool { return r.Pattern == kallav1.Pattern_PATTERN_ONE_TO_ONE }) {
		return ""
	}
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %[1]s AS SELECT * FROM %[1]s ORDER BY rule_idx, grp", Pairs)
}

// groupMembers gives one row per member of each group of the rules listed
// (1:N, M:1, M:N), numbered (n) by grp within their rule. Both sides read
// the matched pairs once, materialized (mp): their joins and deltas are the
// dear part.
func groupMembers(p *plan.Plan, rules []int) string {
	member := func(side, id, key string, repeats bool) string {
		if repeats {
			return fmt.Sprintf("SELECT rule_idx, grp, CAST('%[1]s' AS %[4]s) AS side, %[2]s AS id, %[3]s AS key, arg_min(deltas, ord) AS deltas FROM mp GROUP BY rule_idx, grp, %[2]s, %[3]s",
				side, id, key, sideType)
		}
		return fmt.Sprintf("SELECT rule_idx, grp, CAST('%[1]s' AS %[4]s) AS side, %[2]s AS id, %[3]s AS key, deltas FROM mp", side, id, key, sideType)
	}
	return fmt.Sprintf("SELECT rule_idx, dense_rank() OVER (PARTITION BY rule_idx ORDER BY grp) AS n, side, id, key, deltas FROM (WITH mp AS MATERIALIZED (%s) %s UNION ALL %s)",
		matchedPairs(p, rules), member("left", "lid", "lkey", repeats(p, kallav1.Pattern_PATTERN_ONE_TO_MANY)), member("right", "rid", "rkey", repeats(p, kallav1.Pattern_PATTERN_MANY_TO_ONE)))
}

// repeats reports whether a record of one side can be in several pairs of
// one group: its side is the "one" of a 1:N (left) or M:1 (right) rule
// (given as oneSide), or any side of an M:N rule. Only then do members need
// grouping; a 1:1 pair is its own member on both sides.
func repeats(p *plan.Plan, oneSide kallav1.Pattern) bool {
	return slices.ContainsFunc(p.Rules, func(r plan.Rule) bool {
		return r.Pattern == oneSide || r.Pattern == kallav1.Pattern_PATTERN_MANY_TO_MANY
	})
}

// Unmatched selects side s's records in no match, with their original
// columns and their near miss (rule, other key, reason and how many of the
// rule's non-join conditions failed), in key order. A record of a source
// without a key read from several files also names its file and its
// record's number there, and so does a near miss of such a source.
func Unmatched(p *plan.Plan, s Side) string {
	cols := make([]string, 0, len(s.Input.Schema.Columns)+3)
	files := ""
	if len(s.Input.Key) == 0 {
		cols = append(cols, "u.__id AS "+Ident(RowColumn))
		if spans := fileSpans(s.Input, ""); spans != "" {
			cols = append(cols, "kf.name AS "+Ident(FileColumn), "u.__id - kf.first + 1 AS "+Ident(FileRowColumn))
			files = " ASOF LEFT JOIN (VALUES " + spans + ") kf(first, name) ON u.__id >= kf.first"
		}
	}
	for _, c := range s.Input.Schema.Columns {
		cols = append(cols, col("u", c))
	}
	// A near miss that failed no condition and was not matched went, in a
	// 1:N or M:1 rule, to a better record of this side whose group failed:
	// this record had no group to check.
	reason := fmt.Sprintf("CASE WHEN n.failed > 0 THEN n.reason WHEN om.rule_idx IS NOT NULL THEN %[1]s || ' ' || %[2]s || ' was matched by rule ' || omr.name || ' instead' WHEN a.reason IS NOT NULL THEN a.reason WHEN n.id IS NOT NULL THEN %[1]s || ' ' || %[2]s || ' joined another ' || %[4]s || ' record under rule ' || nr.name || ', whose group did not pass the aggregate check' ELSE %[3]s END",
		String(s.OtherInput.Alias), "n.other_key", noCandidate(p.Rules, s), String(s.Input.Alias))
	// The rule that matched the near miss instead; a record is in one rule's
	// pairs only, and in one pair unless its side repeats. Only pairs of
	// near misses are kept, so the join does not hash every pair.
	otherMatched := fmt.Sprintf("SELECT %[1]s AS id, rule_idx FROM %[2]s WHERE %[1]s IN (SELECT other FROM %[3]s WHERE side = %[4]s)", s.OtherID, Pairs, Near, String(s.Code))
	if s.OtherRepeats {
		otherMatched = "SELECT DISTINCT" + strings.TrimPrefix(otherMatched, "SELECT")
	}
	near := ""
	if spans := fileSpans(s.OtherInput, ""); spans != "" {
		near = fmt.Sprintf(", nf.name AS %s, n.other - nf.first + 1 AS %s", Ident(NearFileColumn), Ident(NearFileRowColumn))
		files += " ASOF LEFT JOIN (VALUES " + spans + ") nf(first, name) ON n.other >= nf.first"
	}
	// The unmatched records are picked first, so the joins that describe
	// them see only those (DuckDB otherwise joins every record, then drops).
	return fmt.Sprintf("SELECT %[1]s, nr.name AS kalla_near_rule, n.other_key AS kalla_near_key%[12]s, %[2]s AS kalla_near_reason, n.failed AS kalla_near_failed FROM (SELECT * FROM %[3]s WHERE __id NOT IN (SELECT %[9]s FROM %[8]s)) u LEFT JOIN %[4]s n ON n.side = %[5]s AND n.id = u.__id%[11]s LEFT JOIN %[6]s nr ON nr.rule_idx = n.rule_idx LEFT JOIN (%[7]s) om ON om.id = n.other LEFT JOIN %[6]s omr ON omr.rule_idx = om.rule_idx LEFT JOIN %[10]s a ON a.rule_idx = n.rule_idx AND a.side = %[5]s AND a.id = u.__id ORDER BY u.__id",
		strings.Join(cols, ", "), reason, s.Table, Near, String(s.Code), Rules, otherMatched, Pairs, s.ID, AggMisses, files, near)
}

// fileSpans lists, for a source without a key read from several files,
// the row number each file's records start at and its name, as VALUES
// rows, each after lead; empty for a source of one file or with a key.
// Files without records start nowhere.
func fileSpans(in plan.Input, lead string) string {
	schema := in.Schema
	if len(schema.FileRows) < 2 || len(in.Key) > 0 {
		return ""
	}
	var spans []string
	first := int64(1)
	for i, rows := range schema.FileRows {
		if rows > 0 {
			spans = append(spans, fmt.Sprintf("(%s%d, %s)", lead, first, String(filepath.Base(schema.Files[i]))))
		}
		first += rows
	}
	return strings.Join(spans, ", ")
}

// noCandidate says, for a record of side s with no near miss, which join
// keys no record of the other side shares with it: one clause per distinct
// set of keys, naming its rules; the keys of the record's that are empty
// are named as such. Each clause's text is a constant but for empty keys,
// so a record of a plan whose rules share their keys costs no string
// building.
func noCandidate(rules []plan.Rule, s Side) string {
	// One clause per distinct text of keys, in rule order.
	type clause struct {
		keys string
		// own names the record's keys as reasons do (plan.Input.Described).
		own, isNull []string
		rules       []string
	}
	var clauses []*clause
	byKeys := map[string]*clause{}
	for _, r := range rules {
		var keys, own, isNull []string
		for _, c := range r.Conditions {
			if !c.Join() {
				continue
			}
			mine, mineName, theirsName := c.Left, plan.SignedName(c.Left.Name, c.LeftReversed), plan.SignedName(c.Right.Name, c.RightReversed)
			if s.Code == "R" {
				mine, mineName, theirsName = c.Right, theirsName, mineName
			}
			eq := theirsName + " equal to its " + mineName
			if c.Op == kallav1.Operator_OPERATOR_EQ_CI {
				eq += " ignoring case"
			}
			keys = append(keys, eq)
			if described := s.Input.Described(mine.Name); !slices.Contains(own, described) {
				own = append(own, described)
				empty := col("u", mine) + " IS NULL"
				if c.Op == kallav1.Operator_OPERATOR_EQ_CI {
					empty = fmt.Sprintf("(%s OR %s = '')", empty, folded(col("u", mine)))
				}
				isNull = append(isNull, empty)
			}
		}
		k := strings.Join(keys, " and ")
		if byKeys[k] == nil {
			byKeys[k] = &clause{keys: k, own: own, isNull: isNull}
			clauses = append(clauses, byKeys[k])
		}
		byKeys[k].rules = append(byKeys[k].rules, r.Name)
	}
	texts := make([]string, len(clauses))
	for i, c := range clauses {
		which := " (rule " + c.rules[0] + ")"
		if len(c.rules) > 1 {
			which = " (rules " + strings.Join(c.rules, ", ") + ")"
		}
		texts[i] = fmt.Sprintf("CASE WHEN %s THEN %s ELSE %s END", strings.Join(c.isNull, " OR "),
			emptyKeys(c.own, c.isNull, s.OtherInput.Alias, which),
			String("no "+s.OtherInput.Alias+" record has "+c.keys+which))
	}
	return strings.Join(texts, " || '; ' || ")
}

// emptyKeys says which of a record's join keys (names, each empty where
// its isNull holds) are empty, so that no record of other can share them.
func emptyKeys(names, isNull []string, other, which string) string {
	if len(names) == 1 {
		return String("its " + names[0] + " is empty, so no " + other + " record can share it" + which)
	}
	empty := make([]string, len(names))
	count := make([]string, len(names))
	for i, name := range names {
		empty[i] = fmt.Sprintf("CASE WHEN %s THEN %s END", isNull[i], String(name))
		count[i] = fmt.Sprintf("CAST(%s AS INTEGER)", isNull[i])
	}
	return fmt.Sprintf("CASE WHEN %s > 1 THEN 'its ' || concat_ws(' and ', %s) || %s ELSE 'its ' || concat_ws('', %s) || %s END",
		strings.Join(count, " + "), strings.Join(empty, ", "), String(" are empty, so no "+other+" record can share them"+which),
		strings.Join(empty, ", "), String(" is empty, so no "+other+" record can share it"+which))
}

// BestNearMisses keeps, per record, the near miss with the fewest failed
// conditions, earliest rule first on ties. It is empty for a plan of one
// rule, whose records have one near miss at most.
func BestNearMisses(p *plan.Plan) string {
	if len(p.Rules) < 2 {
		return ""
	}
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %[1]s AS SELECT * FROM %[1]s QUALIFY row_number() OVER (PARTITION BY side, id ORDER BY failed, rule_idx) = 1", Near)
}

// RuleCounts stores in Counts, per rule: groups, left and right records
// matched. A 1:1 rule's pairs are its groups and each of its records is in
// one pair, so counting its pairs is enough; other patterns count distinct
// ids, which costs a hash table each.
func RuleCounts(p *plan.Plan) string {
	parts := make([]string, len(p.Rules))
	for k, r := range p.Rules {
		counts := "count(DISTINCT grp), count(DISTINCT lid), count(DISTINCT rid)"
		if r.Pattern == kallav1.Pattern_PATTERN_ONE_TO_ONE {
			counts = "count(*), count(*), count(*)"
		}
		parts[k] = fmt.Sprintf("SELECT %d AS rule_idx, %s FROM %s WHERE rule_idx = %d", k, counts, Pairs, k)
	}
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (rule_idx, groups, left_matched, right_matched) AS %s", Counts, strings.Join(parts, " UNION ALL "))
}

// ReadRuleCounts lists Counts in execution order.
func ReadRuleCounts() string {
	return fmt.Sprintf("SELECT rule_idx, groups, left_matched, right_matched FROM %s ORDER BY rule_idx", Counts)
}

// Count counts a table's rows.
func Count(table string) string { return "SELECT count(*) FROM " + table }
