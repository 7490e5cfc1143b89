// Package books writes the files of the benchmark's books: their data, a
// line at a time, and their recipes and manifests as JSON.
package books

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// WriteFile writes the file at path through a buffer that write fills.
func WriteFile(path string, write func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// WriteJSON writes v at path as indented JSON ending in a line end.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// A Recipe as Kalla reads it, with the fields the books set, in the order
// of the recipe format.
type Recipe struct {
	Version    string            `json:"version"`
	RecipeID   string            `json:"recipe_id"`
	Name       string            `json:"name"`
	Sources    map[string]Side   `json:"sources"`
	MatchRules []Rule            `json:"match_rules"`
	Output     map[string]string `json:"output"`
}

// Side is a recipe's source.
type Side struct {
	Alias      string   `json:"alias"`
	URI        string   `json:"uri"`
	PrimaryKey []string `json:"primary_key"`
}

// Rule is a match rule.
type Rule struct {
	Name       string      `json:"name"`
	Pattern    string      `json:"pattern"`
	Priority   int         `json:"priority"`
	Conditions []Condition `json:"conditions"`
	Aggregate  *Aggregate  `json:"aggregate,omitempty"`
}

// Condition is a rule's condition.
type Condition struct {
	Left      string      `json:"left"`
	Op        string      `json:"op"`
	Right     string      `json:"right"`
	Threshold json.Number `json:"threshold,omitempty"`
}

// Aggregate is a 1:N or M:1 rule's aggregate check.
type Aggregate struct {
	Left      string      `json:"left"`
	Right     string      `json:"right"`
	Tolerance json.Number `json:"tolerance"`
}
