// Package recipe reads and writes recipe files (JSON or YAML) and checks
// what can be checked without reading the sources.
package recipe

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

// Parse reads a recipe written as JSON or YAML (JSON is read as YAML's flow
// style, so both report line and column) and checks it statically. On
// failure the error is an Errors value listing every mistake found.
func Parse(text []byte) (*kallav1.Recipe, error) {
	if len(bytes.TrimSpace(text)) == 0 {
		return nil, Errors{{Message: "the recipe is empty"}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(yamlEscapes(text), &doc); err != nil {
		return nil, Errors{syntaxError(err)}
	}
	d := &decoder{pos: map[string]*yaml.Node{}}
	r := d.recipe(doc.Content[0])
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	if errs := validate(r); len(errs) > 0 {
		for i := range errs {
			if n := d.pos[errs[i].Field]; n != nil {
				errs[i].Line, errs[i].Column = n.Line, n.Column
			}
		}
		return nil, errs
	}
	return r, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func syntaxError(err error) FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	fe := FieldError{Message: "not valid JSON or YAML: " + msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
	}
	return fe
}

// decoder walks the YAML node tree, collecting errors instead of stopping at
// the first one, so a user sees every mistake at once.
type decoder struct {
	errs Errors
	// pos remembers where each field path stands, for Validate's messages.
	pos map[string]*yaml.Node
}

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	fe := FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		fe.Line, fe.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, fe)
}

// fields returns a mapping's values by key, reporting keys that are not
// allowed, duplicated keys and a node that is not a mapping.
func (d *decoder) fields(n *yaml.Node, path string, allowed ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be an object")
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		switch {
		case !contains(allowed, k.Value):
			d.fail(k, field, "unknown field; allowed here: %s", strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			d.fail(k, field, "appears twice")
		default:
			out[k.Value] = v
			d.pos[field] = v
		}
	}
	return out
}

func (d *decoder) required(m map[string]*yaml.Node, parent *yaml.Node, path, key string) *yaml.Node {
	v := m[key]
	if v == nil && m != nil {
		d.fail(parent, join(path, key), "is required")
	}
	return v
}

func (d *decoder) str(n *yaml.Node, field string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.fail(n, field, "must be a string")
		return ""
	}
	return n.Value
}

func (d *decoder) nonEmpty(n *yaml.Node, field string) string {
	s := d.str(n, field)
	if n != nil && s == "" && len(d.errs) == 0 {
		d.fail(n, field, "must not be empty")
	}
	return s
}

// requiredText is a field that must be there, as a text not empty.
func (d *decoder) requiredText(m map[string]*yaml.Node, parent *yaml.Node, path, key string) string {
	return d.nonEmpty(d.required(m, parent, path, key), join(path, key))
}

func (d *decoder) optStr(n *yaml.Node, field string) *string {
	if n == nil {
		return nil
	}
	s := d.str(n, field)
	return &s
}

func (d *decoder) seq(n *yaml.Node, field string) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, field, "must be a list")
		return nil
	}
	for i, e := range n.Content {
		d.pos[index(field, i)] = e
	}
	return n.Content
}

// decimal keeps the number's text exactly as written. A number in quotes
// ("0.02") is taken too: JSON writers quote exact decimals so that no
// reader takes them for floats.
func (d *decoder) decimal(n *yaml.Node, field string) *kallav1.Decimal {
	if n == nil {
		return nil
	}
	number := n.Tag == "!!int" || n.Tag == "!!float" || (n.Tag == "!!str" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0)
	if n.Kind != yaml.ScalarNode || !number || !decimalText.MatchString(n.Value) {
		d.fail(n, field, "must be a decimal number such as 0.02, got %s", nodeText(n))
		return nil
	}
	return &kallav1.Decimal{Value: n.Value}
}

var decimalText = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

func (d *decoder) int32(n *yaml.Node, field string) *int32 {
	if n == nil {
		return nil
	}
	v, err := strconv.ParseInt(n.Value, 10, 32)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil || v < math.MinInt32 {
		d.fail(n, field, "must be a whole number from %d to %d, got %s", math.MinInt32, math.MaxInt32, nodeText(n))
		return nil
	}
	i := int32(v)
	return &i
}

// nodeText shows a node in a message: a value as written, else its kind.
func nodeText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "an object"
	}
	return strconv.Quote(n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
