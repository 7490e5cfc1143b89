package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/evidence"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/plan"
	"github.com/kallahq/kalla/libs/scratch"
	"github.com/kallahq/kalla/libs/source"
)

// fetchPrefix names the scratch folders of downloaded sources; those of
// killed runs are swept by the next run.
const fetchPrefix = "kalla-fetch-"

// objects are the s3:// sources of a recipe, downloaded for a run on this
// machine: each side's source points at its local copy, and the copies
// are removed by remove.
type objects struct {
	held *scratch.Held
	// refs are the downloaded sources as the recipe gives them, by side
	// ("left", "right"), for saying what was read.
	refs map[string]source.Ref
}

// fetchObjects downloads every s3:// source of r (one object, or the
// objects a pattern names) into a scratch folder, both sides at once, as
// the pipeline's executor does, and points the source at the copy. The
// object store is configured by AWS_* variables (see
// objstore.ConfigFromEnv).
func fetchObjects(ctx context.Context, r *kallav1.Recipe, progress func(engine.Progress)) (*objects, error) {
	o := &objects{refs: map[string]source.Ref{}}
	type object struct {
		side string
		src  *kallav1.Source
		ref  source.Ref
	}
	var objs []object
	for _, side := range []struct {
		name string
		src  *kallav1.Source
	}{{"left", r.GetSources().GetLeft()}, {"right", r.GetSources().GetRight()}} {
		if ref, err := source.Parse(side.src.GetUri()); err == nil && ref.Object {
			objs = append(objs, object{side.name, side.src, ref})
		} // else refused, or read in place, by the run
	}
	if len(objs) == 0 {
		return o, nil
	}
	cfg, err := objstore.ConfigFromEnv()
	if err != nil {
		return nil, engine.BadInput("source %s: %v", objs[0].src.GetAlias(), err)
	}
	if o.held, err = scratch.Mkdir("", fetchPrefix); err != nil {
		return nil, err
	}
	var uris, dirs []string
	for _, ob := range objs {
		if progress != nil {
			progress(engine.Progress{Phase: engine.PhaseRead, Detail: "downloading " + ob.ref.String()})
		}
		uris, dirs = append(uris, ob.src.GetUri()), append(dirs, filepath.Join(o.held.Path, ob.side))
	}
	locals, errs := pipeline.FetchEach(ctx, uris, dirs, cfg)
	for i, ob := range objs {
		if errs[i] != nil {
			o.remove()
			return nil, fetchError(ob.src.GetAlias(), ob.ref, errs[i]) // the left side's first
		}
		o.refs[ob.side] = ob.ref
		ob.src.Uri = locals[i]
	}
	return o, nil
}

// fetchError says why a source could not be downloaded: no such object,
// a pattern naming none, or the store refusing the credentials are the
// user's to mend (bad input); anything else (a store that does not answer
// or fails, a full disk) is not.
func fetchError(alias string, ref source.Ref, err error) error {
	var none *pipeline.NoMatchError
	switch {
	case errors.As(err, &none):
		return engine.BadInput("source %s: %v", alias, err)
	case errors.Is(err, objstore.ErrNotFound):
		return engine.BadInput("source %s: there is no object %s", alias, ref)
	case objstore.Refused(err):
		return engine.BadInput("source %s: %s cannot be read: %v", alias, ref, err)
	}
	return fmt.Errorf("source %s: %s cannot be read now: %w", alias, ref, err)
}

// shown points the plan's sides back at the objects they were read from,
// for explaining the plan: its SQL then names the downloads as the
// planner's does. The plan is not run after.
func (o *objects) shown(p *plan.Plan) {
	for side, in := range map[string]*plan.Input{"left": &p.Left, "right": &p.Right} {
		if ref, ok := o.refs[side]; ok {
			in.Ref = ref
		}
	}
}

// remove removes the downloaded copies.
func (o *objects) remove() {
	if o.held != nil {
		o.held.RemoveAll()
	}
}

// outPrefix names the scratch folders of evidence bound for an object
// store.
const outPrefix = "kalla-out-"

// upload is --out given as s3://bucket/prefix: the run writes its evidence
// into a scratch folder, and publish uploads it there.
type upload struct {
	store objstore.Store
	held  *scratch.Held
	// dir, in the held folder, is the run's output folder: a run locks
	// its output folder, which the held folder's own lock would block.
	dir string
}

// newUpload checks the store's settings before the run, which may be long,
// and makes the folder the evidence is written into.
func newUpload(uri string) (*upload, error) {
	cfg, err := objstore.ConfigFromEnv()
	if err != nil {
		return nil, engine.BadInput("--out %s: %v", uri, err)
	}
	store, err := objstore.Open(uri, cfg)
	if err != nil {
		return nil, engine.BadInput("--out %s: %v", uri, err)
	}
	held, err := scratch.Mkdir("", outPrefix)
	if err != nil {
		return nil, err
	}
	return &upload{store: store, held: held, dir: filepath.Join(held.Path, "evidence")}, nil
}

// publish uploads the evidence of format from the scratch folder, and
// removes the evidence of the other formats an earlier run left there, as
// a run does in a folder. An earlier summary goes first and the new one
// is uploaded last, so a summary only ever stands beside the evidence it
// describes: an upload cut short leaves files without one.
func (u *upload) publish(ctx context.Context, format engine.Format) error {
	if err := u.store.Delete(ctx, evidence.SummaryFile); err != nil {
		return u.failed(err)
	}
	for _, name := range engine.EvidenceFiles {
		for _, f := range engine.Formats {
			key := f.File(name)
			var err error
			if f == format {
				err = u.store.PutFile(ctx, key, filepath.Join(u.dir, key)) // replaces an earlier one whole
			} else {
				err = u.store.Delete(ctx, key)
			}
			if err != nil {
				return u.failed(err)
			}
		}
	}
	if err := u.store.PutFile(ctx, evidence.SummaryFile, filepath.Join(u.dir, evidence.SummaryFile)); err != nil {
		return u.failed(err)
	}
	return nil
}

// failed is the error of an upload that did not finish: refused
// credentials or permissions are the user's to mend.
func (u *upload) failed(err error) error {
	err = &uploadError{fmt.Errorf("--out %s: the evidence could not be uploaded, so it has no %s: %w", u.store.URI(""), evidence.SummaryFile, err)}
	if objstore.Refused(err) {
		return engine.MarkBadInput(err)
	}
	return err
}

// uploadError is an upload that did not finish: the output prefix may hold
// part of the evidence, and no summary.
type uploadError struct{ error }

func (e *uploadError) Unwrap() error { return e.error }

// checkPlaces refuses, before any work, an upload that would replace a
// source object or put evidence where a source's pattern would read it
// in a later run, as a run refuses such a folder on this machine.
func (u *upload) checkPlaces(r *kallav1.Recipe) error {
	var keys []string
	for _, name := range engine.EvidenceFiles {
		for _, f := range engine.Formats {
			keys = append(keys, f.File(name))
		}
	}
	keys = append(keys, evidence.SummaryFile)
	for _, src := range []*kallav1.Source{r.GetSources().GetLeft(), r.GetSources().GetRight()} {
		uri := src.GetUri()
		for _, key := range keys {
			out := u.store.URI(key)
			if out == uri || source.Pattern(uri) && source.PatternMatches(uri, out) {
				return engine.BadInput("--out: %s would replace or be read by source %s (%s); write the evidence elsewhere", out, src.GetAlias(), uri)
			}
		}
	}
	return nil
}

// remove removes the scratch folder.
func (u *upload) remove() { u.held.RemoveAll() }
