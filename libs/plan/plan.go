// Package plan turns a recipe and its sources' schemas into a small
// relational plan: two keyed inputs and, per rule in execution order, the
// candidate join, its ranking and its grouping. Engines run a plan; none of
// this package depends on one.
package plan

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"sort"
	"strings"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
)

// Plan is one reconciliation, ready for an engine.
type Plan struct {
	RecipeID    string
	Left, Right Input
	// Rules are in execution order: ascending priority, ties in file order.
	Rules []Rule
}

// Input is one side: where it is, its columns and its key.
type Input struct {
	Alias  string
	Ref    source.Ref
	Schema source.Schema
	// Key lists the primary key columns; empty means the 1-based row number.
	Key []source.Column
	// Extracts, Nets and Signed are the columns the source's extract, net
	// and signed derive, by name.
	Extracts []Extract
	Nets     []Net
	Signed   []Signed
	// Totals are the sums the summary reports, in the recipe's order.
	Totals []Total
	// Filters are the conditions every record kept must meet.
	Filters []Filter
	// Read, when above 0, is how many records the source held before its
	// filter, as counted where it was read: a database that left out the
	// rows the filter does not keep counts them too, in its copy or in the
	// parts a stager wrote. 0 has the engine take the count of the
	// schema's reader (Schema.Rows), or count the records it reads.
	Read int64
}

// Rule is one match rule.
type Rule struct {
	Name    string
	Pattern kallav1.Pattern
	// Field is the rule's place in the recipe, such as "match_rules[2]".
	Field      string
	Conditions []Condition
	Aggregate  *Aggregate
}

// Condition compares a left and a right column.
type Condition struct {
	Op          kallav1.Operator
	Left, Right source.Column
	// LeftReversed and RightReversed say the column is compared negated
	// (its source's reverse_sign).
	LeftReversed, RightReversed bool
	// LeftLabel and RightLabel name the columns in evidence text (see
	// labels).
	LeftLabel, RightLabel string
	// Threshold is exact; ThresholdText is as the user wrote it.
	Threshold     *big.Rat
	ThresholdText string
}

// Aggregate checks |one - sum(many)| <= Tolerance for 1:N and M:1 groups.
type Aggregate struct {
	Left, Right                 source.Column
	LeftReversed, RightReversed bool
	LeftLabel, RightLabel       string
	Tolerance                   *big.Rat
	ToleranceText               string
}

// Join reports whether the condition is one of the rule's join keys.
func (c Condition) Join() bool { return recipe.IsJoinKey(c.Op) }

// PatternName is the rule's pattern as users write it.
func (r Rule) PatternName() string { return recipe.PatternName(r.Pattern) }

// Build checks the recipe's columns and types against the schemas and
// returns the plan. Mistakes come back as recipe.Errors naming the field.
func Build(r *kallav1.Recipe, left, right Input) (*Plan, error) {
	b := &builder{refused: map[string]bool{}}
	b.names(left, "sources.left.uri")
	b.names(right, "sources.right.uri")
	left = b.derive(r.GetSources().GetLeft(), left, "left")
	right = b.derive(r.GetSources().GetRight(), right, "right")
	typeEmpty(r, &left, &right)
	b.left, b.right = left, right
	p := &Plan{RecipeID: r.GetRecipeId(), Left: left, Right: right}
	// Keys and types name the source's own columns.
	p.Left.Key = b.key(r.GetSources().GetLeft(), left.own(), "sources.left.primary_key")
	p.Right.Key = b.key(r.GetSources().GetRight(), right.own(), "sources.right.primary_key")
	b.types(r.GetSources().GetLeft(), left.own(), "sources.left.types")
	b.types(r.GetSources().GetRight(), right.own(), "sources.right.types")
	b.leftReversed = b.reversed(r.GetSources().GetLeft(), left, "left")
	b.rightReversed = b.reversed(r.GetSources().GetRight(), right, "right")
	p.Left.Totals = b.totals(r.GetSources().GetLeft(), left, "left")
	p.Right.Totals = b.totals(r.GetSources().GetRight(), right, "right")
	p.Left.Filters = b.filters(r.GetSources().GetLeft(), left, "left")
	p.Right.Filters = b.filters(r.GetSources().GetRight(), right, "right")
	for _, i := range executionOrder(r.GetMatchRules()) {
		p.Rules = append(p.Rules, b.rule(r.GetMatchRules()[i], fmt.Sprintf("match_rules[%d]", i)))
	}
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	return p, nil
}

// SideFilters checks one side's filter against its source's columns, own
// and derived, as Build does, for a reader that has no other side: a
// stager, which has the database check what it can (see
// sqlplan.PostgresWhere).
func SideFilters(s *kallav1.Source, in Input, side string) ([]Filter, error) {
	b := &builder{refused: map[string]bool{}}
	filters := b.filters(s, b.derive(s, in, side), side)
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	return filters, nil
}

