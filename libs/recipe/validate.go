package recipe

import (
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/source"
)

// versions are the recipe versions this Kalla reads, all meaning the one
// format there is so far.
var versions = []string{"1.0", "1"}

// Validate checks what can be checked without reading the sources: the
// version, patterns, operators and their thresholds, join keys, aggregates
// and rule names. Column names are checked against the sources' schemas
// later.
func Validate(r *kallav1.Recipe) error {
	return validate(r).orNil()
}

func validate(r *kallav1.Recipe) Errors {
	var errs Errors
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if r.GetRecipeId() == "" {
		fail("recipe_id", "is required")
	}
	if v := r.GetVersion(); v != "" && !slices.Contains(versions, v) {
		fail("version", "%q is not a recipe version this Kalla reads; allowed: \"1.0\" (also written \"1\"), or none", v)
	}
	l, rt := r.GetSources().GetLeft(), r.GetSources().GetRight()
	if l == nil || rt == nil {
		fail("sources", "needs both left and right")
	} else if l.GetAlias() == rt.GetAlias() {
		fail("sources.right.alias", "must differ from the left alias %q", l.GetAlias())
	}
	for _, s := range []struct {
		side string
		src  *kallav1.Source
	}{{"left", l}, {"right", rt}} {
		errs = append(errs, validateSource(s.src, "sources."+s.side)...)
	}
	if len(r.GetMatchRules()) == 0 {
		fail("match_rules", "needs at least one rule")
	}
	seen := map[string]int{}
	// A rule without a priority among rules with one would run first (it
	// is 0), which nobody means: all or none.
	firstSet := slices.IndexFunc(r.GetMatchRules(), func(rule *kallav1.MatchRule) bool { return rule.Priority != nil })
	for i, rule := range r.GetMatchRules() {
		path := index("match_rules", i)
		if firstSet >= 0 && rule.Priority == nil {
			fail(path, "has no priority, while match_rules[%d] has one: give every rule a priority (lowest runs first), or none to run them in file order", firstSet)
		}
		if first, dup := seen[rule.GetName()]; dup {
			fail(join(path, "name"), "rule name %q is already used by match_rules[%d]", rule.GetName(), first)
		} else {
			seen[rule.GetName()] = i
		}
		errs = append(errs, validateRule(rule, path)...)
	}
	o := r.GetOutput()
	for _, out := range []struct{ field, path string }{
		{"output.matched", o.GetMatched()}, {"output.unmatched_left", o.GetUnmatchedLeft()}, {"output.unmatched_right", o.GetUnmatchedRight()},
	} {
		if strings.Contains(out.path, "://") {
			fail(out.field, "%q is a URI: give a file's path, relative to the recipe or absolute (`kalla reconcile --out s3://bucket/prefix` writes the evidence to an object store)", out.path)
		}
	}
	return errs
}

// validateNames checks the list of column names a source's field sets:
// each named once, none empty.
func validateNames(names []string, path, field string) Errors {
	var errs Errors
	named := map[string]int{}
	for i, name := range names {
		at := index(path+"."+field, i)
		if first, dup := named[name]; dup {
			errs = append(errs, FieldError{Field: at, Message: fmt.Sprintf("column %q is already named at %s", name, index(field, first))})
		} else if name == "" {
			errs = append(errs, FieldError{Field: at, Message: "is empty; name a column"})
		}
		named[name] = i
	}
	return errs
}

