package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"connectrpc.com/connect"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/recipe"
	"github.com/kallahq/kalla/libs/scratch"
	"github.com/kallahq/kalla/libs/source"
)

// schemaTimeout bounds reading one source's schema (a PostgreSQL catalog
// query, a CSV scan).
const schemaTimeout = 2 * time.Minute

// schemaPrefix names the folder an object source is downloaded to for its
// schema; a killed planner's are swept by the next download.
const schemaPrefix = "kalla-schema-"

// parseRecipe parses recipe text; mistakes come back as recipe.Errors.
func parseRecipe(text string) (*kallav1.Recipe, error) {
	return recipe.Parse([]byte(text))
}

// buildPlan reads both sources' schemas (pure Go: CSV and Parquet files,
// PostgreSQL catalogs) and checks the recipe's columns and types against
// them. Every mistake the user can fix comes back as recipe.Errors.
func (s *Server) buildPlan(ctx context.Context, r *kallav1.Recipe) (*plan.Plan, error) {
	var errs recipe.Errors
	var inputs [2]plan.Input
	for i, side := range []struct {
		field string
		src   *kallav1.Source
	}{{"sources.left", r.GetSources().GetLeft()}, {"sources.right", r.GetSources().GetRight()}} {
		in, err := s.readInput(ctx, side.src)
		var cerr *connect.Error
		if errors.As(err, &cerr) {
			return nil, cerr
		}
		if err != nil {
			errs = append(errs, recipe.FieldError{Field: side.field + "." + sourceField(err), Message: err.Error()})
			continue
		}
		inputs[i] = in
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return plan.Build(r, inputs[0], inputs[1])
}

// sourceField names the field of a source that a schema error is about:
// its types when they do not fit the data, a CSV setting given for another
// format, else its uri.
func sourceField(err error) string {
	var te *source.TypeError
	var nc *source.NotCSVError
	switch {
	case errors.As(err, &te):
		return "types." + te.Column
	case errors.As(err, &nc):
		return nc.Field
	case errors.Is(err, source.ErrNoSheet):
		return "sheet"
	}
	return "uri"
}

// readInput reads one source's schema. The error names the alias and the
// redacted URI, never a password. A mistake the user can fix comes back
// plain; a failure of the server's own (its scratch space, the object store
// it reads from) as a connect error.
func (s *Server) readInput(ctx context.Context, src *kallav1.Source) (plan.Input, error) {
	uri := source.Redact(src.GetUri())
	ref, err := source.Parse(src.GetUri())
	if err != nil {
		return plan.Input{}, fmt.Errorf("source %s: %v (a recipe sent to the server must use absolute file:/// paths; `kalla submit` makes them absolute)", src.GetAlias(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, schemaTimeout)
	defer cancel()
	in := plan.Input{Alias: src.GetAlias(), Ref: ref}
	path := ref.Path
	if ref.Object {
		held, err := scratch.Mkdir("", schemaPrefix)
		if err != nil {
			return plan.Input{}, connect.NewError(connect.CodeInternal, fmt.Errorf("source %s: no scratch space for its schema: %w", src.GetAlias(), err))
		}
		defer held.RemoveAll()
		if path, err = s.fetch(ctx, src.GetUri(), held.Path); err != nil {
			return plan.Input{}, unfetched(src, uri, err)
		}
	}
	if in.Schema, err = source.ReadSchema(ctx, ref, path, recipe.CSVOptions(src)); err != nil {
		return plan.Input{}, unreadable(src, uri, err)
	}
	return in, nil
}

// fetch downloads an object source, or the objects its pattern names,
// into dir, keeping their names, and returns the local path the schema is
// read from.
func (s *Server) fetch(ctx context.Context, uri, dir string) (string, error) {
	local, err := pipeline.Fetch(ctx, uri, dir, s.cfg.ObjStore)
	return strings.TrimPrefix(local, "file://"), err
}

// unfetched is the error of an object source that could not be
// downloaded: FailedPrecondition when the planner has no S3 credentials;
// the recipe's to mend when the object or a pattern's objects do not
// exist or the store refuses them; else Unavailable (a store that does not
// answer, or fails), to be tried again.
func unfetched(src *kallav1.Source, uri string, err error) error {
	if objstore.Misconfigured(err) {
		// The planner's settings, not the recipe, lack what S3 needs.
		return connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("source %s (%s) cannot be read: the planner's S3 settings: %w", src.GetAlias(), uri, err))
	}
	if errors.Is(err, objstore.ErrNotFound) || objstore.Refused(err) {
		return unreadable(src, uri, err)
	}
	return connect.NewError(connect.CodeUnavailable, fmt.Errorf("source %s (%s) cannot be read now: %w", src.GetAlias(), uri, err))
}

// unreadable is the error of a source that could not be read: Unavailable
// when its server (the object store, the database) is away, which no change
// to the recipe mends; else plain, the recipe's to mend.
func unreadable(src *kallav1.Source, uri string, err error) error {
	err = fmt.Errorf("source %s (%s) cannot be read: %w", src.GetAlias(), uri, err)
	if source.Unavailable(err) {
		return connect.NewError(connect.CodeUnavailable, err)
	}
	return err
}

// download copies one object (s3://bucket/key or file:///dir/key) to a
// local file.
func (s *Server) download(ctx context.Context, uri, local string) error {
	store, key, err := objstore.OpenObject(uri, s.cfg.ObjStore)
	if err != nil {
		return err
	}
	return store.GetFile(ctx, key, local)
}

// fieldErrors converts recipe.Errors to their wire form.
func fieldErrors(errs recipe.Errors) []*kallav1.FieldError {
	out := make([]*kallav1.FieldError, len(errs))
	for i, e := range errs {
		out[i] = &kallav1.FieldError{Field: e.Field, Line: int32(e.Line), Column: int32(e.Column), Message: e.Message}
	}
	return out
}

// invalidArgument turns a recipe mistake into InvalidArgument with one
// FieldError detail per mistake; a connect error stays as it is, other
// errors become Internal.
func invalidArgument(err error) error {
	var errs recipe.Errors
	var cerr *connect.Error
	switch {
	case errors.As(err, &cerr):
		return cerr
	case !errors.As(err, &errs):
		return connect.NewError(connect.CodeInternal, err)
	}
	cerr = connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("invalid recipe:\n%s", errs.Error()))
	for _, fe := range fieldErrors(errs) {
		if d, derr := connect.NewErrorDetail(fe); derr == nil {
			cerr.AddDetail(d)
		}
	}
	return cerr
}
