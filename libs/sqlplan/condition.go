package sqlplan

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
)

// Levenshtein is the engine function fuzzy conditions call on text that is
// not all ASCII: edit distance in characters (DuckDB's own levenshtein
// counts bytes).
const Levenshtein = "kalla_levenshtein"

// Fold is the engine function eq_ci calls on text that is not all ASCII:
// full Unicode case folding (plan.Fold; DuckDB's lower maps ß to itself).
const Fold = "kalla_fold"

// whitespace is what eq_ci trims: every character Unicode counts as white
// space (unicode.IsSpace), the no-break space of spreadsheet exports among
// them, each as chr(n) so that the SQL shows which. asciiWhitespace is the
// part of it ASCII text can hold: DuckDB's trim costs by the characters it
// is given, and eq_ci trims every record of a join key.
var whitespace, asciiWhitespace = spaces(unicode.MaxRune), spaces(unicode.MaxASCII)

// spaces lists the white space characters up to upTo from Unicode's table
// (what unicode.IsSpace tests), not by testing every rune at start-up.
func spaces(upTo rune) string {
	var chars []string
	for _, r := range unicode.White_Space.R16 {
		for c := rune(r.Lo); c <= rune(r.Hi) && c <= upTo; c += rune(r.Stride) {
			chars = append(chars, fmt.Sprintf("chr(%d)", c))
		}
	}
	return strings.Join(chars, "||")
}

// cond renders one condition between the rows l and r.
type cond struct {
	plan.Condition
	l, r string // the operands as SQL
}

func newCond(c plan.Condition, left, right string) cond {
	return cond{Condition: c, l: operand(left, c.Left, c.LeftReversed), r: operand(right, c.Right, c.RightReversed)}
}

// operand is a column as conditions and aggregate checks compare it:
// negated when its source reverses its sign; an integer as a HUGEINT
// first, since the smallest BIGINT negated does not fit one.
func operand(table string, c source.Column, reversed bool) string {
	e := col(table, c)
	switch {
	case !reversed:
		return e
	case c.Type == source.Integer:
		return "(-CAST(" + e + " AS HUGEINT))"
	}
	return "(-" + e + ")"
}

// keys is, for a join condition, the value each operand is joined on: the
// operand, or for eq_ci the folded text, NULL where blank (no key).
func (c cond) keys() (l, r string) {
	if c.Op == kallav1.Operator_OPERATOR_EQ_CI {
		return "nullif(" + folded(c.l) + ", '')", "nullif(" + folded(c.r) + ", '')"
	}
	return c.l, c.r
}

// equal is, for a condition that ranks a pair 0 exactly where its values
// are equal and passes every such pair, the value each operand is equal
// on: keys for a join; the operand for a tolerance, tolerance_pct, gte or
// lte of numbers and for a fuzzy (edit distance 0); the day for a
// date_within or a comparison of two dates; the instant, in the unit its
// rank counts, for other gte and lte of dates and timestamps. ok is false
// for the others: gt and lt fail equal values, and contains, startswith,
// endswith and text comparisons rank every pair they pass 0.
func (c cond) equal() (l, r string, ok bool) {
	number := plan.Classify(c.Left.Type) == plan.Number && plan.Classify(c.Right.Type) == plan.Number
	temporal := plan.Classify(c.Left.Type) == plan.Temporal && plan.Classify(c.Right.Type) == plan.Temporal
	lte := c.Op == kallav1.Operator_OPERATOR_GTE || c.Op == kallav1.Operator_OPERATOR_LTE
	switch {
	case c.Join():
		l, r := c.keys()
		return l, r, true
	case number && (lte || c.Op == kallav1.Operator_OPERATOR_TOLERANCE || c.Op == kallav1.Operator_OPERATOR_TOLERANCE_PCT),
		c.Op == kallav1.Operator_OPERATOR_FUZZY:
		return c.l, c.r, true
	case temporal && c.Op == kallav1.Operator_OPERATOR_DATE_WITHIN,
		temporal && lte && c.Left.Type == source.Date && c.Right.Type == source.Date:
		return "CAST(" + c.l + " AS DATE)", "CAST(" + c.r + " AS DATE)", true
	case temporal && lte && c.nanos():
		return epochNanos(c.l, c.Left), epochNanos(c.r, c.Right), true
	case temporal && lte:
		return "CAST(" + c.l + " AS TIMESTAMP)", "CAST(" + c.r + " AS TIMESTAMP)", true
	}
	return "", "", false
}

