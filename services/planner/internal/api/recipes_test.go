package api_test

import (
	"strings"
	"testing"

	"connectrpc.com/connect"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
)

func TestRecipeService(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.writeCSVs(t)

	t.Run("validate", func(t *testing.T) {
		tests := []struct {
			name, recipe string
			sources      bool
			valid        bool
			field        string
		}{
			{"good_static", e.recipe("", "", ""), false, true, ""},
			{"good_with_sources", e.recipe("", "", ""), true, true, ""},
			{"missing_column_unchecked", e.recipe("", "", "amount_due"), false, true, ""},
			{"missing_column", e.recipe("", "", "amount_due"), true, false, "match_rules[0].conditions[1].left"},
			{"missing_file", e.recipe("file:///nonexistent/x.csv", "", ""), true, false, "sources.left.uri"},
			{"bad_operator", strings.Replace(e.recipe("", "", ""), `"op": "eq"`, `"op": "equals"`, 1), false, false, "match_rules[0].conditions[0].op"},
			{"types_set_apply", withTypes(e.recipe("", "", ""), `{"amount": "text"}`), true, false, "match_rules[0].conditions[1]"},
			{"types_unknown_column", withTypes(e.recipe("", "", ""), `{"amt": "decimal"}`), true, false, "sources.left.types.amt"},
			{"types_value_not_of_the_type", withTypes(e.recipe("", "", ""), `{"amount": "integer"}`), true, false, "sources.left.types.amount"},
			{"types_unknown_type", withTypes(e.recipe("", "", ""), `{"amount": "money"}`), false, false, "sources.left.types.amount"},
		}
		for _, tt := range tests {
			resp, err := e.recipes.ValidateRecipe(e.ctx, connect.NewRequest(&kallav1.ValidateRecipeRequest{Recipe: tt.recipe, CheckSources: tt.sources}))
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			m := resp.Msg
			if m.GetValid() != tt.valid {
				t.Errorf("%s: valid = %v, errors %v", tt.name, m.GetValid(), m.GetErrors())
				continue
			}
			if tt.valid {
				if m.GetParsed().GetRecipeId() != "ar-payments" {
					t.Errorf("%s: parsed = %v", tt.name, m.GetParsed())
				}
				continue
			}
			if len(m.GetErrors()) == 0 || m.GetErrors()[0].GetField() != tt.field || m.GetErrors()[0].GetMessage() == "" {
				t.Errorf("%s: errors = %v, want field %s", tt.name, m.GetErrors(), tt.field)
			}
		}
		resp, _ := e.recipes.ValidateRecipe(e.ctx, connect.NewRequest(&kallav1.ValidateRecipeRequest{Recipe: "version: [1"}))
		if errs := resp.Msg.GetErrors(); resp.Msg.GetValid() || len(errs) != 1 || errs[0].GetLine() == 0 {
			t.Errorf("syntax error: %v", resp.Msg)
		}
	})
	t.Run("explain", func(t *testing.T) {
		resp, err := e.recipes.ExplainRecipe(e.ctx, connect.NewRequest(&kallav1.ExplainRecipeRequest{Recipe: e.recipe("", "", "")}))
		if err != nil {
			t.Fatal(err)
		}
		m := resp.Msg
		if len(m.GetRules()) != 1 || m.GetRules()[0].GetRule() != "exact" || !strings.Contains(m.GetRules()[0].GetSql(), "SELECT") {
			t.Errorf("rules = %v", m.GetRules())
		}
		if !strings.Contains(m.GetSql(), "invoices.csv") || !strings.Contains(m.GetSql(), "rule 1: exact") {
			t.Errorf("script = %s", m.GetSql())
		}
		_, err = e.recipes.ExplainRecipe(e.ctx, connect.NewRequest(&kallav1.ExplainRecipeRequest{Recipe: e.recipe("", "", "amount_due")}))
		cerr := wantCode(t, err, connect.CodeInvalidArgument)
		if len(cerr.Details()) != 1 {
			t.Errorf("details = %v", cerr.Details())
		}
	})
	t.Run("save_get_list", func(t *testing.T) {
		text := e.recipe("", "", "")
		for _, id := range []string{"ar-payments", "bank-ledger", "zz-last"} {
			r := strings.Replace(text, `"recipe_id": "ar-payments"`, `"recipe_id": "`+id+`"`, 1)
			resp, err := e.recipes.SaveRecipe(e.ctx, connect.NewRequest(&kallav1.SaveRecipeRequest{Recipe: r}))
			if err != nil {
				t.Fatal(err)
			}
			if s := resp.Msg.GetRecipe(); s.GetRecipeId() != id || s.GetText() != r || s.GetParsed().GetRecipeId() != id || s.GetUpdatedAt() == nil {
				t.Errorf("saved = %v", s)
			}
		}
		got, err := e.recipes.GetRecipe(e.ctx, connect.NewRequest(&kallav1.GetRecipeRequest{RecipeId: "ar-payments"}))
		if err != nil {
			t.Fatal(err)
		}
		if got.Msg.GetRecipe().GetText() != text || len(got.Msg.GetRecipe().GetParsed().GetMatchRules()) != 1 {
			t.Errorf("got = %v", got.Msg.GetRecipe())
		}
		_, err = e.recipes.GetRecipe(e.ctx, connect.NewRequest(&kallav1.GetRecipeRequest{RecipeId: "nope"}))
		wantCode(t, err, connect.CodeNotFound)
		_, err = e.recipes.SaveRecipe(e.ctx, connect.NewRequest(&kallav1.SaveRecipeRequest{Recipe: "{}"}))
		wantCode(t, err, connect.CodeInvalidArgument)

		var ids []string
		token := ""
		for range 5 {
			resp, err := e.recipes.ListRecipes(e.ctx, connect.NewRequest(&kallav1.ListRecipesRequest{PageSize: 2, PageToken: token}))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range resp.Msg.GetRecipes() {
				ids = append(ids, r.GetRecipeId())
			}
			if token = resp.Msg.GetNextPageToken(); token == "" {
				break
			}
		}
		if strings.Join(ids, ",") != "ar-payments,bank-ledger,zz-last" {
			t.Errorf("listed %v", ids)
		}
		_, err = e.recipes.ListRecipes(e.ctx, connect.NewRequest(&kallav1.ListRecipesRequest{PageToken: "%%%"}))
		wantCode(t, err, connect.CodeInvalidArgument)
	})
}

// withTypes sets the left source's types in a recipe of env.recipe.
func withTypes(recipe, types string) string {
	return strings.Replace(recipe, `"primary_key": ["invoice_id"]`, `"primary_key": ["invoice_id"], "types": `+types, 1)
}
