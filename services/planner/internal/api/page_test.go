package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestWebPage: the web page is served at / without a token, and the API's
// routes on the same mux still reach Connect and its auth.
func TestWebPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, path := range []string{"/", "/runs"} {
		resp, body := e.get(t, http.MethodGet, path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(body), "Kalla") {
			t.Errorf("GET %s: %d %s %.200q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url+"/kalla.v1.RunService/ListRuns", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("ListRuns without a token: %d %s, want 401 from Connect", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := e.get(t, http.MethodGet, "/kalla.v1.RunService/NoSuchMethod"); resp.StatusCode == http.StatusOK {
		t.Errorf("an unknown API method got the page")
	}
}
