package recipe

import (
	"fmt"
	"strings"
)

// FieldError points at one mistake in the recipe text a user wrote.
type FieldError struct {
	// Field is a path such as "match_rules[1].conditions[0].op".
	Field string
	// Line and Column locate the field in the text; 0 when unknown.
	Line, Column int
	Message      string
}

func (e FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every mistake found in one recipe, in the order of the text.
type Errors []FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