// validateSource checks what a source sets besides its alias and URI:
// types, skip_lines, columns, separator, encoding, sheet, reverse_sign,
// extract, net, signed, totals and filter.
func validateSource(src *kallav1.Source, path string) Errors {
	var errs Errors
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	types := src.GetTypes()
	for _, name := range slices.Sorted(maps.Keys(types)) {
		set, err := columnType(types[name])
		switch {
		case err != nil:
			fail(path+".types."+name, "%v", err)
		case set.Type == 0:
			fail(path+".types."+name, "%q is not a type; allowed: %s, or date, timestamp or decimal and a layout "+
				"such as \"date DD/MM/YYYY\", \"timestamp DD/MM/YYYY hh:mm\" or \"decimal 1.234,56\"", types[name], sortedNames(typeNames))
		}
	}
	ref, refErr := source.Parse(src.GetUri())
	notCSV := func(field string) {
		if refErr == nil && ref.Format != source.FormatCSV {
			fail(field, "applies to CSV sources only; %s is %s", ref, ref.Format)
		}
	}
	if skip := src.GetSkipLines(); skip < 0 {
		fail(path+".skip_lines", "is %d; give how many lines come before the header, 0 or more", skip)
	} else if skip > 0 {
		notCSV(path + ".skip_lines")
	}
	if len(src.GetColumns()) > 0 {
		notCSV(path + ".columns")
	}
	if sep := src.GetSeparator(); sep != "" {
		if !source.IsSeparator(sep) {
			fail(path+".separator", "is %q; allowed: %s", sep, source.SeparatorNames())
		}
		notCSV(path + ".separator")
	}
	if enc := src.GetEncoding(); enc != "" {
		if !source.IsEncoding(enc) {
			fail(path+".encoding", "is %q; allowed: %s", enc, source.EncodingNames())
		}
		notCSV(path + ".encoding")
	}
	workbook := refErr == nil && source.Workbook(src.GetUri())
	if src.GetSheet() != "" && refErr == nil && !workbook {
		fail(path+".sheet", "applies to Excel workbooks (.xlsx, .xlsm) only; %s is not one", ref)
	}
	const notText = "applies to delimited text files only; %s is an Excel workbook, whose cells are its fields"
	if workbook && src.GetSeparator() != "" {
		fail(path+".separator", notText, ref)
	}
	if workbook && src.GetEncoding() != "" {
		fail(path+".encoding", notText, ref)
	}
	errs = append(errs, validateNames(src.GetColumns(), path, "columns")...)
	errs = append(errs, validateNames(src.GetReverseSign(), path, "reverse_sign")...)
	errs = append(errs, eachNamed(src.GetExtract(), path+".extract", validateExtract)...)
	errs = append(errs, eachNamed(src.GetNet(), path+".net", validateNet)...)
	errs = append(errs, eachNamed(src.GetSigned(), path+".signed", validateSigned)...)
	errs = append(errs, validateTotals(src.GetTotals(), path+".totals")...)
	return append(errs, validateFilters(src.GetFilter(), path+".filter")...)
}

// validateFilters checks that each filter condition names a column and an
// operator, with as many values as the operator takes. The values' types
// are the columns', checked against the source's schema.
func validateFilters(filters []*kallav1.Filter, path string) Errors {
	var errs Errors
	for i, f := range filters {
		field := index(path, i)
		op := FilterName(f.GetOp())
		none, list := takesNoValue(f.GetOp()), TakesList(f.GetOp())
		switch n := len(f.GetValues()); {
		case f.GetColumn() == "":
			errs = append(errs, FieldError{Field: field + ".column", Message: "is required: a column of the source"})
		case f.GetOp() == kallav1.FilterOperator_FILTER_OPERATOR_UNSPECIFIED:
			errs = append(errs, FieldError{Field: field + ".op", Message: "is required; allowed: " + sortedNames(filterNames)})
		case none && n > 0:
			errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf("%s takes no value", op)})
		case list && n == 0:
			errs = append(errs, FieldError{Field: field + ".values", Message: fmt.Sprintf("is required: %s takes a list of values, such as [\"1010\", \"1020\"]", op)})
		case !none && !list && n == 0:
			errs = append(errs, FieldError{Field: field + ".value", Message: fmt.Sprintf("is required: %s takes one value (in and not_in take a list)", op)})
		case !none && !list && n > 1:
			errs = append(errs, FieldError{Field: field + ".values", Message: fmt.Sprintf("has %d values; %s takes one (in and not_in take a list)", n, op)})
		}
		for j, v := range f.GetValues() {
			where := field + ".value"
			if list {
				where = index(field+".values", j)
			}
			if strings.ContainsRune(v, 0) {
				errs = append(errs, FieldError{Field: where, Message: "holds a NUL character, which no value may"})
			}
		}
	}
	return errs
}

func takesNoValue(op kallav1.FilterOperator) bool {
	return op == kallav1.FilterOperator_FILTER_OPERATOR_EMPTY || op == kallav1.FilterOperator_FILTER_OPERATOR_NOT_EMPTY
}

// TakesList says the operator takes a list of values (in, not_in), which a
// recipe writes as values; the others take one, written as value, or none.
func TakesList(op kallav1.FilterOperator) bool {
	return op == kallav1.FilterOperator_FILTER_OPERATOR_IN || op == kallav1.FilterOperator_FILTER_OPERATOR_NOT_IN
}

// validateTotals checks that each total names a column, split by another
// column or by none, and is asked for once.
func validateTotals(totals []*kallav1.Total, path string) Errors {
	var errs Errors
	seen := map[[2]string]int{}
	for i, t := range totals {
		field := index(path, i)
		key := [2]string{t.GetColumn(), t.GetBy()}
		first, dup := seen[key]
		switch {
		case t.GetColumn() == "":
			errs = append(errs, FieldError{Field: field + ".column", Message: "is required: a number column of the source"})
		case t.GetBy() == t.GetColumn():
			errs = append(errs, FieldError{Field: field + ".by", Message: fmt.Sprintf("splits %q by itself; name another column, such as a currency", t.GetBy())})
		case dup:
			errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf("is already asked for at %s", index(path, first))})
		}
		seen[key] = i
	}
	return errs
}

