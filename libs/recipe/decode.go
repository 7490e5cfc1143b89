package recipe

import (
	"sort"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/source"
)

// Patterns and operators as users write them.
var (
	patternNames = map[kallav1.Pattern]string{
		kallav1.Pattern_PATTERN_ONE_TO_ONE:   "1:1",
		kallav1.Pattern_PATTERN_ONE_TO_MANY:  "1:N",
		kallav1.Pattern_PATTERN_MANY_TO_ONE:  "M:1",
		kallav1.Pattern_PATTERN_MANY_TO_MANY: "M:N",
	}
	operatorNames = map[kallav1.Operator]string{
		kallav1.Operator_OPERATOR_EQ:            "eq",
		kallav1.Operator_OPERATOR_EQ_CI:         "eq_ci",
		kallav1.Operator_OPERATOR_TOLERANCE:     "tolerance",
		kallav1.Operator_OPERATOR_TOLERANCE_PCT: "tolerance_pct",
		kallav1.Operator_OPERATOR_GT:            "gt",
		kallav1.Operator_OPERATOR_LT:            "lt",
		kallav1.Operator_OPERATOR_GTE:           "gte",
		kallav1.Operator_OPERATOR_LTE:           "lte",
		kallav1.Operator_OPERATOR_CONTAINS:      "contains",
		kallav1.Operator_OPERATOR_STARTSWITH:    "startswith",
		kallav1.Operator_OPERATOR_ENDSWITH:      "endswith",
		kallav1.Operator_OPERATOR_DATE_WITHIN:   "date_within",
		kallav1.Operator_OPERATOR_FUZZY:         "fuzzy",
	}
	// filterNames are the filter operators as users write them.
	filterNames = map[kallav1.FilterOperator]string{
		kallav1.FilterOperator_FILTER_OPERATOR_EQ:        "eq",
		kallav1.FilterOperator_FILTER_OPERATOR_NE:        "ne",
		kallav1.FilterOperator_FILTER_OPERATOR_LT:        "lt",
		kallav1.FilterOperator_FILTER_OPERATOR_LTE:       "lte",
		kallav1.FilterOperator_FILTER_OPERATOR_GT:        "gt",
		kallav1.FilterOperator_FILTER_OPERATOR_GTE:       "gte",
		kallav1.FilterOperator_FILTER_OPERATOR_IN:        "in",
		kallav1.FilterOperator_FILTER_OPERATOR_NOT_IN:    "not_in",
		kallav1.FilterOperator_FILTER_OPERATOR_EMPTY:     "empty",
		kallav1.FilterOperator_FILTER_OPERATOR_NOT_EMPTY: "not_empty",
	}
	patternsByName  = invert(patternNames)
	operatorsByName = invert(operatorNames)
	filtersByName   = invert(filterNames)
	// typeNames are the types a source's types may set.
	typeNames = map[kallav1.ColumnType]string{
		kallav1.ColumnType_COLUMN_TYPE_INTEGER:   "integer",
		kallav1.ColumnType_COLUMN_TYPE_DECIMAL:   "decimal",
		kallav1.ColumnType_COLUMN_TYPE_DATE:      "date",
		kallav1.ColumnType_COLUMN_TYPE_TIMESTAMP: "timestamp",
		kallav1.ColumnType_COLUMN_TYPE_TEXT:      "text",
	}
	typesByName = invert(typeNames)
)

// CSVOptions returns what a source sets for reading its CSV files: the
// column types, with their layouts, by column name, the lines before the
// header, the columns of files without one, the separator, the encoding
// and a workbook's sheet. Validate has refused a recipe whose types name no type.
func CSVOptions(s *kallav1.Source) source.CSVOptions {
	opts := source.CSVOptions{SkipLines: int(s.GetSkipLines()), Columns: s.GetColumns(), Separator: s.GetSeparator(), Encoding: s.GetEncoding(), Sheet: s.GetSheet()}
	if len(s.GetTypes()) == 0 {
		return opts
	}
	opts.Types = make(map[string]source.Setting, len(s.GetTypes()))
	for name, t := range s.GetTypes() {
		opts.Types[name], _ = columnType(t)
	}
	return opts
}

