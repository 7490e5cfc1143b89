package plan

import (
	"fmt"

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
		return fmt.Sprintf("%s cannot compare %s (%s) with %s (%s)", op, c.Left.Name, c.Left.TypeName(), c.Right.Name, c.Right.TypeName()) +
			textNote(c.Left, c.Right)
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
	return fmt.Sprintf("%s compares %s, but %s and %s are %s", op, classNames[allowed[0]], c.Left.Name, c.Right.Name, c.Left.TypeName()) +
		textNote(c.Left, c.Right)
}

// textNote explains why the left or right column is text, when it is so
// for how its numbers are written (leading zeros or an exponent) or for a
// value among numbers or dates that is neither, or returns "".
func textNote(left, right source.Column) string {
	side, c := "left", left
	if c.LeadingZeros == "" && c.Exponent == "" && c.Odd == "" {
		side, c = "right", right
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
		return fmt.Sprintf(" (the %s %s is text because of values such as %q among its numbers or dates)", side, c.Name, c.Odd)
	}
	return ""
}
