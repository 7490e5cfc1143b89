// Package objstore puts local directories (file://) and S3 buckets (s3://)
// behind one small interface, so the pipeline services can stage Parquet
// parts and publish evidence without caring where they go.
//
// Keys are slash-separated paths relative to a store's root: "a/b.parquet",
// never "/a", "a//b", "./a" or "../a". The same rules hold for both kinds of
// store, so code tested against a directory behaves the same on S3.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Store holds objects under one root (a local directory or an S3 bucket +
// prefix). Keys are slash-separated and relative to that root.
type Store interface {
	// PutFile uploads a local file. The object appears whole or not at all.
	PutFile(ctx context.Context, key, localPath string) error
	// Put uploads everything r yields. The object appears whole or not at all.
	Put(ctx context.Context, key string, r io.Reader) error
	// GetFile downloads an object to a local file, writing a temp file beside
	// it and renaming it into place; parent directories are created.
	GetFile(ctx context.Context, key, localPath string) error
	// Open streams an object; the caller closes it. Size tells the
	// object's size from the reader.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns every object whose key starts with prefix (a plain string
	// prefix, as in S3: "a" matches "a/x" and "ab"), sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Delete removes an object; a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// URI returns the object's URI, e.g. s3://bucket/prefix/key or
	// file:///dir/key; URI("") is the store's root, which Open accepts.
	URI(key string) string
}

// Object is one entry of a listing.
type Object struct {
	Key  string // relative to the store's root
	Size int64  // bytes
}

// Refused reports whether the store refused a request for a reason its
// caller can mend (credentials, permissions, a bucket that does not
// exist): an S3 answer of 4xx other than a timeout (408) or throttling
// (429), which pass; settings that cannot reach it (no credentials); or a
// file the process may not write.
func Refused(err error) bool {
	if Misconfigured(err) {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		code := re.HTTPStatusCode()
		return code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
	}
	return errors.Is(err, fs.ErrPermission)
}

// Misconfigured reports whether the process's own settings cannot reach
// the store (no credentials, or half of them): its operator's to mend,
// whoever asked for the object.
func Misconfigured(err error) bool {
	var se settingsError
	return errors.As(err, &se)
}

// settingsError is a store that its settings cannot reach.
type settingsError string

func (e settingsError) Error() string { return string(e) }

// ErrNotFound is returned (wrapped) by Open and GetFile for a missing key.
var ErrNotFound = errors.New("object not found")

const allowedURIs = "want s3://bucket[/prefix] or file:///absolute/dir"

// tempPrefix names the temp files written beside their targets. A key whose
// last element starts with it is refused, and List skips such files, so a
// half-written file never shows up as an object.
const tempPrefix = ".objstore-tmp-"

// Open parses s3://bucket[/prefix] or file:///absolute/dir and returns a
// Store rooted there. cfg is used only for s3:// URIs.
func Open(uri string, cfg Config) (Store, error) {
	u, err := url.Parse(uri)
	if err != nil {
		// url.Error repeats the raw URI, which may hold user info; leave it out.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("objstore: invalid store URI: %v; %s", err, allowedURIs)
	}
	bad := func(why string) error {
		return fmt.Errorf("objstore: invalid store URI %q: %s; %s", u.Redacted(), why, allowedURIs)
	}
	if u.User != nil {
		return nil, bad("user info is not allowed (credentials come from Config)")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, bad("query and fragment are not allowed")
	}
	switch u.Scheme {
	case "file":
		if u.Opaque != "" {
			return nil, bad("the path must be absolute (three slashes)")
		}
		if u.Host != "" {
			return nil, bad("a file URI has no host; the path must be absolute (three slashes)")
		}
		if !path.IsAbs(u.Path) {
			return nil, bad("the path must be absolute")
		}
		return &fileStore{root: filepath.Clean(filepath.FromSlash(u.Path))}, nil
	case "s3":
		if u.Opaque != "" || u.Host == "" {
			return nil, bad("missing bucket")
		}
		if u.Port() != "" || !validBucket(u.Host) {
			return nil, bad(fmt.Sprintf("bucket %q is not a valid bucket name", u.Host))
		}
		prefix := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/")
		if prefix != "" && !fs.ValidPath(prefix) {
			return nil, bad(fmt.Sprintf("prefix %q has empty, \".\" or \"..\" elements", prefix))
		}
		return newS3Store(u.Host, prefix, cfg)
	case "":
		return nil, bad("missing scheme")
	default:
		return nil, bad(fmt.Sprintf("unsupported scheme %q", u.Scheme))
	}
}