// Test is the boolean SQL of the condition; NULL operands make it NULL,
// which a WHERE clause treats as false.
func (c cond) Test() string {
	switch c.Op {
	case kallav1.Operator_OPERATOR_EQ:
		return fmt.Sprintf("%s = %s", c.l, c.r)
	case kallav1.Operator_OPERATOR_EQ_CI:
		// A blank value (white space only) is no key, as an empty one.
		return fmt.Sprintf("%s = %s AND %[1]s <> ''", folded(c.l), folded(c.r))
	case kallav1.Operator_OPERATOR_TOLERANCE:
		return fmt.Sprintf("abs(%s) <= %s", c.difference(), Decimal(c.threshold()))
	case kallav1.Operator_OPERATOR_TOLERANCE_PCT:
		return c.pctTest()
	case kallav1.Operator_OPERATOR_GT:
		return fmt.Sprintf("%s > %s", c.l, c.r)
	case kallav1.Operator_OPERATOR_LT:
		return fmt.Sprintf("%s < %s", c.l, c.r)
	case kallav1.Operator_OPERATOR_GTE:
		return fmt.Sprintf("%s >= %s", c.l, c.r)
	case kallav1.Operator_OPERATOR_LTE:
		return fmt.Sprintf("%s <= %s", c.l, c.r)
	case kallav1.Operator_OPERATOR_CONTAINS:
		return fmt.Sprintf("contains(%s, %s)", c.l, c.r)
	case kallav1.Operator_OPERATOR_STARTSWITH:
		return fmt.Sprintf("starts_with(%s, %s)", c.l, c.r)
	case kallav1.Operator_OPERATOR_ENDSWITH:
		return fmt.Sprintf("suffix(%s, %s)", c.l, c.r)
	case kallav1.Operator_OPERATOR_DATE_WITHIN:
		return fmt.Sprintf("%s <= %s", c.days(), Decimal(c.Threshold))
	case kallav1.Operator_OPERATOR_FUZZY:
		return c.fuzzyTest(c.distance(), c.longest())
	}
	panic(fmt.Sprintf("sqlplan: operator %v", c.Op))
}

// Cost is the condition's element of the ranking tuple, or "" when it is
// always 0 (eq, eq_ci, contains, startswith, endswith, text comparisons).
func (c cond) Cost() string {
	switch c.Op {
	case kallav1.Operator_OPERATOR_TOLERANCE, kallav1.Operator_OPERATOR_TOLERANCE_PCT,
		kallav1.Operator_OPERATOR_GT, kallav1.Operator_OPERATOR_LT,
		kallav1.Operator_OPERATOR_GTE, kallav1.Operator_OPERATOR_LTE:
		switch plan.Classify(c.Left.Type) {
		case plan.Number:
			return fmt.Sprintf("abs(%s)", c.difference())
		case plan.Temporal:
			return c.distanceInTime()
		}
	case kallav1.Operator_OPERATOR_DATE_WITHIN:
		return c.days()
	case kallav1.Operator_OPERATOR_FUZZY:
		return fuzzyCost(c.distance(), c.longest())
	}
	return ""
}

// band is, for a tolerance on exact numbers or a date_within, a whole
// number for each operand (bands of width w) that two values passing the
// condition keep within one of each other: the value in inUnits' fine
// units (cents for amounts of two places, whole days for dates) divided by
// w, w the threshold in those units rounded up, at least 1 (for a
// tolerance_pct, see ratioBand).
// Joined on it besides its keys, a rule compares only records in bands
// next to each other: a key as coarse as a currency no longer makes every
// pair of its records a comparison. Values within w units of each other
// are whole numbers of units within w; dividing (rounding towards 0, each
// band but the one around 0 w wide) leaves them in the same band or the
// next. In whole units, a tolerance of a cent made bands a unit wide, a
// hundred times the pairs: under currencies on the 1M bench book, within a
// cent and 30 days, the near misses' step of the records passing every
// condition compared 252 million pairs in 3.6 s, 7.8 million in 1.3 s in
// cents.
func (c cond) band() (l, r string, ok bool) {
	if c.Op == kallav1.Operator_OPERATOR_TOLERANCE_PCT && exactNumber(c.Left) && exactNumber(c.Right) {
		return c.ratioBand()
	}
	if !c.bounded() {
		return "", "", false
	}
	l, r, w, _, ok := c.inUnits(true)
	w = max(w, 1) // a threshold of 0 still bands by units
	return fmt.Sprintf("%s // %d", l, w), fmt.Sprintf("%s // %d", r, w), ok
}

