package api_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/gen/kalla/v1/kallav1connect"
)

func TestServer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.writeCSVs(t)
	runID := e.createRun(t)
	get := connect.NewRequest(&kallav1.GetRunRequest{RunId: runID})

	t.Run("auth_refuses_a_missing_or_wrong_token", func(t *testing.T) {
		for _, tok := range []string{"", "wrong", token + "x"} {
			c := kallav1connect.NewRunServiceClient(authClient(tok, false), e.url)
			_, err := c.GetRun(e.ctx, get)
			wantCode(t, err, connect.CodeUnauthenticated)
			s, err := c.WatchRun(e.ctx, connect.NewRequest(&kallav1.WatchRunRequest{RunId: runID}))
			if err == nil {
				for s.Receive() {
					t.Errorf("token %q: WatchRun sent an update", tok)
				}
				err = s.Err()
			}
			wantCode(t, err, connect.CodeUnauthenticated)
			rc := kallav1connect.NewRecipeServiceClient(authClient(tok, false), e.url)
			_, err = rc.ValidateRecipe(e.ctx, connect.NewRequest(&kallav1.ValidateRecipeRequest{Recipe: "{}"}))
			wantCode(t, err, connect.CodeUnauthenticated)
		}
	})
	t.Run("auth_accepts_every_configured_token", func(t *testing.T) {
		for _, tok := range []string{token, "other-token"} {
			c := kallav1connect.NewRunServiceClient(authClient(tok, false), e.url)
			if _, err := c.GetRun(e.ctx, get); err != nil {
				t.Errorf("token %q: %v", tok, err)
			}
		}
	})
	t.Run("grpc_and_grpc_web_protocols", func(t *testing.T) {
		for name, c := range map[string]kallav1connect.RunServiceClient{
			"grpc":     kallav1connect.NewRunServiceClient(authClient(token, true), e.url, connect.WithGRPC()),
			"grpc_web": kallav1connect.NewRunServiceClient(authClient(token, false), e.url, connect.WithGRPCWeb()),
		} {
			resp, err := c.GetRun(e.ctx, get)
			if err != nil || resp.Msg.GetRun().GetRunId() != runID {
				t.Errorf("%s: GetRun = %v, %v", name, resp, err)
			}
		}
		c := kallav1connect.NewRunServiceClient(authClient("", true), e.url, connect.WithGRPC())
		_, err := c.GetRun(e.ctx, get)
		wantCode(t, err, connect.CodeUnauthenticated)
	})
	t.Run("reflection_is_open", func(t *testing.T) {
		client := grpcreflect.NewClient(authClient("", true), e.url)
		stream := client.NewStream(e.ctx)
		defer stream.Close()
		names, err := stream.ListServices()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range names {
			got = append(got, string(n))
		}
		for _, want := range []string{kallav1connect.RunServiceName, kallav1connect.RecipeServiceName} {
			if !slices.Contains(got, want) {
				t.Errorf("services = %v, missing %s", got, want)
			}
		}
		files, err := stream.FileContainingSymbol("kalla.v1.RunService")
		if err != nil || len(files) == 0 {
			t.Errorf("FileContainingSymbol: %d files, %v", len(files), err)
		}
	})
	t.Run("health_is_open", func(t *testing.T) {
		for _, svc := range []string{"", kallav1connect.RunServiceName} {
			req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url+"/grpc.health.v1.Health/Check",
				strings.NewReader(`{"service": "`+svc+`"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "SERVING") {
				t.Errorf("health of %q: %d %s", svc, resp.StatusCode, body)
			}
		}
	})
	t.Run("cors_preflight", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(e.ctx, http.MethodOptions, e.url+"/kalla.v1.RunService/GetRun", nil)
		req.Header.Set("Origin", "http://app.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode/100 != 2 || h.Get("Access-Control-Allow-Origin") == "" ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight: %d %v", resp.StatusCode, h)
		}
		// A real cross-origin call exposes the headers gRPC-Web needs.
		c := kallav1connect.NewRunServiceClient(authClient(token, false), e.url, connect.WithGRPCWeb())
		r := connect.NewRequest(&kallav1.GetRunRequest{RunId: runID})
		r.Header().Set("Origin", "http://app.example")
		out, err := c.GetRun(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if exp := out.Header().Get("Access-Control-Expose-Headers"); !strings.Contains(exp, "Grpc-Status") {
			t.Errorf("exposed headers = %q", exp)
		}
	})
}