// columnType reads a type as a source's types set it: a type's name, or
// "date", "timestamp" or "decimal" and a layout ("date DD/MM/YYYY",
// "timestamp DD/MM/YYYY hh:mm", "decimal 1.234,56"), in any case and
// spacing. Its Type is 0 for neither, with an error for a bad layout.
func columnType(text string) (source.Setting, error) {
	name, layout := strings.TrimSpace(text), ""
	if i := strings.IndexFunc(name, unicode.IsSpace); i >= 0 {
		name, layout = name[:i], strings.TrimSpace(name[i:])
	}
	set := source.Setting{Type: typesByName[strings.ToLower(name)]}
	var err error
	switch {
	case layout == "":
	case set.Type == kallav1.ColumnType_COLUMN_TYPE_DATE:
		set.Date, err = source.ParseDateLayout(layout)
	case set.Type == kallav1.ColumnType_COLUMN_TYPE_TIMESTAMP:
		set.Date, err = source.ParseTimestampLayout(layout)
	case set.Type == kallav1.ColumnType_COLUMN_TYPE_DECIMAL:
		set.Number, err = source.ParseNumberLayout(layout)
	default:
		set.Type = 0
	}
	if err != nil {
		return source.Setting{}, err
	}
	return set, nil
}

// PatternName returns a pattern as users write it, such as "1:N".
func PatternName(p kallav1.Pattern) string { return patternNames[p] }

// OperatorName returns an operator as users write it, such as "tolerance".
func OperatorName(op kallav1.Operator) string { return operatorNames[op] }

// FilterName returns a filter operator as users write it, such as "not_in".
func FilterName(op kallav1.FilterOperator) string { return filterNames[op] }