// bounded says whether the condition passes only values within its
// threshold of each other (a tolerance, a date_within): a pair farther
// apart fails it. A comparison passes values however far apart.
func (c cond) bounded() bool {
	return c.Op == kallav1.Operator_OPERATOR_TOLERANCE || c.Op == kallav1.Operator_OPERATOR_DATE_WITHIN
}

// comparison says whether the condition is a gt, lt, gte or lte.
func (c cond) comparison() bool {
	switch c.Op {
	case kallav1.Operator_OPERATOR_GT, kallav1.Operator_OPERATOR_LT, kallav1.Operator_OPERATOR_GTE, kallav1.Operator_OPERATOR_LTE:
		return true
	}
	return false
}

// inUnits is, for a tolerance on exact numbers or a date_within, each
// operand as a whole number of units (see unitsType), the threshold in units
// rounded up, and the unit: days for dates; for numbers whole parts or,
// when fine, the finer decimal place of the two columns, where their
// values so keep within 36 digits. Values at most n units apart (n whole)
// have whole numbers of units at most n apart, and so lie in the same band
// of width n, or the next. A comparison of exact numbers or of two dates,
// or a tolerance_pct of exact numbers, whose rank is also the distance
// between its values, is in units likewise, its threshold 0. So is a
// comparison of timestamps (or of a date and a timestamp), in the
// microseconds its rank counts (nanoseconds where either holds them), w
// then a second: timestamps rarely share a microsecond, and widening's
// first radius is w.
func (c cond) inUnits(fine bool) (l, r string, w int64, unit *big.Rat, ok bool) {
	t := c.Threshold
	scale := 0
	days := func(e string, _ source.Column) string {
		return fmt.Sprintf("date_diff('day', DATE '1970-01-01', CAST(%s AS DATE))", e)
	}
	asUnits := func(e string, col source.Column) string {
		typ := unitsType(col, scale)
		switch {
		case col.Type == source.Integer && scale > 0:
			return fmt.Sprintf("CAST(%s AS %s) * %s", e, typ, pow10(scale).FloatString(0))
		case col.Type == source.Integer:
			return "CAST(" + e + " AS " + typ + ")"
		case scale > 0:
			return scaled(e, col, scale, typ)
		}
		return "CAST(floor(" + e + ") AS " + typ + ")"
	}
	numbers := exactNumber(c.Left) && exactNumber(c.Right)
	if s, fits := c.finePlace(); numbers && fine && fits {
		scale = s
	}
	switch {
	case c.Op == kallav1.Operator_OPERATOR_TOLERANCE && numbers:
		t = c.threshold()
	case c.Op == kallav1.Operator_OPERATOR_DATE_WITHIN:
		asUnits = days
	case (c.comparison() || c.Op == kallav1.Operator_OPERATOR_TOLERANCE_PCT) && numbers:
		t = new(big.Rat)
	case c.comparison() && c.Left.Type == source.Date && c.Right.Type == source.Date:
		t, asUnits = new(big.Rat), days
	case c.comparison() && plan.Classify(c.Left.Type) == plan.Temporal:
		second := int64(1_000_000)
		asUnits = func(e string, _ source.Column) string {
			return fmt.Sprintf("epoch_us(CAST(%s AS TIMESTAMP))", e)
		}
		if c.nanos() {
			second, asUnits = 1_000_000_000, epochNanos
		}
		return asUnits(c.l, c.Left), asUnits(c.r, c.Right), second, big.NewRat(1, 1), true
	default:
		return "", "", 0, nil, false
	}
	tu := new(big.Rat).Mul(t, pow10(scale)) // t in units
	n := new(big.Int).Quo(new(big.Int).Add(tu.Num(), new(big.Int).Sub(tu.Denom(), big.NewInt(1))), tu.Denom())
	if !n.IsInt64() {
		return "", "", 0, nil, false
	}
	return asUnits(c.l, c.Left), asUnits(c.r, c.Right), n.Int64(), new(big.Rat).Inv(pow10(scale)), true
}

// pctTest is a tolerance_pct's test, |l - r| * 100 <= threshold * |l|,
// computed in DECIMAL(38): DuckDB keeps the arithmetic of decimals of at
// most 18 digits in 18 digits, and refuses what outgrows them. Where both
// columns are that narrow, values below narrowBelow's bound compute
// narrow, the wide arithmetic only for the others (a CASE computes a
// branch for its own rows alone): 26-51 ms against 135-229 ms for a
// million pairs of the 1M bench book.
func (c cond) pctTest() string {
	test := func(l, r string) string {
		return fmt.Sprintf("abs(%s - %s) * 100 <= %s * abs(%s)", l, r, Decimal(c.Threshold), l)
	}
	wideTest := test(wide(c.l, c.Left), wide(c.r, c.Right))
	bound, ok := c.narrowBelow()
	if !ok {
		return wideTest
	}
	return fmt.Sprintf("CASE WHEN abs(%[1]s) < %[2]s AND abs(%[3]s) < %[2]s THEN %[4]s ELSE %[5]s END", c.l, bound, c.r, test(c.l, c.r), wideTest)
}

