package webui

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func checkPlaceholder(t *testing.T, h http.Handler) {
	t.Helper()
	for _, p := range []string{"/", "/runs/42"} {
		resp, body := get(t, h, http.MethodGet, p)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "<title>Kalla</title>") || !strings.Contains(body, "make build") || !strings.Contains(body, "not built") {
			t.Errorf("GET %s: %d %s %q", p, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	for _, p := range []string{"/.gitkeep", "/assets/app.js", "/favicon.ico"} {
		if resp, _ := get(t, h, http.MethodGet, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestHandler checks the embedded page as this checkout has it: in the
// committed state (dist/.gitkeep only) it is the placeholder.
func TestHandler(t *testing.T) {
	if _, err := fs.Stat(dist, "dist/index.html"); err == nil {
		t.Log("dist/index.html is built; checking it is served")
		resp, body := get(t, Handler(), http.MethodGet, "/")
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "make build") || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET /: %d %v %.200q", resp.StatusCode, resp.Header, body)
		}
		return
	}
	checkPlaceholder(t, Handler())
}

func TestNotBuilt(t *testing.T) {
	checkPlaceholder(t, handler(fstest.MapFS{"dist/.gitkeep": {}}))
}

func TestBuilt(t *testing.T) {
	const index = `<!doctype html><title>Kalla</title><script src="/assets/index-abc123.js"></script>`
	h := handler(fstest.MapFS{
		"dist/.gitkeep":               {},
		"dist/index.html":             {Data: []byte(index)},
		"dist/favicon.svg":            {Data: []byte("<svg/>")},
		"dist/assets/index-abc123.js": {Data: []byte("console.log(1)")},
	})
	for _, p := range []string{"/", "/index.html", "/runs", "/runs/42/matches"} {
		resp, body := get(t, h, http.MethodGet, p)
		if resp.StatusCode != http.StatusOK || body != index || resp.Header.Get("Cache-Control") != "no-cache" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %v %q", p, resp.StatusCode, resp.Header, body)
		}
	}
	resp, body := get(t, h, http.MethodGet, "/assets/index-abc123.js")
	if resp.StatusCode != http.StatusOK || body != "console.log(1)" ||
		resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Errorf("asset: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = get(t, h, http.MethodGet, "/favicon.svg")
	if resp.StatusCode != http.StatusOK || body != "<svg/>" || resp.Header.Get("Cache-Control") != "" {
		t.Errorf("favicon: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	for _, p := range []string{"/assets/missing.js", "/.gitkeep", "/dist/index.html"} {
		if resp, _ := get(t, h, http.MethodGet, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	// A folder has no extension: it is the page, never a listing.
	if resp, body := get(t, h, http.MethodGet, "/assets/"); resp.StatusCode != http.StatusOK || body != index {
		t.Errorf("/assets/: %d %q", resp.StatusCode, body)
	}
	// index.html is revalidated by its ETag.
	resp, _ = get(t, h, http.MethodGet, "/")
	if etag := resp.Header.Get("ETag"); etag == "" {
		t.Error("no ETag on index.html")
	} else if resp, _ := get(t, h, http.MethodGet, "/", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}
	if resp, body := get(t, h, http.MethodHead, "/"); resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD /: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, h, http.MethodPost, "/"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}
}

// TestSecurityHeaders: the page, its assets and its 404s all carry the
// content security policy, so recipe or evidence text can never run as
// script in it.
func TestSecurityHeaders(t *testing.T) {
	h := handler(fstest.MapFS{
		"dist/index.html":      {Data: []byte("<!doctype html><title>Kalla</title>")},
		"dist/assets/app-1.js": {Data: []byte("console.log(1)")},
	})
	for _, p := range []string{"/", "/assets/app-1.js", "/missing.png"} {
		resp, _ := get(t, h, http.MethodGet, p)
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: %d, headers %v", p, resp.StatusCode, resp.Header)
		}
	}
}