func invert[K comparable](m map[K]string) map[string]K {
	out := make(map[string]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

func sortedNames[K comparable](m map[K]string) string {
	names := make([]string, 0, len(m))
	for _, v := range m {
		names = append(names, v)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (d *decoder) recipe(n *yaml.Node) *kallav1.Recipe {
	m := d.fields(n, "", "version", "recipe_id", "name", "description", "sources", "match_rules", "output")
	r := &kallav1.Recipe{
		Version:     d.str(m["version"], "version"),
		RecipeId:    d.requiredText(m, n, "", "recipe_id"),
		Name:        d.optStr(m["name"], "name"),
		Description: d.optStr(m["description"], "description"),
	}
	if s := d.required(m, n, "", "sources"); s != nil {
		r.Sources = d.sources(s)
	}
	rules := d.required(m, n, "", "match_rules")
	for i, rn := range d.seq(rules, "match_rules") {
		r.MatchRules = append(r.MatchRules, d.rule(rn, index("match_rules", i)))
	}
	if rules != nil && rules.Kind == yaml.SequenceNode && len(rules.Content) == 0 {
		d.fail(rules, "match_rules", "needs at least one rule")
	}
	if o := m["output"]; o != nil {
		om := d.fields(o, "output", "matched", "unmatched_left", "unmatched_right")
		r.Output = &kallav1.Output{
			Matched:        d.str(om["matched"], "output.matched"),
			UnmatchedLeft:  d.str(om["unmatched_left"], "output.unmatched_left"),
			UnmatchedRight: d.str(om["unmatched_right"], "output.unmatched_right"),
		}
	}
	return r
}

func (d *decoder) sources(n *yaml.Node) *kallav1.Sources {
	m := d.fields(n, "sources", "left", "right")
	s := &kallav1.Sources{}
	if l := d.required(m, n, "sources", "left"); l != nil {
		s.Left = d.source(l, "sources.left")
	}
	if r := d.required(m, n, "sources", "right"); r != nil {
		s.Right = d.source(r, "sources.right")
	}
	return s
}

func (d *decoder) source(n *yaml.Node, path string) *kallav1.Source {
	m := d.fields(n, path, "alias", "uri", "primary_key", "types", "skip_lines", "columns", "separator", "encoding", "sheet", "reverse_sign", "extract", "net", "signed", "totals", "filter")
	s := &kallav1.Source{
		Alias: d.requiredText(m, n, path, "alias"),
		Uri:   d.requiredText(m, n, path, "uri"),
	}
	s.PrimaryKey = list(d, m["primary_key"], join(path, "primary_key"), d.nonEmpty)
	s.Columns = list(d, m["columns"], join(path, "columns"), d.nonEmpty)
	s.Separator = d.nonEmpty(m["separator"], join(path, "separator"))
	s.Encoding = d.nonEmpty(m["encoding"], join(path, "encoding"))
	s.Sheet = d.nonEmpty(m["sheet"], join(path, "sheet"))
	s.ReverseSign = list(d, m["reverse_sign"], join(path, "reverse_sign"), d.nonEmpty)
	s.Extract = byName(d, m["extract"], join(path, "extract"), d.extract)
	s.Net = byName(d, m["net"], join(path, "net"), d.net)
	s.Signed = byName(d, m["signed"], join(path, "signed"), d.signed)
	s.Types = byName(d, m["types"], join(path, "types"), d.nonEmpty)
	if skip := d.int32(m["skip_lines"], join(path, "skip_lines")); skip != nil {
		s.SkipLines = *skip
	}
	s.Totals = list(d, m["totals"], join(path, "totals"), d.total)
	s.Filter = list(d, m["filter"], join(path, "filter"), d.filter)
	return s
}

// filter reads a filter condition: {column, op, value} or, for in and
// not_in, {column, op, values}. Values are scalars, kept as written.
func (d *decoder) filter(n *yaml.Node, path string) *kallav1.Filter {
	m := d.fields(n, path, "column", "op", "value", "values")
	f := &kallav1.Filter{Column: d.requiredText(m, n, path, "column")}
	if op := d.required(m, n, path, "op"); op != nil {
		f.Op = filtersByName[d.str(op, join(path, "op"))]
		if f.Op == kallav1.FilterOperator_FILTER_OPERATOR_UNSPECIFIED {
			d.fail(op, join(path, "op"), "unknown operator %q; allowed: %s", op.Value, sortedNames(filterNames))
		}
	}
	if v := m["value"]; v != nil {
		f.Values = []string{d.str(v, join(path, "value"))}
	}
	if vs := m["values"]; vs != nil {
		if m["value"] != nil {
			d.fail(vs, join(path, "values"), "and value are both set; in and not_in take values, the other operators value")
		}
		f.Values = list(d, vs, join(path, "values"), d.str)
	}
	return f
}

// total reads a totals entry: a column's name, or {column, by}.
func (d *decoder) total(n *yaml.Node, path string) *kallav1.Total {
	switch n.Kind {
	case yaml.ScalarNode:
		return &kallav1.Total{Column: d.nonEmpty(n, path)}
	case yaml.MappingNode:
	default:
		d.fail(n, path, `must be a column's name, or an object such as {"column": "amount", "by": "currency"}`)
		return &kallav1.Total{}
	}
	m := d.fields(n, path, "column", "by")
	return &kallav1.Total{Column: d.requiredText(m, n, path, "column"), By: d.nonEmpty(m["by"], join(path, "by"))}
}

func (d *decoder) extract(n *yaml.Node, path string) *kallav1.Extract {
	m := d.fields(n, path, "from", "pattern", "type")
	return &kallav1.Extract{
		From:    d.requiredText(m, n, path, "from"),
		Pattern: d.requiredText(m, n, path, "pattern"),
		Type:    d.str(m["type"], join(path, "type")),
	}
}

func (d *decoder) net(n *yaml.Node, path string) *kallav1.Net {
	m := d.fields(n, path, "plus", "minus")
	return &kallav1.Net{
		Plus:  d.requiredText(m, n, path, "plus"),
		Minus: d.requiredText(m, n, path, "minus"),
	}
}

func (d *decoder) signed(n *yaml.Node, path string) *kallav1.Signed {
	m := d.fields(n, path, "value", "by", "positive", "negative")
	return &kallav1.Signed{
		Value:    d.requiredText(m, n, path, "value"),
		By:       d.requiredText(m, n, path, "by"),
		Positive: list(d, d.required(m, n, path, "positive"), join(path, "positive"), d.str),
		Negative: list(d, d.required(m, n, path, "negative"), join(path, "negative"), d.str),
	}
}

// list decodes a list, each item by item.
func list[T any](d *decoder, n *yaml.Node, path string, item func(*yaml.Node, string) T) []T {
	var out []T
	for i, e := range d.seq(n, path) {
		out = append(out, item(e, index(path, i)))
	}
	return out
}

// byName decodes a mapping whose keys are names of the user's (columns),
// each value by value.
func byName[T any](d *decoder, n *yaml.Node, path string, value func(*yaml.Node, string) T) map[string]T {
	if n == nil {
		return nil
	}
	names := allKeys(n)
	values := d.fields(n, path, names...)
	out := make(map[string]T, len(values))
	for _, name := range names {
		out[name] = value(values[name], join(path, name))
	}
	return out
}

// allKeys lists a mapping's keys, for a mapping whose keys are names of the
// user's (columns), not fields of ours.
func allKeys(n *yaml.Node) []string {
	var keys []string
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			keys = append(keys, n.Content[i].Value)
		}
	}
	return keys
}

func (d *decoder) rule(n *yaml.Node, path string) *kallav1.MatchRule {
	m := d.fields(n, path, "name", "pattern", "priority", "conditions", "aggregate")
	r := &kallav1.MatchRule{
		Name:     d.requiredText(m, n, path, "name"),
		Priority: d.int32(m["priority"], join(path, "priority")),
	}
	if p := d.required(m, n, path, "pattern"); p != nil {
		r.Pattern = patternsByName[d.str(p, join(path, "pattern"))]
		if r.Pattern == kallav1.Pattern_PATTERN_UNSPECIFIED {
			d.fail(p, join(path, "pattern"), "unknown pattern %q; allowed: %s", p.Value, sortedNames(patternNames))
		}
	}
	conds := d.required(m, n, path, "conditions")
	for i, cn := range d.seq(conds, join(path, "conditions")) {
		r.Conditions = append(r.Conditions, d.condition(cn, index(join(path, "conditions"), i)))
	}
	if a := m["aggregate"]; a != nil {
		r.Aggregate = d.aggregate(a, join(path, "aggregate"))
	}
	return r
}

func (d *decoder) condition(n *yaml.Node, path string) *kallav1.Condition {
	m := d.fields(n, path, "left", "op", "right", "threshold")
	c := &kallav1.Condition{
		Left:      d.requiredText(m, n, path, "left"),
		Right:     d.requiredText(m, n, path, "right"),
		Threshold: d.decimal(m["threshold"], join(path, "threshold")),
	}
	if op := d.required(m, n, path, "op"); op != nil {
		c.Op = operatorsByName[d.str(op, join(path, "op"))]
		if c.Op == kallav1.Operator_OPERATOR_UNSPECIFIED {
			d.fail(op, join(path, "op"), "unknown operator %q; allowed: %s", op.Value, sortedNames(operatorNames))
		}
	}
	return c
}

func (d *decoder) aggregate(n *yaml.Node, path string) *kallav1.Aggregate {
	m := d.fields(n, path, "left", "right", "tolerance")
	return &kallav1.Aggregate{
		Left:      d.requiredText(m, n, path, "left"),
		Right:     d.requiredText(m, n, path, "right"),
		Tolerance: d.decimal(d.required(m, n, path, "tolerance"), join(path, "tolerance")),
	}
}