// OpenObject opens the store holding one object, s3://bucket/dir/key or
// file:///dir/key, and returns the object's key in it.
func OpenObject(uri string, cfg Config) (Store, string, error) {
	i := strings.LastIndex(uri, "/")
	if i < 0 || i == len(uri)-1 {
		return nil, "", fmt.Errorf("objstore: %s names no object; %s", redactURL(uri), allowedURIs)
	}
	parent := uri[:i]
	if strings.HasSuffix(parent, "//") {
		parent += "/" // file:///key: the root directory
	}
	store, err := Open(parent, cfg)
	if err != nil {
		return nil, "", err
	}
	return store, uri[i+1:], nil
}

// validBucket checks the shape of an S3 bucket name: 3-63 characters of
// lowercase letters, digits, dots and hyphens, starting and ending with a
// letter or digit.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i, c := range b {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(b)-1 || c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// checkKey enforces the key rules shared by both stores.
func checkKey(key string) error {
	switch {
	case key == "" || key == ".":
		return errors.New("empty key")
	case !fs.ValidPath(key):
		return fmt.Errorf("invalid key %q: want a relative slash-separated path without empty, \".\" or \"..\" elements", key)
	case strings.HasPrefix(path.Base(key), tempPrefix):
		return fmt.Errorf("invalid key %q: names starting with %q are reserved for temp files", key, tempPrefix)
	}
	return nil
}

// checkPrefix accepts "" and any prefix of a valid key.
func checkPrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	if prefix == "" || p == "." || fs.ValidPath(p) && p != "" {
		return nil
	}
	return fmt.Errorf("invalid list prefix %q: want a relative slash-separated path without empty, \".\" or \"..\" elements", prefix)
}

// opError gives every failure the same shape: objstore: OP URI: cause.
// getFile is GetFile for either store: open yields the object key, whose
// URI is uri, and it is written to localPath atomically.
func getFile(ctx context.Context, open func(context.Context, string) (io.ReadCloser, error), uri, key, localPath string) error {
	rc, err := open(ctx, key)
	if err != nil {
		return opError("get", uri, err)
	}
	defer rc.Close()
	if err := WriteFileAtomic(ctx, localPath, rc); err != nil {
		return opError("get", uri, fmt.Errorf("write %s: %w", localPath, err))
	}
	return nil
}

func opError(op, uri string, err error) error {
	return fmt.Errorf("objstore: %s %s: %w", op, uri, err)
}

// WriteFileAtomic copies r into a temp file beside dst, syncs it and renames
// it onto dst, so dst is either the old file or the whole new one.
func WriteFileAtomic(ctx context.Context, dst string, r io.Reader) (err error) {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(f, ctxReader{ctx, r}); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Size is the size of the object a reader from Open streams, as the store
// reported it when the object was opened; false when it did not.
func Size(rc io.ReadCloser) (int64, bool) {
	switch r := rc.(type) {
	case *os.File:
		st, err := r.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return 0, false
		}
		return st.Size(), true
	case sizedBody:
		return r.size, r.size >= 0
	}
	return 0, false
}

// sizedBody is an S3 object's body with the length its answer gave.
type sizedBody struct {
	io.ReadCloser
	size int64
}