// narrowBelow is, for a tolerance_pct of two decimals of at most 18
// digits, the bound below which both values' test holds in 18 digits: the
// difference (in the finer place, s), times 100, below 10^(18 - s); the
// threshold (of precision tp) times the left value (of places ls) below
// 10^(18 - ls - ts), with ts the threshold's places.
func (c cond) narrowBelow() (bound string, ok bool) {
	if c.Left.Type != source.Decimal || c.Right.Type != source.Decimal {
		return "", false
	}
	lp, ls := decimalWidth(c.Left)
	rp, rs := decimalWidth(c.Right)
	_, tp, _ := decimalLiteral(c.Threshold)
	// |l - r| < 2 * 10^k, so its hundredfold < 10^(k + 3).
	k := min(18-max(ls, rs)-3, 18-ls-tp)
	if lp > 18 || rp > 18 || k < 1 {
		return "", false
	}
	return pow10(k).FloatString(0), true
}

// unitsType is the integer type of a number column's values in units of
// 10^-scale: BIGINT where they have at most 18 digits, so that a band and
// the two beside it fit too, else HUGEINT. Dividing a HUGEINT into bands
// took 165-190 ms for 1M values against 8-10 ms for a BIGINT (DuckDB 1.5),
// in every banded statement and count, both sides. Days and microseconds
// are BIGINTs (date_diff, epoch_us) and fit likewise.
func unitsType(col source.Column, scale int) string {
	digits := 19 + scale // an integer of no declared width: a whole BIGINT
	switch {
	case col.Type == source.Decimal:
		p, s := decimalWidth(col)
		digits = p - s + scale
	case col.Precision > 0:
		digits = col.Precision + scale
	}
	if digits <= 18 {
		return "BIGINT"
	}
	return "HUGEINT"
}

// finePlace is the finer decimal place of the condition's columns, and
// whether their values, scaled to it, keep within 36 digits.
func (c cond) finePlace() (scale int, fits bool) {
	scale = max(c.Left.Scale, c.Right.Scale)
	return scale, scaledDigits(c.Left, scale) <= 36 && scaledDigits(c.Right, scale) <= 36
}

// exactUnits says whether inUnits(true) holds the values exactly (days,
// microseconds and nanoseconds do), so that the values nearest in units
// are the nearest: numbers past 36 digits in their finer place are
// counted in whole units.
func (c cond) exactUnits() bool {
	scale, fits := c.finePlace()
	return !(exactNumber(c.Left) && exactNumber(c.Right)) || fits || scale == 0
}

// units names inUnits' unit where the values are not numbers: days for
// two dates or a date_within, else microseconds or nanoseconds.
func (c cond) units() string {
	switch {
	case plan.Classify(c.Left.Type) != plan.Temporal:
		return ""
	case c.Op == kallav1.Operator_OPERATOR_DATE_WITHIN || c.Left.Type == source.Date && c.Right.Type == source.Date:
		return "days"
	case c.nanos():
		return "nanoseconds"
	}
	return "microseconds"
}

// scaledDigits is the most digits of a number column's values multiplied
// by 10^scale, as DuckDB holds them: a decimal keeps its own places.
func scaledDigits(col source.Column, scale int) int {
	if col.Precision == 0 {
		return 19 + scale // an integer read from a source that declares no width
	}
	return col.Precision + scale
}

// radiusBands joins the records of table (aliased alias, whose values in
// units are theirs) in bands of radius units to those of the other side
// (mine): values within radius of each other lie in the same band or the
// next. It gives the table in bands (see inBands) and the equality to
// join on, mine's band and the table's __band.
func radiusBands(table, alias, mine, theirs string, radius int64) (banded string, eq [2]string) {
	return inBands(table, alias, fmt.Sprintf("%s // %d", theirs, radius)), [2]string{fmt.Sprintf("%s // %d", mine, radius), alias + ".__band"}
}

// inBands is a table's records each as often as its bands (alias's band
// -1, band and band +1, in __band): joined on __band = the band of a
// record of the other side, it gives the records in bands next to its.
func inBands(table, alias, band string) string {
	return fmt.Sprintf("(SELECT *, unnest([__b - 1, __b, __b + 1]) AS __band FROM (SELECT *, %s AS __b FROM %s %s))", band, table, alias)
}