// eachNamed checks the columns a source derives, in the order of their
// names, each at its field; a name must not be empty.
func eachNamed[M any](m map[string]M, path string, check func(M, string) Errors) Errors {
	var errs Errors
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if name == "" {
			errs = append(errs, FieldError{Field: path, Message: `names a column ""; give it a name`})
		}
		errs = append(errs, check(m[name], path+"."+name)...)
	}
	return errs
}

func validateExtract(e *kallav1.Extract, field string) Errors {
	var errs Errors
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch _, err := ExtractPattern(e); {
	case e.GetFrom() == "":
		fail(field+".from", "is required: the text column to read")
	case e.GetPattern() == "":
		fail(field+".pattern", "is required: a regular expression such as \"INV-[0-9]+\"")
	case strings.ContainsRune(e.GetPattern(), 0):
		fail(field+".pattern", "holds a NUL character; write it \\x00")
	case err != nil:
		fail(field+".pattern", "%v", err)
	}
	if _, ok := ExtractType(e); !ok {
		fail(field+".type", "%q is not a type an extract takes; allowed: text (when left out), integer", e.GetType())
	}
	return errs
}

func validateNet(n *kallav1.Net, field string) Errors {
	switch {
	case n.GetPlus() == "":
		return Errors{{Field: field + ".plus", Message: "is required: the column added"}}
	case n.GetMinus() == "":
		return Errors{{Field: field + ".minus", Message: "is required: the column subtracted"}}
	case n.GetPlus() == n.GetMinus():
		return Errors{{Field: field, Message: fmt.Sprintf("subtracts %q from itself; name two columns", n.GetPlus())}}
	}
	return nil
}

// validateSigned checks a signed column's fields and marks: each mark in
// one list, none empty (an empty CSV field is no mark).
func validateSigned(g *kallav1.Signed, field string) Errors {
	var errs Errors
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	for _, c := range []struct{ what, name string }{{"value", g.GetValue()}, {"by", g.GetBy()}} {
		if c.name == "" {
			fail(field+"."+c.what, "is required: a column of the source")
		}
	}
	seen := map[string]string{}
	for _, list := range []struct {
		what  string
		marks []string
	}{{"positive", g.GetPositive()}, {"negative", g.GetNegative()}} {
		if len(list.marks) == 0 {
			fail(field+"."+list.what, "is required: the marks of %s amounts, such as [\"D\"] or [\"C\", \"CR\"]", list.what)
		}
		for i, mark := range list.marks {
			f := index(field+"."+list.what, i)
			switch {
			case mark == "":
				fail(f, "is empty; an empty field is no mark")
			case strings.ContainsRune(mark, 0):
				fail(f, "holds a NUL character, which a mark may not")
			case seen[mark] != "":
				fail(f, "%q is already a mark at %s", mark, seen[mark])
			default:
				seen[mark] = f
			}
		}
	}
	return errs
}

// ExtractType is the type an extract's values take: text, or integer.
func ExtractType(e *kallav1.Extract) (source.Type, bool) {
	switch e.GetType() {
	case "", typeNames[source.Text]:
		return source.Text, true
	case typeNames[source.Integer]:
		return source.Integer, true
	}
	return 0, false
}

