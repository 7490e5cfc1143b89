package sqlplan_test

import (
	"math/big"
	"strings"
	"testing"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/sqlplan"
)

func TestIdentQuotesEverything(t *testing.T) {
	t.Parallel()
	if got := sqlplan.Ident(`a"; DROP TABLE x; --`); got != `"a""; DROP TABLE x; --"` {
		t.Errorf("Ident = %s", got)
	}
	if got := sqlplan.String("it's"); got != "'it''s'" {
		t.Errorf("String = %s", got)
	}
}

func TestDecimalLiteralIsExact(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"0.02":   "CAST('0.02' AS DECIMAL(3,2))",
		"2e-2":   "CAST('0.02' AS DECIMAL(3,2))",
		"100":    "CAST('100' AS DECIMAL(3,0))",
		"0":      "CAST('0' AS DECIMAL(1,0))",
		"-1.250": "CAST('-1.25' AS DECIMAL(3,2))",
	}
	for text, want := range tests {
		r, _ := new(big.Rat).SetString(text)
		if got := sqlplan.Decimal(r); got != want {
			t.Errorf("Decimal(%s) = %s, want %s", text, got, want)
		}
	}
}

func TestExplainHidesCredentials(t *testing.T) {
	t.Parallel()
	ref, err := source.Parse("postgres://kalla:s3cret@db:5432/erp?table=public.payments")
	if err != nil {
		t.Fatal(err)
	}
	cols := []source.Column{{Name: "id", Type: source.Integer}, {Name: "amount", Type: source.Decimal, Precision: 10, Scale: 2}}
	left := plan.Input{Alias: "ledger", Ref: ref, Schema: source.Schema{Columns: cols}, Key: cols[:1]}
	right := left
	right.Alias = "bank"
	p := &plan.Plan{RecipeID: "x", Left: left, Right: right, Rules: []plan.Rule{{
		Name: "exact", Pattern: kallav1.Pattern_PATTERN_ONE_TO_ONE,
		Conditions: []plan.Condition{
			{Op: kallav1.Operator_OPERATOR_EQ, Left: cols[0], Right: cols[0]},
			{Op: kallav1.Operator_OPERATOR_TOLERANCE, Left: cols[1], Right: cols[1], Threshold: big.NewRat(1, 50), ThresholdText: "0.02"},
		},
	}}}
	rules, script := sqlplan.Explain(p)
	if strings.Contains(script, "s3cret") {
		t.Errorf("the script shows the password")
	}
	if len(rules) != 1 || !strings.Contains(rules[0].SQL, `abs(l."amount" - r."amount") <= CAST('0.02' AS DECIMAL(3,2))`) {
		t.Errorf("rule SQL = %+v", rules)
	}
	if !strings.Contains(rules[0].SQL, "-- repeat until") {
		t.Errorf("1:1 rule SQL does not show its loop:\n%s", rules[0].SQL)
	}
}