// ratioBand is band for a tolerance_pct of f = threshold / 100 in
// [0.00001, 1): bands of the values' logarithms. Two values passing it
// have one sign, and their magnitudes' logarithms are within -ln(1 - f)
// of each other (r in [l(1 - f), l(1 + f)] for l > 0); bands of that
// width and a little more, the margin far above a double's rounding of a
// logarithm (at most 88 for a decimal), keep them in the same band or the
// next. Values of either sign share bands (the condition tells them apart)
// and 0, which passes only with 0, has a band of its own. Past 100%, 0
// and values of the other sign pass too; below 0.001%, the bands would
// be as narrow as that rounding.
func (c cond) ratioBand() (l, r string, ok bool) {
	f, _ := new(big.Rat).Quo(c.Threshold, big.NewRat(100, 1)).Float64()
	if f < 0.00001 || f >= 1 {
		return "", "", false
	}
	width := -math.Log1p(-f) + 1e-9
	band := func(e string) string {
		return fmt.Sprintf("CASE WHEN %[1]s = 0 THEN CAST(%[2]d AS BIGINT) ELSE CAST(floor(ln(abs(CAST(%[1]s AS DOUBLE))) / %[3]s) AS BIGINT) END",
			e, int64(1)<<62, strconv.FormatFloat(width, 'g', -1, 64))
	}
	return band(c.l), band(c.r), true
}

// fuzzyTest is a fuzzy condition's test on its edit distance and the
// longer value's length: similarity >= T <=> distance <= (1 - T) * longest,
// exactly.
func (c cond) fuzzyTest(distance, longest string) string {
	oneMinus := new(big.Rat).Sub(big.NewRat(1, 1), c.Threshold)
	return fmt.Sprintf("CAST(%s AS DECIMAL(18,0)) <= %s * %s", distance, Decimal(oneMinus), longest)
}

// fuzzyCost is 1 - similarity.
func fuzzyCost(distance, longest string) string {
	return fmt.Sprintf("CASE WHEN %[2]s = 0 THEN 0.0 ELSE %[1]s / %[2]s END", distance, longest)
}

// NearMissRank is the condition's element of the ranking tuple for near
// misses, where operands may be NULL: sorted NULLS LAST, a NULL element
// comes after every value, and for a condition whose element is otherwise
// always 0 a NULL operand makes it true, after false.
func (c cond) NearMissRank() string {
	if cost := c.Cost(); cost != "" {
		return cost
	}
	return fmt.Sprintf("(%s IS NULL OR %s IS NULL)", c.l, c.r)
}

// subtrahend is a column's label as a delta's label subtracts it: in
// parentheses when compared negated, amount-(-bank.amount), not
// amount--bank.amount.
func subtrahend(label string, reversed bool) string {
	if reversed {
		return "(" + label + ")"
	}
	return label
}

// Delta shows how far apart the two values are, for evidence; "" when the
// operator has no distance to show.
func (c cond) Delta() string {
	label := String(c.LeftLabel + "-" + subtrahend(c.RightLabel, c.RightReversed) + ": ")
	switch c.Op {
	case kallav1.Operator_OPERATOR_TOLERANCE, kallav1.Operator_OPERATOR_TOLERANCE_PCT,
		kallav1.Operator_OPERATOR_GT, kallav1.Operator_OPERATOR_LT,
		kallav1.Operator_OPERATOR_GTE, kallav1.Operator_OPERATOR_LTE:
		if plan.Classify(c.Left.Type) == plan.Number {
			return fmt.Sprintf("%s || CAST(%s AS VARCHAR)", label, c.difference())
		}
		if plan.Classify(c.Left.Type) != plan.Temporal {
			break
		}
		// Signed, l - r, as for numbers: days, or a duration such as
		// -48:29:59.999999 rather than a count of microseconds.
		if c.Left.Type == source.Date && c.Right.Type == source.Date {
			return label + " || " + daysText(fmt.Sprintf("date_diff('day', %s, %s)", c.r, c.l))
		}
		if c.nanos() {
			return label + " || " + nanosText(fmt.Sprintf("(%s - %s)", epochNanos(c.l, c.Left), epochNanos(c.r, c.Right)))
		}
		return fmt.Sprintf("%s || CAST(to_microseconds(date_diff('microsecond', CAST(%s AS TIMESTAMP), CAST(%s AS TIMESTAMP))) AS VARCHAR)", label, c.r, c.l)
	case kallav1.Operator_OPERATOR_DATE_WITHIN:
		return label + " || " + daysText(c.days())
	case kallav1.Operator_OPERATOR_FUZZY:
		return fmt.Sprintf("%s || 'similarity ' || %s", label, c.similarity(true))
	}
	return ""
}

