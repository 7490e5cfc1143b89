// Package webui serves Kalla's web page, built by Vite from services/web
// into dist/ and embedded in the planner. In the repository dist/ holds only
// .gitkeep; without a build the planner serves a short page that says how
// to build it, and the API works all the same.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// notBuilt is served at / when dist/index.html was not built.
const notBuilt = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Kalla</title></head>
<body>
<h1>Kalla</h1>
<p>The web page is not built. Run <code>make build</code> (it runs
<code>npm ci</code> and the web build) and then rebuild the planner.</p>
<p>The API works without it.</p>
</body>
</html>
`

// Handler serves the embedded page: / and any path without a file
// extension get index.html (the page routes with the URL hash), files under
// /assets/ are cached for a year (their names carry a content hash), and
// index.html is revalidated on every load.
func Handler() http.Handler { return handler(dist) }

// handler serves fsys's dist/ directory.
func handler(fsys fs.FS) http.Handler {
	files, err := fs.Sub(fsys, "dist")
	if err != nil {
		panic(err) // only a bad literal path can fail
	}
	index, err := fs.ReadFile(files, "index.html")
	built := err == nil
	if !built {
		index, files = []byte(notBuilt), nil
	}
	sum := sha256.Sum256(index)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	serveIndex := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
	}
	var fileServer http.Handler
	if built {
		fileServer = http.FileServerFS(files)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w.Header())
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" || name == "index.html" {
			serveIndex(w, r)
			return
		}
		if hidden(name) {
			http.NotFound(w, r)
			return
		}
		if built {
			if st, err := fs.Stat(files, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				fileServer.ServeHTTP(w, r)
				return
			}
		}
		if path.Ext(name) == "" {
			serveIndex(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

// contentSecurityPolicy lets the page load only its own files and call
// only the API that served it: it shows recipe text and evidence values,
// which must never run as script (the page also inserts them as text).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func secure(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// hidden is true for a path with an element starting with ".", such as
// dist/.gitkeep: not part of the page.
func hidden(name string) bool {
	for _, el := range strings.Split(name, "/") {
		if strings.HasPrefix(el, ".") {
			return true
		}
	}
	return false
}
