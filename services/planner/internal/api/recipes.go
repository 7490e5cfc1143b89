package api

import (
	"context"
	"errors"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/sqlplan"
)

// ValidateRecipe checks a recipe statically and, with check_sources,
// against its sources' schemas. Mistakes are the answer, not an error.
func (s *Server) ValidateRecipe(ctx context.Context, req *connect.Request[kallav1.ValidateRecipeRequest]) (*connect.Response[kallav1.ValidateRecipeResponse], error) {
	resp := &kallav1.ValidateRecipeResponse{}
	r, err := parseRecipe(req.Msg.GetRecipe())
	if err == nil {
		resp.Parsed = r
		if req.Msg.GetCheckSources() {
			_, err = s.buildPlan(ctx, r)
		}
	}
	var errs recipe.Errors
	switch {
	case err == nil:
		resp.Valid = true
	case errors.As(err, &errs):
		resp.Errors = fieldErrors(errs)
	default:
		return nil, invalidArgument(err)
	}
	return connect.NewResponse(resp), nil
}

// ExplainRecipe returns the SQL the engine would run, per rule and whole.
func (s *Server) ExplainRecipe(ctx context.Context, req *connect.Request[kallav1.ExplainRecipeRequest]) (*connect.Response[kallav1.ExplainRecipeResponse], error) {
	r, err := parseRecipe(req.Msg.GetRecipe())
	if err != nil {
		return nil, invalidArgument(err)
	}
	p, err := s.buildPlan(ctx, r)
	if err != nil {
		return nil, invalidArgument(err)
	}
	rules, script := sqlplan.Explain(p)
	resp := &kallav1.ExplainRecipeResponse{Sql: script}
	for _, rs := range rules {
		resp.Rules = append(resp.Rules, &kallav1.RuleExplanation{Rule: rs.Rule, Sql: rs.SQL})
	}
	return connect.NewResponse(resp), nil
}

// SaveRecipe stores a recipe under its recipe_id: the text as written and
// its parsed form. Saving the same id again replaces it.
func (s *Server) SaveRecipe(ctx context.Context, req *connect.Request[kallav1.SaveRecipeRequest]) (*connect.Response[kallav1.SaveRecipeResponse], error) {
	text := req.Msg.GetRecipe()
	r, err := parseRecipe(text)
	if err != nil {
		return nil, invalidArgument(err)
	}
	parsed, err := proto.Marshal(r)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	if err := s.store.SaveRecipe(ctx, r.GetRecipeId(), text, parsed); err != nil {
		return nil, s.storeError(err, "recipe", r.GetRecipeId())
	}
	stored, err := s.store.GetRecipe(ctx, r.GetRecipeId())
	if err != nil {
		return nil, s.storeError(err, "recipe", r.GetRecipeId())
	}
	return connect.NewResponse(&kallav1.SaveRecipeResponse{Recipe: storedProto(stored)}), nil
}

// GetRecipe returns a saved recipe.
func (s *Server) GetRecipe(ctx context.Context, req *connect.Request[kallav1.GetRecipeRequest]) (*connect.Response[kallav1.GetRecipeResponse], error) {
	id := req.Msg.GetRecipeId()
	if strings.TrimSpace(id) == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("recipe_id is required"))
	}
	stored, err := s.store.GetRecipe(ctx, id)
	if err != nil {
		return nil, s.storeError(err, "recipe", id)
	}
	return connect.NewResponse(&kallav1.GetRecipeResponse{Recipe: storedProto(stored)}), nil
}

// ListRecipes pages through saved recipes by id.
func (s *Server) ListRecipes(ctx context.Context, req *connect.Request[kallav1.ListRecipesRequest]) (*connect.Response[kallav1.ListRecipesResponse], error) {
	size, err := pageSize(req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	recipes, next, err := s.store.ListRecipes(ctx, size, req.Msg.GetPageToken())
	if err != nil {
		return nil, s.storeError(err, "recipe", "")
	}
	resp := &kallav1.ListRecipesResponse{NextPageToken: next}
	for _, r := range recipes {
		resp.Recipes = append(resp.Recipes, storedProto(r))
	}
	return connect.NewResponse(resp), nil
}

// storedProto maps a saved recipe as the API shows it, its passwords masked
// (see shownRecipe).
func storedProto(r jobs.Recipe) *kallav1.StoredRecipe {
	text, parsed := shownRecipe(r)
	return &kallav1.StoredRecipe{RecipeId: r.ID, Text: text, Parsed: parsed, UpdatedAt: timestamp(r.UpdatedAt)}
}

// shownRecipe masks the passwords of a saved recipe's source URIs (see
// source.Redact), in its parsed form and in its text. The text keeps the
// form it was written in when masking each URI where it stands leaves no
// copy of a password and reads back as the masked recipe; otherwise (a URI
// written with escapes, a password repeated in a comment) it is the masked
// recipe written anew. A recipe that cannot be read is not shown at all:
// its passwords cannot be found.
func shownRecipe(r jobs.Recipe) (string, *kallav1.Recipe) {
	parsed := &kallav1.Recipe{}
	if proto.Unmarshal(r.Recipe, parsed) != nil {
		return "", nil
	}
	text := r.Text
	var secrets []string
	for _, src := range []*kallav1.Source{parsed.GetSources().GetLeft(), parsed.GetSources().GetRight()} {
		if s := source.Secrets(src.GetUri()); len(s) > 0 {
			secrets = append(secrets, s...)
			masked := source.Redact(src.GetUri())
			text = strings.ReplaceAll(text, src.GetUri(), masked)
			src.Uri = masked
		}
	}
	if len(secrets) == 0 {
		return text, parsed
	}
	leaks := slices.ContainsFunc(secrets, func(s string) bool { return strings.Contains(text, s) })
	if reread, err := recipe.Parse([]byte(text)); err == nil && !leaks && proto.Equal(reread, parsed) {
		return text, parsed
	}
	written, err := recipe.Marshal(parsed)
	if err != nil {
		return "", parsed
	}
	return string(written), parsed
}
