package recipe

import (
	"bytes"
	"encoding/json"
	"regexp"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// The JSON form users write. Field order here is the order written out.
type (
	fileRecipe struct {
		Version     string      `json:"version,omitempty"`
		RecipeID    string      `json:"recipe_id"`
		Name        *string     `json:"name,omitempty"`
		Description *string     `json:"description,omitempty"`
		Sources     fileSources `json:"sources"`
		MatchRules  []fileRule  `json:"match_rules"`
		Output      *fileOutput `json:"output,omitempty"`
	}
	fileSources struct {
		Left  fileSource `json:"left"`
		Right fileSource `json:"right"`
	}
	fileSource struct {
		Alias       string                 `json:"alias"`
		URI         string                 `json:"uri"`
		PrimaryKey  []string               `json:"primary_key,omitempty"`
		Types       map[string]string      `json:"types,omitempty"`
		SkipLines   int32                  `json:"skip_lines,omitempty"`
		Columns     []string               `json:"columns,omitempty"`
		Separator   string                 `json:"separator,omitempty"`
		Encoding    string                 `json:"encoding,omitempty"`
		Sheet       string                 `json:"sheet,omitempty"`
		ReverseSign []string               `json:"reverse_sign,omitempty"`
		Extract     map[string]fileExtract `json:"extract,omitempty"`
		Net         map[string]fileNet     `json:"net,omitempty"`
		Signed      map[string]fileSigned  `json:"signed,omitempty"`
		Totals      []fileTotal            `json:"totals,omitempty"`
		Filter      []fileFilter           `json:"filter,omitempty"`
	}
	// fileFilter writes one value as value, a list (in, not_in) as values.
	fileFilter struct {
		Column string   `json:"column"`
		Op     string   `json:"op"`
		Value  *string  `json:"value,omitempty"`
		Values []string `json:"values,omitempty"`
	}
	// fileTotal is a column's name, or {column, by} when by is set.
	fileTotal struct {
		Column string `json:"column"`
		By     string `json:"by,omitempty"`
	}
	fileSigned struct {
		Value    string   `json:"value"`
		By       string   `json:"by"`
		Positive []string `json:"positive"`
		Negative []string `json:"negative"`
	}
	fileNet struct {
		Plus  string `json:"plus"`
		Minus string `json:"minus"`
	}
	fileExtract struct {
		From    string `json:"from"`
		Pattern string `json:"pattern"`
		Type    string `json:"type,omitempty"`
	}
	fileRule struct {
		Name       string          `json:"name"`
		Pattern    string          `json:"pattern"`
		Priority   *int32          `json:"priority,omitempty"`
		Conditions []fileCondition `json:"conditions"`
		Aggregate  *fileAggregate  `json:"aggregate,omitempty"`
	}
	fileCondition struct {
		Left      string          `json:"left"`
		Op        string          `json:"op"`
		Right     string          `json:"right"`
		Threshold *writtenDecimal `json:"threshold,omitempty"`
	}
	fileAggregate struct {
		Left      string         `json:"left"`
		Right     string         `json:"right"`
		Tolerance writtenDecimal `json:"tolerance"`
	}
	fileOutput struct {
		Matched        string `json:"matched,omitempty"`
		UnmatchedLeft  string `json:"unmatched_left,omitempty"`
		UnmatchedRight string `json:"unmatched_right,omitempty"`
	}
)

// writtenDecimal is a threshold as written: a JSON number where its text is
// one, else a string (".5", "+2", "007" are decimals Parse reads but JSON
// numbers may not be written so), which Parse reads back as the same text.
type writtenDecimal string

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func (d writtenDecimal) MarshalJSON() ([]byte, error) {
	if jsonNumber.MatchString(string(d)) {
		return []byte(d), nil
	}
	return json.Marshal(string(d))
}

// Marshal writes a recipe in the JSON form users write; Parse reads it back
// to an equal recipe. Decimals keep their text.
func Marshal(r *kallav1.Recipe) ([]byte, error) {
	f := fileRecipe{
		Version:     r.GetVersion(),
		RecipeID:    r.GetRecipeId(),
		Name:        r.Name,
		Description: r.Description,
		Sources: fileSources{
			Left:  marshalSource(r.GetSources().GetLeft()),
			Right: marshalSource(r.GetSources().GetRight()),
		},
	}
	for _, rule := range r.GetMatchRules() {
		f.MatchRules = append(f.MatchRules, marshalRule(rule))
	}
	if o := r.GetOutput(); o != nil {
		f.Output = &fileOutput{Matched: o.GetMatched(), UnmatchedLeft: o.GetUnmatchedLeft(), UnmatchedRight: o.GetUnmatchedRight()}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func marshalSource(s *kallav1.Source) fileSource {
	return fileSource{
		Alias: s.GetAlias(), URI: s.GetUri(), PrimaryKey: s.GetPrimaryKey(), Types: s.GetTypes(), SkipLines: s.GetSkipLines(), Columns: s.GetColumns(), Separator: s.GetSeparator(), Encoding: s.GetEncoding(), Sheet: s.GetSheet(), ReverseSign: s.GetReverseSign(),
		Extract: byNameInFile(s.GetExtract(), func(e *kallav1.Extract) fileExtract {
			return fileExtract{From: e.GetFrom(), Pattern: e.GetPattern(), Type: e.GetType()}
		}),
		Net: byNameInFile(s.GetNet(), func(n *kallav1.Net) fileNet { return fileNet{Plus: n.GetPlus(), Minus: n.GetMinus()} }),
		Signed: byNameInFile(s.GetSigned(), func(g *kallav1.Signed) fileSigned {
			return fileSigned{Value: g.GetValue(), By: g.GetBy(), Positive: g.GetPositive(), Negative: g.GetNegative()}
		}),
		Totals: marshalTotals(s.GetTotals()),
		Filter: marshalFilters(s.GetFilter()),
	}
}

func marshalFilters(filters []*kallav1.Filter) []fileFilter {
	var out []fileFilter
	for _, f := range filters {
		ff := fileFilter{Column: f.GetColumn(), Op: FilterName(f.GetOp())}
		switch {
		case TakesList(f.GetOp()):
			ff.Values = f.GetValues()
		case len(f.GetValues()) == 1:
			ff.Value = &f.GetValues()[0]
		}
		out = append(out, ff)
	}
	return out
}

func marshalTotals(totals []*kallav1.Total) []fileTotal {
	var out []fileTotal
	for _, t := range totals {
		out = append(out, fileTotal{Column: t.GetColumn(), By: t.GetBy()})
	}
	return out
}

// MarshalJSON writes a total without by as the column's name alone.
func (t fileTotal) MarshalJSON() ([]byte, error) {
	if t.By == "" {
		return json.Marshal(t.Column)
	}
	type object fileTotal
	return json.Marshal(object(t))
}

// byNameInFile writes a source's name-keyed messages in the file's form;
// nil, left out, when there are none.
func byNameInFile[M, F any](m map[string]M, form func(M) F) map[string]F {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]F, len(m))
	for name, v := range m {
		out[name] = form(v)
	}
	return out
}

func marshalRule(rule *kallav1.MatchRule) fileRule {
	fr := fileRule{Name: rule.GetName(), Pattern: patternNames[rule.GetPattern()], Priority: rule.Priority}
	for _, c := range rule.GetConditions() {
		fc := fileCondition{Left: c.GetLeft(), Op: operatorNames[c.GetOp()], Right: c.GetRight()}
		if c.Threshold != nil {
			n := writtenDecimal(c.Threshold.GetValue())
			fc.Threshold = &n
		}
		fr.Conditions = append(fr.Conditions, fc)
	}
	if a := rule.GetAggregate(); a != nil {
		fr.Aggregate = &fileAggregate{Left: a.GetLeft(), Right: a.GetRight(), Tolerance: writtenDecimal(a.GetTolerance().GetValue())}
	}
	return fr
}
