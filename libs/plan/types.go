package plan

import (
	"cmp"
	"fmt"
	"math/big"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
)

// Class groups the types that compare with each other.
type Class int

const (
	Number Class = iota + 1
	Temporal
	String
	Bool
)

// Classify returns the class of a column type.
func Classify(t source.Type) Class {
	switch t {
	case source.Integer, source.Decimal:
		return Number
	case source.Date, source.Timestamp:
		return Temporal
	case source.Boolean:
		return Bool
	}
	return String
}

var classNames = map[Class]string{Number: "numbers", Temporal: "dates", String: "text"}

// operandClasses lists what each operator may compare; nil means any class,
// as long as both sides share it.
var operandClasses = map[kallav1.Operator][]Class{
	kallav1.Operator_OPERATOR_EQ_CI:         {String},
	kallav1.Operator_OPERATOR_TOLERANCE:     {Number},
	kallav1.Operator_OPERATOR_TOLERANCE_PCT: {Number},
	kallav1.Operator_OPERATOR_GT:            {Number, Temporal, String},
	kallav1.Operator_OPERATOR_LT:            {Number, Temporal, String},
	kallav1.Operator_OPERATOR_GTE:           {Number, Temporal, String},
	kallav1.Operator_OPERATOR_LTE:           {Number, Temporal, String},
	kallav1.Operator_OPERATOR_CONTAINS:      {String},
	kallav1.Operator_OPERATOR_STARTSWITH:    {String},
	kallav1.Operator_OPERATOR_ENDSWITH:      {String},
	kallav1.Operator_OPERATOR_DATE_WITHIN:   {Temporal},
	kallav1.Operator_OPERATOR_FUZZY:         {String},
}

// checkTypes returns what is wrong with a condition's operand types, or "".
func checkTypes(c Condition) string {
	lc, rc := Classify(c.Left.Type), Classify(c.Right.Type)
	op := recipe.OperatorName(c.Op)
	if lc != rc {
		// Each side should have been of the other side's class, or of the
		// one class the operator compares.
		wantLeft, wantRight := rc, lc
		if allowed := operandClasses[c.Op]; len(allowed) == 1 {
			wantLeft, wantRight = allowed[0], allowed[0]
		}
		return fmt.Sprintf("%s cannot compare %s (%s) with %s (%s)", op, c.Left.Name, c.Left.TypeName(), c.Right.Name, c.Right.TypeName()) +
			cmp.Or(textNote(c.Left, c.Right, wantLeft, wantRight), asText(op, c, wantLeft))
	}
	allowed := operandClasses[c.Op]
	if allowed == nil {
		return ""
	}
	for _, a := range allowed {
		if a == lc {
			return ""
		}
	}
	types := c.Left.TypeName()
	if c.Right.TypeName() != types {
		types += " and " + c.Right.TypeName()
	}
	return fmt.Sprintf("%s compares %s, but %s and %s are %s", op, classNames[allowed[0]], c.Left.Name, c.Right.Name, types) +
		textNote(c.Left, c.Right, allowed[0], allowed[0])
}

// textNote explains why the left or right column is not of the class the
// condition needs of it (wantLeft, wantRight), or returns "": for dates
// written in a layout of their own (02/01/2024, 20240102), for numbers
// written with leading zeros, an exponent, thousands separators or a
// decimal comma, or for a value among numbers or dates that is neither.
func textNote(left, right source.Column, wantLeft, wantRight Class) string {
	if note := whyNot(left, "left", wantLeft); note != "" {
		return note
	}
	return whyNot(right, "right", wantRight)
}

// asText tells how to compare as text the side of a condition of a text
// operator that is not text, or returns "".
func asText(op string, c Condition, want Class) string {
	if want != String {
		return ""
	}
	col, side := c.Left, "left"
	if Classify(col.Type) == String {
		col, side = c.Right, "right"
	}
	return fmt.Sprintf(" (%s compares text; to compare the %s %s as written, set the %s source's types to {%q: \"text\"})", op, side, col.Name, side, col.Name)
}