// typeEmpty gives each empty CSV column (no value at all, as in a file of a
// header only) the type of the first column with a type it is compared with
// (in the order of the rules and their conditions; a column the source
// derives, such as a net, too), instead of
// text: a day without invoices still reconciles, every condition on its
// NULLs false. Two empty columns compared only with each other (a day
// without invoices or payments) take a type their operator compares:
// integer for numbers, date for dates. The inputs get their own copies of
// their columns.
func typeEmpty(r *kallav1.Recipe, left, right *Input) {
	left.Schema.Columns = slices.Clone(left.Schema.Columns)
	right.Schema.Columns = slices.Clone(right.Schema.Columns)
	// pair finds the columns a condition or an aggregate compares: the
	// sources' own, which may take a type, or copies of derived ones.
	find := func(in *Input, name string) *source.Column {
		if i := slices.IndexFunc(in.Schema.Columns, func(c source.Column) bool { return c.Name == name }); i >= 0 {
			return &in.Schema.Columns[i]
		}
		if c, ok := in.column(name); ok {
			return &c
		}
		return nil
	}
	pair := func(l, r string) (*source.Column, *source.Column) {
		lc, rc := find(left, l), find(right, r)
		if lc == nil || rc == nil {
			return nil, nil
		}
		return lc, rc
	}
	adopt := func(l, r string, _ Class) bool {
		lc, rc := pair(l, r)
		switch {
		case lc == nil:
		case lc.Empty && !rc.Empty:
			lc.Type, lc.Precision, lc.Scale, lc.Empty = rc.Type, rc.Precision, rc.Scale, false
			return true
		case rc.Empty && !lc.Empty:
			rc.Type, rc.Precision, rc.Scale, rc.Empty = lc.Type, lc.Precision, lc.Scale, false
			return true
		}
		return false
	}
	settle := func(l, r string, class Class) bool {
		typ, ok := map[Class]source.Type{Number: source.Integer, Temporal: source.Date}[class]
		lc, rc := pair(l, r)
		if !ok || lc == nil || !lc.Empty || !rc.Empty {
			return false
		}
		lc.Type, lc.Empty, rc.Type, rc.Empty = typ, false, typ, false
		return true
	}
	// each applies f to every compared pair with the class its operator
	// needs first (0 for any), until f changes one when once is set.
	each := func(f func(l, r string, class Class) bool, once bool) bool {
		changed := false
		for _, rule := range r.GetMatchRules() {
			for _, c := range rule.GetConditions() {
				var class Class
				if classes := operandClasses[c.GetOp()]; len(classes) > 0 {
					class = classes[0]
				}
				if f(c.GetLeft(), c.GetRight(), class) {
					if changed = true; once {
						return true
					}
				}
			}
			if a := rule.GetAggregate(); a != nil && f(a.GetLeft(), a.GetRight(), Number) {
				if changed = true; once {
					return true
				}
			}
		}
		return changed
	}
	// Until nothing changes: an empty column compared only with another
	// empty one takes a type once that one has; two settled may type
	// others.
	for {
		if each(adopt, false) {
			continue
		}
		if !each(settle, true) {
			return
		}
	}
}

// executionOrder sorts rule indexes by priority, keeping file order on ties.
func executionOrder(rules []*kallav1.MatchRule) []int {
	order := make([]int, len(rules))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return rules[order[a]].GetPriority() < rules[order[b]].GetPriority()
	})
	return order
}

type builder struct {
	left, right Input
	// leftReversed and rightReversed are the columns named by the sources'
	// reverse_sign.
	leftReversed, rightReversed map[string]bool
	// refused names the derived columns refused (alias.name), whose uses
	// need no error of their own.
	refused map[string]bool
	errs    recipe.Errors
}