// nanosText is a signed count of nanoseconds d as a duration, written as
// DuckDB writes one of microseconds (-25:01:01.000001: hours, minutes,
// seconds, the fraction without trailing zeros), to the nanosecond:
// 00:00:00.000000001.
func nanosText(d string) string {
	a := "abs(" + d + ")"
	return fmt.Sprintf("CASE WHEN %[1]s < 0 THEN '-' ELSE '' END || "+
		"printf('%%02d:%%02d:%%02d', CAST(%[2]s // 3600000000000 AS BIGINT), CAST(%[2]s // 60000000000 %% 60 AS BIGINT), CAST(%[2]s // 1000000000 %% 60 AS BIGINT)) || "+
		"CASE WHEN %[2]s %% 1000000000 = 0 THEN '' ELSE '.' || rtrim(printf('%%09d', CAST(%[2]s %% 1000000000 AS BIGINT)), '0') END", d, a)
}

// similarity is the text of 1 - distance / longest to four decimals,
// rounded up for a condition that held and down for one that failed, so
// that neither reads as the other against its threshold (2/3 against
// 0.6667 reads 0.6666, not 0.6667). It is computed in whole numbers.
func (c cond) similarity(held bool) string {
	longest := c.longest()
	kept := fmt.Sprintf("(%s - %s) * 10000", longest, c.distance())
	if held {
		kept += " + " + longest + " - 1"
	}
	return fmt.Sprintf("CAST(CASE WHEN %[1]s = 0 THEN 1.0 ELSE (%[2]s) // %[1]s / 10000 END AS VARCHAR)", longest, kept)
}

// Failure explains in words why the condition failed for this pair.
func (c cond) Failure() string {
	l, r := String(c.LeftLabel), String(c.RightLabel)
	lv, rv := shown(c.l, c.Left), shown(c.r, c.Right)
	var why string
	switch c.Op {
	case kallav1.Operator_OPERATOR_TOLERANCE:
		why = fmt.Sprintf("%s || ' differs from ' || %s || ' by ' || CAST(abs(%s) AS VARCHAR) || ', tolerance ' || %s", l, r, c.difference(), String(c.ThresholdText))
	case kallav1.Operator_OPERATOR_TOLERANCE_PCT:
		// The share of |l|, in floating point: it is shown, not compared
		// (the test is exact). Four decimals, or ten where four would read
		// as the threshold; closer than that, a float cannot tell the share
		// from the threshold, and the reason says "just over" it.
		pct := fmt.Sprintf("CAST(abs(%s) AS DOUBLE) * 100 / abs(CAST(%s AS DOUBLE))", c.difference(), c.l)
		threshold := ratFloat(c.Threshold)
		rounded := fmt.Sprintf("CASE WHEN round(%[1]s, 4) > %[2]s THEN CAST(round(%[1]s, 4) AS VARCHAR) WHEN round(%[1]s, 10) > %[2]s THEN CAST(round(%[1]s, 10) AS VARCHAR) ELSE 'just over ' || %[3]s END",
			pct, threshold, String(c.ThresholdText))
		share := fmt.Sprintf("CASE WHEN %[1]s = 0 THEN ' (' || %[2]s || ' is 0)' ELSE ' (' || %[3]s || '%% of ' || %[2]s || ')' END",
			c.l, l, rounded)
		why = fmt.Sprintf("%s || ' differs from ' || %s || ' by ' || CAST(abs(%s) AS VARCHAR) || %s || ', more than ' || %s || '%%'", l, r, c.difference(), share, String(c.ThresholdText))
	case kallav1.Operator_OPERATOR_DATE_WITHIN:
		allowed := c.ThresholdText + " days"
		if c.Threshold.Cmp(big.NewRat(1, 1)) == 0 {
			allowed = c.ThresholdText + " day"
		}
		why = fmt.Sprintf("%s || ' ' || %s || ' and ' || %s || ' ' || %s || ' are ' || %s || ' apart, allowed ' || %s", l, lv, r, rv, daysText(c.days()), String(allowed))
	case kallav1.Operator_OPERATOR_FUZZY:
		why = fmt.Sprintf("%s || ' ' || %s || ' and ' || %s || ' ' || %s || ' have similarity ' || %s || ', needed ' || %s", l, lv, r, rv, c.similarity(false), String(c.ThresholdText))
	default:
		why = fmt.Sprintf("%s || ' ' || %s || ' ' || %s || ' ' || %s || ' ' || %s", l, lv, String(failedVerb[c.Op]), r, rv)
	}
	if c.Op == kallav1.Operator_OPERATOR_TOLERANCE || c.Op == kallav1.Operator_OPERATOR_TOLERANCE_PCT {
		why += c.otherSign()
	}
	// An empty value names its condition: two conditions on one column
	// would otherwise read alike.
	cond := recipe.OperatorName(c.Op)
	if c.ThresholdText != "" {
		cond += " " + c.ThresholdText
	}
	empty := String(" is empty (" + cond + ")")
	return fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN %[2]s || %[3]s WHEN %[4]s IS NULL THEN %[5]s || %[3]s ELSE %[6]s END", c.l, l, empty, c.r, r, why)
}

