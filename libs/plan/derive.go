package plan

import (
	"fmt"
	"maps"
	"slices"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
)

// Extract is a column taken out of another column's text by a regular
// expression (a source's extract): text, or an integer.
type Extract struct {
	Column  source.Column // its name and type
	From    source.Column
	Pattern string
	// Field is the extract's place in the recipe, such as
	// "sources.right.extract.ref", for an engine that refuses its pattern.
	Field string
	// Group is the part of the first match that is the value: 1, the
	// pattern's first capture group, or 0, the whole match.
	Group int
}

// Net is a number column computed from two of the source's, plus minus
// minus (a source's net), as a bank writes money paid in and paid out: an
// empty value counts as 0, and both empty is empty.
type Net struct {
	Column      source.Column // its name, a decimal wide enough
	Plus, Minus source.Column
}

// Signed is a number column with the sign a mark column gives it (a
// source's signed), as ledgers write a debit/credit mark beside an amount:
// a mark in neither list, or none, leaves it empty.
type Signed struct {
	Column             source.Column // its name, a decimal as wide as Value
	Value, By          source.Column
	Positive, Negative []string
}

// Described is a column's name as reasons show it: a derived one's says
// where it came from, as the evidence does not show it.
func (in Input) Described(name string) string {
	for _, d := range in.derived() {
		if d.Name == name {
			return fmt.Sprintf("%s (%s)", name, d.from)
		}
	}
	return name
}

// column finds a column of the source, or one it derives, by name.
func (in Input) column(name string) (source.Column, bool) {
	if c, ok := in.Schema.Column(name); ok {
		return c, true
	}
	for _, d := range in.derived() {
		if d.Name == name {
			return d.Column, true
		}
	}
	return source.Column{}, false
}

// own is the input without the columns it derives.
func (in Input) own() Input {
	in.Extracts, in.Nets, in.Signed = nil, nil, nil
	return in
}

// derivedColumn is a column a source derives, and where it came from in
// words.
type derivedColumn struct {
	source.Column
	from string
}

// Derived lists the columns the source's extract, net and signed derive,
// in that order.
func (in Input) Derived() []source.Column {
	var out []source.Column
	for _, d := range in.derived() {
		out = append(out, d.Column)
	}
	return out
}

// derived lists the columns the source's extract, net and signed derive,
// with where each came from.
func (in Input) derived() []derivedColumn {
	var out []derivedColumn
	for _, e := range in.Extracts {
		out = append(out, derivedColumn{e.Column, fmt.Sprintf("taken from %s by %q", e.From.Name, e.Pattern)})
	}
	for _, n := range in.Nets {
		out = append(out, derivedColumn{n.Column, n.Plus.Name + " - " + n.Minus.Name})
	}
	for _, g := range in.Signed {
		out = append(out, derivedColumn{g.Column, g.Value.Name + " signed by " + g.By.Name})
	}
	return out
}

// derive adds to in the columns its source's extract, net and signed
// derive from its own, each kind in the order of their names. They read
// the source's columns, not each other.
func (b *builder) derive(s *kallav1.Source, in Input, side string) Input {
	own := in // the source's columns only
	taken := map[string]string{}
	for _, c := range in.Schema.Columns {
		taken[asciiLower(c.Name)] = c.Name
	}
	for _, name := range slices.Sorted(maps.Keys(s.GetExtract())) {
		e, field := s.GetExtract()[name], fmt.Sprintf("sources.%s.extract.%s", side, name)
		from, ok := b.text(own, e.GetFrom(), field+".from", "extract")
		if b.claim(taken, in, name, field, ok) {
			group, _ := recipe.ExtractPattern(e) // Validate checked both
			c := source.Column{Name: name, Type: source.Text}
			if typ, _ := recipe.ExtractType(e); typ == source.Integer {
				c = source.Column{Name: name, Type: source.Integer, Precision: source.MaxIntegerDigits, Measured: true}
			}
			in.Extracts = append(in.Extracts, Extract{Column: c, From: from, Pattern: e.GetPattern(), Field: field, Group: group})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.GetNet())) {
		n, field := s.GetNet()[name], fmt.Sprintf("sources.%s.net.%s", side, name)
		plus, okp := b.number(own, side, n.GetPlus(), field+".plus", "net")
		minus, okm := b.number(own, side, n.GetMinus(), field+".minus", "net")
		c, msg := netColumn(name, plus, minus)
		if msg != "" && okp && okm {
			b.fail(field, "%s", msg)
			okp = false
		}
		if b.claim(taken, in, name, field, okp && okm) {
			in.Nets = append(in.Nets, Net{Column: c, Plus: plus, Minus: minus})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.GetSigned())) {
		g, field := s.GetSigned()[name], fmt.Sprintf("sources.%s.signed.%s", side, name)
		value, okv := b.number(own, side, g.GetValue(), field+".value", "signed")
		by, okb := b.text(own, g.GetBy(), field+".by", "signed")
		if b.claim(taken, in, name, field, okv && okb) {
			i, sc := width(value)
			c := source.Column{Name: name, Type: source.Decimal, Precision: i + sc, Scale: sc, Measured: value.Measured}
			in.Signed = append(in.Signed, Signed{Column: c, Value: value, By: by, Positive: g.GetPositive(), Negative: g.GetNegative()})
		}
	}
	return in
}