func whyNot(c source.Column, side string, want Class) string {
	if want == Temporal {
		if note := notDates(c, side); note != "" {
			return note
		}
	}
	if c.Type != source.Text {
		return ""
	}
	switch {
	case c.LeadingZeros != "":
		return fmt.Sprintf(" (the %s %s is text because values such as %q are written with leading zeros, which Kalla keeps as written; "+
			"to read them as numbers, set the %s source's types to {%q: \"integer\"} or \"decimal\")",
			side, c.Name, c.LeadingZeros, side, c.Name)
	case c.Exponent != "":
		return fmt.Sprintf(" (the %s %s is text because values such as %q are written with an exponent, as codes may be; "+
			"to read them as numbers, set the %s source's types to {%q: \"decimal\"})",
			side, c.Name, c.Exponent, side, c.Name)
	case c.Odd != "":
		hint := ""
		switch want {
		case Number:
			hint = layoutHint(side, c.Name, "decimal", source.NumberLayoutsReading(c.Odd, ""), "", nil) // 12,5 among 3 and 7
		case Temporal:
			hint = oddDate(c.Odd)
		}
		at := c.OddPlace()
		if at != "" {
			at = ", on " + at + ","
		}
		return fmt.Sprintf(" (the %s %s is text because of values such as %q%s among its numbers or dates%s)", side, c.Name, c.Odd, at, hint)
	case c.Sample != "" && want == Number:
		return fmt.Sprintf(" (the %s %s is text: its values, such as %q, are not numbers as Kalla reads them: digits with an optional "+
			"sign and decimal point, such as -1234.56, without thousands separators, currency signs or decimal commas%s)",
			side, c.Name, c.Sample, layoutHint(side, c.Name, "decimal", source.NumberLayoutsReading(c.Sample, c.NegativeSample), "", nil))
	}
	return ""
}

// oddDate says why a value among dates is none: written as a date of the
// ISO layout that no calendar has (2024-02-30), or in another layout, as
// every date of a column is read in one.
func oddDate(v string) string {
	switch iso, valid := source.ISODay(v); {
	case iso && !valid:
		return ": " + strings.TrimLeft(v, " \t")[:10] + " is no day of the calendar"
	case iso:
		return ""
	}
	return "; every date of a column is read in one layout: YYYY-MM-DD, or the one the source's types give it"
}

// notDates explains a CSV column compared with dates that holds none as
// Kalla reads them: text, or numbers that a date layout reads (20240102),
// which it names.
func notDates(c source.Column, side string) string {
	sample := cmp.Or(c.Sample, c.LeadingZeros)
	layouts := source.DateLayoutsReading(sample)
	if sample == "" || c.Type != source.Text && len(layouts) == 0 {
		return ""
	}
	typ := "date"
	if len(layouts) > 0 && layouts[0].HasTime() {
		typ = "timestamp" // 02/01/2024 14:05
	}
	// Each layout offered says what it makes of the sample: 24-01-31 is
	// 2031-01-24 under DD-MM-YY and 2024-01-31 under YY-MM-DD, and only
	// the user knows which the file means.
	reads := func(l source.DateLayout) string {
		iso, _ := l.AppendISO(nil, []byte(sample))
		return string(iso)
	}
	return fmt.Sprintf(" (the %s %s is %s: its values, such as %q, are not dates as Kalla reads them: "+
		"YYYY-MM-DD, such as 2024-01-31, or timestamps such as 2024-01-31 14:05:00%s)",
		side, c.Name, c.TypeName(), sample, layoutHint(side, c.Name, typ, layouts, sample, reads))
}

// layoutHint suggests the types setting that reads a column's values, from
// the layouts that read its sample (at most two: 02/01/2024 may be either
// day or month first), or returns "" when none does ($1,234.56). With
// reads, it says what each layout makes of the sample.
func layoutHint[L fmt.Stringer](side, column, typ string, layouts []L, sample string, reads func(L) string) string {
	if len(layouts) == 0 {
		return ""
	}
	hint := fmt.Sprintf("; to read them, set the %s source's types to {%q: \"%s %s\"}", side, column, typ, layouts[0])
	if reads == nil {
		if len(layouts) > 1 {
			hint += fmt.Sprintf(" or \"%s %s\"", typ, layouts[1])
		}
		return hint + ", as they are written"
	}
	hint += fmt.Sprintf(", which reads %q as %s", sample, reads(layouts[0]))
	if len(layouts) > 1 {
		hint += fmt.Sprintf(", or \"%s %s\", as %s", typ, layouts[1], reads(layouts[1]))
	}
	return hint
}