// ExtractPattern compiles an extract's pattern and says which group its
// value is: the first capture group when there is one, else the match.
func ExtractPattern(e *kallav1.Extract) (group int, err error) {
	re, err := regexp.Compile(e.GetPattern())
	if err != nil {
		return 0, fmt.Errorf("%q is no regular expression: %v", e.GetPattern(), strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return min(re.NumSubexp(), 1), nil
}

func validateRule(rule *kallav1.MatchRule, path string) Errors {
	var errs Errors
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if patternNames[rule.GetPattern()] == "" {
		fail(join(path, "pattern"), "is required; allowed: %s", sortedNames(patternNames))
	}
	if len(rule.GetConditions()) == 0 {
		fail(join(path, "conditions"), "needs at least one condition")
	}
	hasKey := false
	for j, c := range rule.GetConditions() {
		cpath := index(join(path, "conditions"), j)
		if IsJoinKey(c.GetOp()) {
			hasKey = true
		}
		if msg := checkThreshold(c); msg != "" {
			fail(join(cpath, "threshold"), "%s", msg)
		}
	}
	if len(rule.GetConditions()) > 0 && !hasKey {
		fail(join(path, "conditions"), "rule %q has no eq or eq_ci condition; every rule needs one to join on, so no rule compares every record with every other", rule.GetName())
	}
	if a := rule.GetAggregate(); a != nil {
		p := rule.GetPattern()
		if p != kallav1.Pattern_PATTERN_ONE_TO_MANY && p != kallav1.Pattern_PATTERN_MANY_TO_ONE {
			fail(join(path, "aggregate"), "an aggregate check needs pattern 1:N or M:1, not %s", patternNames[p])
		}
		tol, ok := Rat(a.GetTolerance())
		switch {
		case !ok || tol.Sign() < 0:
			fail(join(path, "aggregate.tolerance"), "must be a decimal number >= 0")
		case exactDigits(tol) > MaxDigits:
			fail(join(path, "aggregate.tolerance"), "%s", tooManyDigits(tol, a.GetTolerance().GetValue()))
		}
	}
	return errs
}

// IsJoinKey reports whether an operator can serve as a rule's join key.
func IsJoinKey(op kallav1.Operator) bool {
	return op == kallav1.Operator_OPERATOR_EQ || op == kallav1.Operator_OPERATOR_EQ_CI
}

// NeedsThreshold reports whether an operator takes a threshold.
func NeedsThreshold(op kallav1.Operator) bool {
	switch op {
	case kallav1.Operator_OPERATOR_TOLERANCE, kallav1.Operator_OPERATOR_TOLERANCE_PCT,
		kallav1.Operator_OPERATOR_DATE_WITHIN, kallav1.Operator_OPERATOR_FUZZY:
		return true
	}
	return false
}

// checkThreshold returns what is wrong with a condition's threshold, or "".
func checkThreshold(c *kallav1.Condition) string {
	name := operatorNames[c.GetOp()]
	if !NeedsThreshold(c.GetOp()) {
		if c.Threshold != nil {
			return fmt.Sprintf("operator %s takes no threshold", name)
		}
		return ""
	}
	if c.Threshold == nil {
		return fmt.Sprintf("operator %s needs a threshold", name)
	}
	t, ok := Rat(c.Threshold)
	switch {
	case !ok:
		return fmt.Sprintf("%q is not a decimal number", c.Threshold.GetValue())
	case t.Sign() < 0:
		return fmt.Sprintf("must be >= 0 for %s, got %s", name, c.Threshold.GetValue())
	case c.GetOp() == kallav1.Operator_OPERATOR_DATE_WITHIN && !t.IsInt():
		return fmt.Sprintf("date_within takes a whole number of days, got %s", c.Threshold.GetValue())
	case c.GetOp() == kallav1.Operator_OPERATOR_FUZZY && t.Cmp(big.NewRat(1, 1)) > 0:
		return fmt.Sprintf("fuzzy takes a similarity from 0 to 1, got %s", c.Threshold.GetValue())
	case c.GetOp() == kallav1.Operator_OPERATOR_FUZZY && Scale(t) > maxFuzzyScale:
		// 1 - similarity times a length must stay exact.
		return fmt.Sprintf("fuzzy takes a similarity of at most %d digits after the point, got %s", maxFuzzyScale, c.Threshold.GetValue())
	case exactDigits(t) > MaxDigits:
		return tooManyDigits(t, c.Threshold.GetValue())
	}
	return ""
}

// MaxDigits is the widest exact decimal the engines compute with.
const MaxDigits = source.MaxDigits

// maxFuzzyScale is the most digits after the point of a fuzzy threshold.
const maxFuzzyScale = 18

// Scale is how many digits after the point r needs as an exact decimal, or
// MaxDigits + 1 when more than MaxDigits would not do (1e-400, 1/3).
func Scale(r *big.Rat) int {
	x, ten := new(big.Rat).Set(r), big.NewRat(10, 1)
	for scale := 0; scale <= MaxDigits; scale++ {
		if x.IsInt() {
			return scale
		}
		x.Mul(x, ten)
	}
	return MaxDigits + 1
}

// IntDigits is how many digits r has before the point.
func IntDigits(r *big.Rat) int {
	whole := new(big.Int).Quo(new(big.Int).Abs(r.Num()), r.Denom())
	if whole.Sign() == 0 {
		return 0
	}
	return len(whole.String())
}

func exactDigits(r *big.Rat) int { return IntDigits(r) + Scale(r) }

func tooManyDigits(r *big.Rat, text string) string {
	if Scale(r) > MaxDigits {
		return fmt.Sprintf("%s needs more than %d digits after the point as an exact decimal, and Kalla computes with at most %d digits", text, MaxDigits, MaxDigits)
	}
	return fmt.Sprintf("%s needs %d digits as an exact decimal (%d before the point, %d after it), and Kalla computes with at most %d", text, exactDigits(r), IntDigits(r), Scale(r), MaxDigits)
}

// Rat returns a decimal's exact value.
func Rat(d *kallav1.Decimal) (*big.Rat, bool) {
	if d == nil || !decimalText.MatchString(d.GetValue()) {
		return nil, false
	}
	return new(big.Rat).SetString(d.GetValue())
}