func (b *builder) fail(field, format string, args ...any) {
	b.errs = append(b.errs, recipe.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (b *builder) column(in Input, name, field string) (source.Column, bool) {
	c, ok := in.column(name)
	if !ok && b.refused[in.Alias+"."+name] {
		return c, false
	}
	if !ok {
		names := in.Schema.Names()
		for _, d := range in.derived() {
			names += ", " + d.Name
		}
		b.fail(field, "column %q is not in %s; its columns are: %s", name, in.Alias, names)
		return c, false
	}
	if c.Unfit != "" {
		b.fail(field, "column %q of %s cannot be compared or be a key: it %s (it is written to the evidence as text)", name, in.Alias, c.Unfit)
		return c, false
	}
	return c, true
}

// reserved reports whether a column name belongs to Kalla: engines number
// records in __id and add kalla_ columns to the evidence, so a source column
// of such a name would be confused with them. The engines' identifiers
// ignore case, so Kalla_Near_Reason would stand for kalla_near_reason.
func reserved(name string) bool {
	return strings.HasPrefix(name, "__") || strings.HasPrefix(strings.ToLower(name), "kalla_")
}

// names refuses column names the engine would confuse: Kalla's own, and
// names that differ only in ASCII letter case (DuckDB keeps the second of
// "A" and "a" as "a_1", and the source then fails with a puzzling error).
func (b *builder) names(in Input, field string) {
	seen := map[string]string{}
	for _, c := range in.Schema.Columns {
		if reserved(c.Name) {
			b.fail(field, "column %q of %s has a name Kalla reserves for its own columns (names starting with \"__\" or \"kalla_\" in any case); rename it in the source", c.Name, in.Alias)
		}
		folded := asciiLower(c.Name)
		if first, ok := seen[folded]; ok {
			b.fail(field, "columns %q and %q of %s differ only in letter case, which the engine does not tell apart; rename one in the source", first, c.Name, in.Alias)
			continue
		}
		seen[folded] = c.Name
	}
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// types refuses types set for columns the source lacks (the schema reader
// leaves those alone).
func (b *builder) types(s *kallav1.Source, in Input, field string) {
	for _, name := range slices.Sorted(maps.Keys(s.GetTypes())) {
		b.column(in, name, field+"."+name)
	}
}

func (b *builder) key(s *kallav1.Source, in Input, field string) []source.Column {
	var key []source.Column
	for i, name := range s.GetPrimaryKey() {
		if c, ok := b.column(in, name, fmt.Sprintf("%s[%d]", field, i)); ok {
			key = append(key, c)
		}
	}
	if len(s.GetPrimaryKey()) == 0 && !in.Ref.Native() {
		b.fail(field, "a database source needs a primary key")
	}
	return key
}

func (b *builder) rule(mr *kallav1.MatchRule, field string) Rule {
	rule := Rule{Name: mr.GetName(), Pattern: mr.GetPattern(), Field: field}
	for i, c := range mr.GetConditions() {
		cf := fmt.Sprintf("%s.conditions[%d]", field, i)
		l, okl := b.column(b.left, c.GetLeft(), cf+".left")
		r, okr := b.column(b.right, c.GetRight(), cf+".right")
		if !okl || !okr {
			continue
		}
		cond := Condition{Op: c.GetOp(), Left: l, Right: r, LeftReversed: b.leftReversed[l.Name], RightReversed: b.rightReversed[r.Name]}
		cond.LeftLabel, cond.RightLabel = b.labels(l, r, cond.LeftReversed, cond.RightReversed)
		if c.Threshold != nil {
			cond.Threshold, _ = recipe.Rat(c.Threshold)
			cond.ThresholdText = c.Threshold.GetValue()
		}
		if msg := checkTypes(cond); msg != "" {
			b.fail(cf, "%s", msg)
		} else if msg, threshold := checkWidth(cond); threshold {
			b.fail(cf+".threshold", "%s", msg)
		} else if msg != "" {
			b.fail(cf, "%s", msg)
		}
		rule.Conditions = append(rule.Conditions, cond)
	}
	if a := mr.GetAggregate(); a != nil {
		rule.Aggregate = b.aggregate(a, field+".aggregate")
	}
	return rule
}

// labels names a left and a right column in evidence text (near-miss
// reasons, deltas): by their names, or, when both have the same name, each
// with its source's alias (invoices.amount), so that "amount is empty" says
// which side's amount. A column compared negated is named with a minus
// (-bank.amount), as its values are shown negated.
func (b *builder) labels(l, r source.Column, lrev, rrev bool) (string, string) {
	ll, rl := l.Name, r.Name
	if l.Name == r.Name {
		ll, rl = b.left.Alias+"."+l.Name, b.right.Alias+"."+r.Name
	}
	return SignedName(ll, lrev), SignedName(rl, rrev)
}

// SignedName is a column's name or label as evidence text shows it: with
// a minus when the column is compared negated.
func SignedName(label string, reversed bool) string {
	if reversed {
		return "-" + label
	}
	return label
}

func (b *builder) aggregate(a *kallav1.Aggregate, field string) *Aggregate {
	l, okl := b.column(b.left, a.GetLeft(), field+".left")
	r, okr := b.column(b.right, a.GetRight(), field+".right")
	if !okl || !okr {
		return nil
	}
	for i, c := range []source.Column{l, r} {
		if Classify(c.Type) == Number {
			continue
		}
		// This column's note only: the other's would explain the wrong one.
		note := textNote(c, source.Column{}, Number, 0)
		if i == 1 {
			note = textNote(source.Column{}, c, 0, Number)
		}
		b.fail(field, "an aggregate check sums numbers, but %s is %s%s", c.Name, c.TypeName(), note)
		return nil
	}
	tol, _ := recipe.Rat(a.GetTolerance())
	agg := &Aggregate{Left: l, Right: r, LeftReversed: b.leftReversed[l.Name], RightReversed: b.rightReversed[r.Name], Tolerance: tol, ToleranceText: a.GetTolerance().GetValue()}
	agg.LeftLabel, agg.RightLabel = b.labels(l, r, agg.LeftReversed, agg.RightReversed)
	if msg := checkAggregateWidth(*agg); msg != "" {
		b.fail(field, "%s", msg)
		return nil
	}
	return agg
}