// checkWidth returns what is wrong with a number condition whose
// arithmetic needs more than recipe.MaxDigits digits, or "": the wider
// operand's integer digits and the larger scale (one digit more for a
// difference). thresholdAtFault says a threshold with fewer digits would
// do. Widths measured from the values count (CSV numbers, floats,
// undeclared PostgreSQL numerics), and the 19 digits of an integer column
// read as BIGINT (a Parquet int64) against another integer (see digits):
// such values would fail while running, with the engine's words. A
// declared decimal width (a Parquet DECIMAL(38,2)) says little of the
// values, which the engine computes with as long as they fit.
func checkWidth(c Condition) (msg string, thresholdAtFault bool) {
	threshold := c.Threshold
	if c.Op == kallav1.Operator_OPERATOR_TOLERANCE {
		threshold = Tolerance(c.Left, c.Right, c.Threshold)
	}
	li, ls, lok := digits(c.Left, c.Right)
	ri, rs, rok := digits(c.Right, c.Left)
	if !lok || !rok {
		return "", false
	}
	i, s := max(li, ri), max(ls, rs)
	need := func(ti, ts int) int {
		switch c.Op {
		case kallav1.Operator_OPERATOR_GT, kallav1.Operator_OPERATOR_LT, kallav1.Operator_OPERATOR_GTE, kallav1.Operator_OPERATOR_LTE:
			return i + 1 + s // ranked by |l - r|
		case kallav1.Operator_OPERATOR_TOLERANCE:
			return max(i+1, ti) + max(s, ts)
		case kallav1.Operator_OPERATOR_TOLERANCE_PCT:
			// |l - r| * 100 <= threshold * |l|
			return max(i+3, ti+li) + max(s, ts+ls)
		}
		return i + s
	}
	full := need(thresholdDigits(threshold))
	return tooWide(recipe.OperatorName(c.Op), c.Left, c.Right, full, c.ThresholdText, need(0, 0))
}

// checkAggregateWidth is checkWidth for an aggregate check, |left -
// sum(right)| <= tolerance, counted as a tolerance on the two columns: a sum
// of many records may need a digit or two more, which the engine then
// reports while running.
func checkAggregateWidth(a Aggregate) string {
	li, ls, lok := digits(a.Left, a.Right)
	ri, rs, rok := digits(a.Right, a.Left)
	if !lok || !rok {
		return ""
	}
	ti, ts := thresholdDigits(Tolerance(a.Left, a.Right, a.Tolerance))
	i, s := max(li, ri)+1, max(ls, rs)
	msg, _ := tooWide("an aggregate check", a.Left, a.Right, max(i, ti)+max(s, ts), a.ToleranceText, i+s)
	return msg
}

// Tolerance is the bound a difference of l and r is compared with, by a
// tolerance condition or an aggregate check: for two integers t's whole
// part, which their difference (a whole number) passes exactly when it
// passes t, and which the engine need not widen into digits after the
// point; else t. Thresholds are >= 0.
func Tolerance(l, r source.Column, t *big.Rat) *big.Rat {
	if l.Type == source.Integer && r.Type == source.Integer {
		return new(big.Rat).SetInt(new(big.Int).Quo(t.Num(), t.Denom()))
	}
	return t
}

// digits returns column c's integer digits and scale where they count:
// measured from the values, or, for an integer column of declared width
// compared with another integer column, BIGINT's 19 digits (every integer
// is read as BIGINT). Between two integers only a threshold can be too
// long; against a decimal, a declared integer's width is left uncounted,
// as a declared decimal's is, since it says little of the values.
func digits(c, other source.Column) (intDigits, scale int, ok bool) {
	switch {
	case c.Measured:
		return c.Precision - c.Scale, c.Scale, true
	case c.Type == source.Integer && other.Type == source.Integer:
		return BigintDigits, 0, true
	}
	return 0, 0, false
}

// BigintDigits are the digits of a BIGINT, an undeclared integer's width.
const BigintDigits = 19

// tooWide says that arithmetic on l and r needs more digits than the
// engines compute with, or returns ""; when it would fit without the
// threshold (needing without digits), the threshold is at fault.
func tooWide(what string, l, r source.Column, need int, threshold string, without int) (string, bool) {
	if need <= recipe.MaxDigits {
		return "", false
	}
	if without <= recipe.MaxDigits {
		return fmt.Sprintf("%s on %s (%s) and %s (%s) with threshold %s needs numbers of %d digits, and Kalla computes with at most %d: a threshold with fewer digits would do",
			what, l.Name, l.TypeName(), r.Name, r.TypeName(), threshold, need, recipe.MaxDigits), true
	}
	return fmt.Sprintf("%s on %s (%s) and %s (%s) needs numbers of %d digits, and Kalla computes with at most %d: fewer digits before or after the point on either side would do",
		what, l.Name, l.TypeName(), r.Name, r.TypeName(), need, recipe.MaxDigits), false
}

// thresholdDigits returns the integer digits and scale of a threshold.
func thresholdDigits(r *big.Rat) (intDigits, scale int) {
	if r == nil {
		return 0, 0
	}
	return recipe.IntDigits(r), recipe.Scale(r)
}