// otherSign notes, after a tolerance's failure, that the two values are
// one amount with opposite signs, as a bank statement and a ledger write
// money paid out: reverse_sign, or a net's or signed column's own fields,
// is what the user needs.
func (c cond) otherSign() string {
	if c.LeftReversed || c.RightReversed {
		return ""
	}
	return fmt.Sprintf(" || CASE WHEN %s = 0 AND %s <> 0 THEN %s ELSE '' END", c.arithmetic("+"), c.l,
		String(" (one amount with opposite signs: a source's reverse_sign compares a column negated; a net's plus and minus, or a signed column's marks, swapped give the other sign)"))
}

// shown is a value as a reason shows it: text in double quotes, so that an
// empty text or surrounding spaces can be seen (a quote or backslash in it
// escaped with a backslash, so that it cannot end the text early); numbers
// and dates bare.
func shown(expr string, c source.Column) string {
	if plan.Classify(c.Type) == plan.String {
		return fmt.Sprintf(`'"' || replace(replace(%s, '\', '\\'), '"', '\"') || '"'`, expr)
	}
	return fmt.Sprintf("CAST(%s AS VARCHAR)", expr)
}

var failedVerb = map[kallav1.Operator]string{
	kallav1.Operator_OPERATOR_EQ:         "does not equal",
	kallav1.Operator_OPERATOR_EQ_CI:      "does not equal (ignoring case)",
	kallav1.Operator_OPERATOR_GT:         "is not greater than",
	kallav1.Operator_OPERATOR_LT:         "is not less than",
	kallav1.Operator_OPERATOR_GTE:        "is less than",
	kallav1.Operator_OPERATOR_LTE:        "is greater than",
	kallav1.Operator_OPERATOR_CONTAINS:   "does not contain",
	kallav1.Operator_OPERATOR_STARTSWITH: "does not start with",
	kallav1.Operator_OPERATOR_ENDSWITH:   "does not end with",
}

// ratFloat is r as a DOUBLE literal, for text that is shown.
func ratFloat(r *big.Rat) string {
	f, _ := r.Float64()
	return fmt.Sprintf("CAST(%s AS DOUBLE)", String(strconv.FormatFloat(f, 'g', -1, 64)))
}

// threshold is the bound a tolerance compares with (see plan.Tolerance).
func (c cond) threshold() *big.Rat { return plan.Tolerance(c.Left, c.Right, c.Threshold) }

// difference is l - r.
func (c cond) difference() string { return c.arithmetic("-") }

// arithmetic is l op r. Two integers compute as HUGEINT: their difference
// or sum may not fit their 64 bits (2^63 - 1 and -1).
func (c cond) arithmetic(op string) string {
	if c.Left.Type == source.Integer && c.Right.Type == source.Integer {
		return fmt.Sprintf("CAST(%s AS HUGEINT) %s %s", c.l, op, c.r)
	}
	if narrowBoth(c.Left, c.Right) {
		return fmt.Sprintf("%s %s %s", wide(c.l, c.Left), op, wide(c.r, c.Right))
	}
	return fmt.Sprintf("%s %s %s", c.l, op, c.r)
}

// narrowBoth says whether two decimals of at most 18 digits each need more
// together (the integer digits of one, the places of the other): DuckDB
// computes them in the type of at most 18 digits their own fit, and
// refuses the values of the one that type cannot hold (DECIMAL(18,4)
// against DECIMAL(17,2): 101695820377672.41 "is out of range"). Their
// difference needs a digit more, which DuckDB does not give past 18
// (DECIMAL(18,1) - DECIMAL(18,1) is a DECIMAL(18,1): -99999999999999999.5
// - 99999999999999998.1 overflowed): at 18 together, the widths Kalla
// measured (a CSV's) compute wide too. Declared ones (a Parquet
// DECIMAL(18,2), the bench book's) keep the narrow arithmetic, 90 ms less
// of the 1M book's candidates, and values that outgrow it are refused as
// too wide for their declared types.
func narrowBoth(l, r source.Column) bool {
	if l.Type != source.Decimal || r.Type != source.Decimal {
		return false
	}
	lp, ls := decimalWidth(l)
	rp, rs := decimalWidth(r)
	together := max(lp-ls, rp-rs) + max(ls, rs)
	return lp <= 18 && rp <= 18 && (together > 18 || together == 18 && (l.Measured || r.Measured))
}

