package api_test

import (
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

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

func TestSavedRecipesHideTheirPasswords(t *testing.T) {
	t.Parallel()
	e := setup(t)
	pg := "postgres://kalla:s3cret@127.0.0.1:1/erp?table=public.invoices"
	masked := "postgres://kalla:REDACTED@127.0.0.1:1/erp?table=public.invoices"
	jsonRecipe := func(id, uri string) string {
		r := strings.Replace(e.recipe(uri, "", ""), `"recipe_id": "ar-payments"`, `"recipe_id": "`+id+`"`, 1)
		return strings.Replace(r, `"output"`, ` "description": "loaded nightly",`+"\n"+` "output"`, 1)
	}
	tests := []struct {
		name, id, text string
		// keepsForm: the text shown is the text saved with the URI masked
		// where it stands; otherwise it is written anew.
		keepsForm bool
		wantURI   string
	}{
		{"user_part", "pw-user", jsonRecipe("pw-user", pg), true, masked},
		{"parameter", "pw-param", jsonRecipe("pw-param", "postgres://kalla@127.0.0.1:1/erp?password=s3cret&table=public.invoices"), true,
			"postgres://kalla@127.0.0.1:1/erp?password=REDACTED&table=public.invoices"},
		{"escaped_in_json", "pw-escaped", strings.Replace(jsonRecipe("pw-escaped", pg), "s3cret@", `s3cret\u0040`, 1), false, masked},
		{"repeated_in_a_comment", "pw-comment", "# the password is s3cret\n" + jsonRecipe("pw-comment", pg), false, masked},
		{"yaml", "pw-yaml", "recipe_id: pw-yaml\nsources:\n  left: {alias: invoices, uri: '" + pg + "', primary_key: [invoice_id]}\n" +
			"  right: {alias: payments, uri: 'file:///data/p.csv', primary_key: [payment_id]}\nmatch_rules:\n" +
			"  - {name: exact, pattern: '1:1', conditions: [{left: invoice_id, op: eq, right: reference_number}]}\n", true, masked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved, err := e.recipes.SaveRecipe(e.ctx, connect.NewRequest(&kallav1.SaveRecipeRequest{Recipe: tt.text}))
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.recipes.GetRecipe(e.ctx, connect.NewRequest(&kallav1.GetRecipeRequest{RecipeId: tt.id}))
			if err != nil {
				t.Fatal(err)
			}
			listed := e.listRecipe(t, tt.id)
			for answer, s := range map[string]*kallav1.StoredRecipe{"SaveRecipe": saved.Msg.GetRecipe(), "GetRecipe": got.Msg.GetRecipe(), "ListRecipes": listed} {
				if strings.Contains(s.GetText(), "s3cret") || strings.Contains(s.GetParsed().String(), "s3cret") {
					t.Errorf("%s shows the password: %q", answer, s.GetText())
				}
				if uri := s.GetParsed().GetSources().GetLeft().GetUri(); uri != tt.wantURI {
					t.Errorf("%s: parsed left uri = %q, want %q", answer, uri, tt.wantURI)
				}
				if s.GetParsed().GetDescription() != got.Msg.GetRecipe().GetParsed().GetDescription() || len(s.GetParsed().GetMatchRules()) != 1 {
					t.Errorf("%s: parsed = %v, want the saved recipe but for its password", answer, s.GetParsed())
				}
				// The text shown is a recipe: it reads back as the parsed one.
				if reread, err := e.recipes.ValidateRecipe(e.ctx, connect.NewRequest(&kallav1.ValidateRecipeRequest{Recipe: s.GetText()})); err != nil ||
					!proto.Equal(reread.Msg.GetParsed(), s.GetParsed()) {
					t.Errorf("%s: the text shown does not read back as the parsed recipe (%v): %q", answer, err, s.GetText())
				}
				if keeps := s.GetText() == strings.ReplaceAll(tt.text, "s3cret", "REDACTED"); keeps != tt.keepsForm {
					t.Errorf("%s: text kept as written = %v, want %v: %q", answer, keeps, tt.keepsForm, s.GetText())
				}
			}
		})
	}
}

// listRecipe finds a saved recipe through ListRecipes.
func (e *env) listRecipe(t *testing.T, id string) *kallav1.StoredRecipe {
	t.Helper()
	token := ""
	for {
		resp, err := e.recipes.ListRecipes(e.ctx, connect.NewRequest(&kallav1.ListRecipesRequest{PageToken: token}))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.Msg.GetRecipes() {
			if r.GetRecipeId() == id {
				return r
			}
		}
		if token = resp.Msg.GetNextPageToken(); token == "" {
			t.Fatalf("ListRecipes does not list %s", id)
		}
	}
}

// withTypes sets the left source's types in a recipe of env.recipe.
func withTypes(recipe, types string) string {
	return strings.Replace(recipe, `"primary_key": ["invoice_id"]`, `"primary_key": ["invoice_id"], "types": `+types, 1)
}
