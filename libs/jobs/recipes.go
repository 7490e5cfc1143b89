package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SaveRecipe stores a recipe under id, replacing an earlier one.
func (s *Store) SaveRecipe(ctx context.Context, id, text string, recipe []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO recipes (recipe_id, text, recipe) VALUES ($1, $2, $3)
		ON CONFLICT (recipe_id) DO UPDATE SET text = EXCLUDED.text, recipe = EXCLUDED.recipe,
		updated_at = now()`, id, text, recipe)
	if err != nil {
		return fmt.Errorf("save recipe %q: %w", id, err)
	}
	return nil
}

// GetRecipe returns the recipe saved under id, or ErrNotFound.
func (s *Store) GetRecipe(ctx context.Context, id string) (Recipe, error) {
	var r Recipe
	err := s.pool.QueryRow(ctx, "SELECT recipe_id, text, recipe, updated_at FROM recipes WHERE recipe_id = $1", id).
		Scan(&r.ID, &r.Text, &r.Recipe, &r.UpdatedAt)
	if err != nil {
		return Recipe{}, fmt.Errorf("get recipe %q: %w", id, notFound(err))
	}
	return r, nil
}

// ListRecipes returns recipes ordered by id and the next page token ("" on
// the last page).
func (s *Store) ListRecipes(ctx context.Context, size int, pageToken string) ([]Recipe, string, error) {
	size = PageSize(size)
	after, err := decodeToken(pageToken)
	if err != nil {
		return nil, "", fmt.Errorf("list recipes: %w %q", ErrBadPageToken, pageToken)
	}
	rows, err := s.pool.Query(ctx, `SELECT recipe_id, text, recipe, updated_at FROM recipes
		WHERE recipe_id > $1 ORDER BY recipe_id LIMIT $2`, after, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("list recipes: %w", err)
	}
	recipes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Recipe])
	if err != nil {
		return nil, "", fmt.Errorf("list recipes: %w", err)
	}
	if len(recipes) <= size {
		return recipes, "", nil
	}
	return recipes[:size], encodeToken(recipes[size-1].ID), nil
}