// scaled is a decimal column's value e times 10^scale, as typ.
// DuckDB keeps a narrow decimal's product narrow, in its places
// (10171344084.7633, a DECIMAL(15,4), times 10000 overflowed), so values
// too large for that are widened first; only those, since the wide
// product for every record made the bands of a rule under currency keys
// (1M invoices, within a cent and 30 days) 47-52 s against 31-35 s.
func scaled(e string, col source.Column, scale int, typ string) string {
	by := pow10(scale).FloatString(0)
	narrow := fmt.Sprintf("CAST(%s * %s AS %s)", e, by, typ)
	p, s := decimalWidth(col)
	if col.Type != source.Decimal || p+scale <= 18 {
		return narrow
	}
	widened := fmt.Sprintf("CAST(%s * %s AS %s)", wide(e, col), by, typ)
	if 18-s-scale <= 0 {
		return widened
	}
	return fmt.Sprintf("CASE WHEN abs(%s) < %s THEN %s ELSE %s END", e, pow10(18-s-scale).FloatString(0), narrow, widened)
}

// nanos says whether either operand holds nanoseconds: their distance is
// then counted in nanoseconds, so that 1 ns and 600 ns are not both 0 µs.
func (c cond) nanos() bool { return c.Left.Nanos || c.Right.Nanos }

// epochNanos is a date or timestamp as nanoseconds since 1970, as a
// HUGEINT: a microsecond timestamp may lie beyond the nanoseconds a BIGINT
// holds.
func epochNanos(expr string, c source.Column) string {
	if c.Nanos {
		return fmt.Sprintf("CAST(epoch_ns(%s) AS HUGEINT)", expr)
	}
	return fmt.Sprintf("CAST(epoch_us(CAST(%s AS TIMESTAMP)) AS HUGEINT) * 1000", expr)
}

// daysText is a count of days in words: 1 day, -2 days.
func daysText(days string) string {
	return fmt.Sprintf("CAST(%[1]s AS VARCHAR) || CASE WHEN abs(%[1]s) = 1 THEN ' day' ELSE ' days' END", days)
}

func (c cond) days() string {
	return fmt.Sprintf("abs(date_diff('day', CAST(%s AS DATE), CAST(%s AS DATE)))", c.l, c.r)
}

func (c cond) distanceInTime() string {
	if c.Left.Type == source.Date && c.Right.Type == source.Date {
		return c.days()
	}
	if c.nanos() {
		return fmt.Sprintf("abs(%s - %s)", epochNanos(c.l, c.Left), epochNanos(c.r, c.Right))
	}
	return fmt.Sprintf("abs(date_diff('microsecond', CAST(%s AS TIMESTAMP), CAST(%s AS TIMESTAMP)))", c.l, c.r)
}

// distance is the edit distance in characters. DuckDB's levenshtein counts
// bytes, which is the same on ASCII text (as many bytes as characters) and
// far faster than the engine's function, a Go call per row; the engine's
// function takes the rest.
func (c cond) distance() string {
	return fmt.Sprintf("CASE WHEN %s AND %s THEN levenshtein(%[3]s, %[4]s) ELSE %[5]s(%[3]s, %[4]s) END",
		ascii(c.l), ascii(c.r), c.l, c.r, Levenshtein)
}

// ascii tests that text is all ASCII: as many bytes as characters, where
// DuckDB's own text functions agree with the engine's.
func ascii(text string) string {
	return fmt.Sprintf("strlen(%[1]s) = length(%[1]s)", text)
}

func (c cond) longest() string {
	return fmt.Sprintf("greatest(length(%s), length(%s))", c.l, c.r)
}

// folded is text as eq_ci compares it: trimmed, then lower case if it is
// all ASCII, else folded by the engine's Fold.
func folded(text string) string {
	return fmt.Sprintf("CASE WHEN %s THEN lower(trim(%s, %s)) ELSE %s(trim(%[2]s, %[5]s)) END", ascii(text), text, asciiWhitespace, Fold, whitespace)
}