// text finds a text column of the source for what (extract, signed).
func (b *builder) text(in Input, name, field, what string) (source.Column, bool) {
	c, ok := b.column(in, name, field)
	if ok && Classify(c.Type) != String {
		b.fail(field, "column %q of %s is %s; %s reads text%s", c.Name, in.Alias, c.TypeName(), what, typesHint(in, c))
		return c, false
	}
	return c, ok
}

// claim takes name for a column a source derives, unless Kalla or one of
// the source's columns has it, and says whether the column stands: its
// name is free and what it reads is fit (ok). A column that does not
// stand is noted as refused, so that its uses need no error of their own.
func (b *builder) claim(taken map[string]string, in Input, name, field string, ok bool) bool {
	folded := asciiLower(name)
	switch {
	case reserved(name):
		b.fail(field, "%q is a name Kalla reserves for its own columns (names starting with \"__\" or \"kalla_\" in any case); name the column otherwise", name)
		ok = false
	case taken[folded] != "":
		b.fail(field, "%s already has a column %q, which the engine does not tell apart from %q; name the column otherwise", in.Alias, taken[folded], name)
		ok = false
	default:
		taken[folded] = name
	}
	if !ok {
		b.refused[in.Alias+"."+name] = true
	}
	return ok
}

// number finds a number column of the source on side for what
// (reverse_sign, net); a column without a value (a month without
// withdrawals) is as good as one.
func (b *builder) number(in Input, side, name, field, what string) (source.Column, bool) {
	c, ok := b.column(in, name, field)
	if ok && Classify(c.Type) != Number && !c.Empty {
		b.fail(field, "column %q of %s is %s%s; %s takes numbers", name, in.Alias, c.TypeName(), whyNot(c, side, Number), what)
		return c, false
	}
	return c, ok
}

// netColumn is the decimal plus - minus needs: a digit more than the wider
// before the point, the larger scale after it. Declared widths (a Parquet
// DECIMAL(38,2)) say little of the values and are cut to what the engine
// computes with.
func netColumn(name string, plus, minus source.Column) (source.Column, string) {
	pi, ps := width(plus)
	mi, ms := width(minus)
	i, s := max(pi, mi)+1, max(ps, ms)
	measured := plus.Measured && minus.Measured
	if i+s > recipe.MaxDigits {
		if measured {
			return source.Column{}, fmt.Sprintf("%s - %s needs numbers of %d digits (%d before the point, %d after), and Kalla computes with at most %d",
				plus.Name, minus.Name, i+s, i, s, recipe.MaxDigits)
		}
		i = recipe.MaxDigits - s
	}
	return source.Column{Name: name, Type: source.Decimal, Precision: i + s, Scale: s, Measured: measured}, ""
}

// width is a number column's digits before and after the point: measured
// or declared, an integer of declared width being a BIGINT.
func width(c source.Column) (intDigits, scale int) {
	if c.Type == source.Integer && !c.Measured {
		return BigintDigits, 0
	}
	return c.Precision - c.Scale, c.Scale
}

// typesHint tells how to read a CSV column as text.
func typesHint(in Input, c source.Column) string {
	if in.Ref.Format != source.FormatCSV {
		return ""
	}
	return fmt.Sprintf(" (set its type to text in the source's types: {%q: \"text\"})", c.Name)
}

// reversed checks the columns a source's reverse_sign names: its own
// number columns, but for those a net or signed reads.
func (b *builder) reversed(s *kallav1.Source, in Input, side string) map[string]bool {
	names := map[string]bool{}
	for i, name := range s.GetReverseSign() {
		field := fmt.Sprintf("sources.%s.reverse_sign[%d]", side, i)
		names[name] = true
		if msg := signUse(name, in); msg != "" {
			b.fail(field, "%s", msg)
			continue
		}
		b.number(in, side, name, field, "reverse_sign")
	}
	return names
}

// signUse says how a net or signed column uses a column that reverse_sign
// names, or "": their sign, and whether they see their columns reversed,
// is for their own fields to say.
func signUse(name string, in Input) string {
	for _, n := range in.Nets {
		switch name {
		case n.Column.Name:
			return fmt.Sprintf("%s is the net %s - %s: swap its plus and minus to reverse its sign", name, n.Plus.Name, n.Minus.Name)
		case n.Plus.Name, n.Minus.Name:
			return fmt.Sprintf("%s is in the net %s (%s - %s), which reverse_sign does not change: swap the net's plus and minus, or leave %s out", name, n.Column.Name, n.Plus.Name, n.Minus.Name, name)
		}
	}
	for _, g := range in.Signed {
		switch name {
		case g.Column.Name, g.Value.Name:
			return fmt.Sprintf("%s is signed by %s's marks, which reverse_sign does not change: swap its positive and negative marks instead", g.Column.Name, g.By.Name)
		}
	}
	return ""
}
