package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/testenv"
)

// TestObjectSourcesOnThisMachine: kalla reconcile and kalla explain read
// s3:// sources by downloading them, configured by AWS_* variables as the
// services are, and leave no copy behind. Not parallel: it sets the
// process's environment.
func TestObjectSourcesOnThisMachine(t *testing.T) {
	s3 := testenv.S3(t)
	t.Setenv("AWS_ENDPOINT_URL", s3.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", s3.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	t.Setenv("AWS_REGION", s3.Region)
	t.Setenv("KALLA_S3_PATH_STYLE", "true")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the copies go, to see them gone

	csv := copyExample(t, "bank", "recipe-workbook.json", "payments.csv", "statement.csv", "statement.xlsx")
	dir := filepath.Dir(csv)
	store, err := objstore.Open("s3://"+s3.Bucket+"/bank", s3.Config())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"payments.csv", "statement.xlsx"} {
		if err := store.PutFile(context.Background(), name, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	bucket := "s3://" + s3.Bucket + "/bank/"
	recipe := filepath.Join(dir, "recipe-workbook.json")
	replaceInFile(t, recipe, "file://payments.csv", bucket+"payments.csv", "file://statement.xlsx", bucket+"statement.xlsx")

	local := filepath.Join(t.TempDir(), "local")
	if r := kalla(t, "reconcile", "--recipe", csv, "--out", local, "--format", "csv"); r.code != exitOK {
		t.Fatalf("the local files: exit %d: %s", r.code, r.stderr)
	}
	noCopies := func(t *testing.T) {
		t.Helper()
		if left, _ := filepath.Glob(filepath.Join(tmp, fetchPrefix+"*")); len(left) > 0 {
			t.Errorf("copies left behind: %v", left)
		}
	}

	t.Run("reconciled_like_the_local_files", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		r := kalla(t, "reconcile", "--recipe", recipe, "--out", out, "--format", "csv")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want, got := csvEvidence(t, local), csvEvidence(t, out)
		for name := range want {
			if got[name] != want[name] {
				t.Errorf("%s from the objects:\n%s\nfrom the local files:\n%s", name, got[name], want[name])
			}
		}
		if s := summaryIn(t, out); s.Right.Sheet != "Transactions" || s.Left.Rows != summaryIn(t, local).Left.Rows {
			t.Errorf("summary: %+v", s)
		}
		noCopies(t)
	})
	t.Run("explained_as_downloads", func(t *testing.T) {
		r := kalla(t, "explain", "--recipe", recipe, "--sql")
		for _, want := range []string{"right bank: " + bucket + "statement.xlsx\n", "<download of " + strings.TrimSuffix(bucket, "/") + ">/payments.csv"} {
			if r.code != exitOK || !strings.Contains(r.stdout, want) {
				t.Errorf("exit %d, want %q in:\n%s%s", r.code, want, r.stdout, r.stderr)
			}
		}
		noCopies(t)
	})
	t.Run("missing_objects_are_bad_input", func(t *testing.T) {
		for uri, want := range map[string]string{
			bucket + "nope.xlsx":   "source bank: there is no object " + bucket + "nope.xlsx\n",
			bucket + "nope-*.xlsx": "no object in " + bucket + " matches nope-*.xlsx",
		} {
			bad := copyExample(t, "bank", "recipe-workbook.json")
			bad = filepath.Join(filepath.Dir(bad), "recipe-workbook.json")
			replaceInFile(t, bad, "file://payments.csv", bucket+"payments.csv", "file://statement.xlsx", uri)
			out := filepath.Join(t.TempDir(), "out")
			r := kalla(t, "reconcile", "--recipe", bad, "--out", out)
			if _, err := os.Stat(out); r.code != exitBadInput || !strings.Contains(r.stderr, want) || err == nil {
				t.Errorf("%s: exit %d, %s (output folder: %v); want exit 2 saying %s and no output", uri, r.code, r.stderr, err, want)
			}
		}
		noCopies(t)
	})
	t.Run("evidence_uploaded", func(t *testing.T) {
		runs, err := objstore.Open("s3://"+s3.Bucket+"/runs/march", s3.Config())
		if err != nil {
			t.Fatal(err)
		}
		read := func(key string) string {
			t.Helper()
			rc, err := runs.Open(context.Background(), key)
			if err != nil {
				return ""
			}
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			return string(b)
		}
		out := "s3://" + s3.Bucket + "/runs/march"
		if r := kalla(t, "reconcile", "--recipe", recipe, "--out", out, "--format", "csv"); r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for name, text := range csvEvidence(t, local) {
			if got := read(name + ".csv"); got != text {
				t.Errorf("%s.csv uploaded:\n%s\nwritten locally:\n%s", name, got, text)
			}
		}
		if !strings.Contains(read("summary.json"), `"sheet": "Transactions"`) {
			t.Errorf("summary.json uploaded: %s", read("summary.json"))
		}
		// A second run there in another format replaces the first's files.
		if r := kalla(t, "reconcile", "--recipe", recipe, "--out", out+"/"); r.code != exitOK {
			t.Fatalf("parquet: exit %d: %s", r.code, r.stderr)
		}
		objects, err := runs.List(context.Background(), "")
		var keys []string
		for _, o := range objects {
			keys = append(keys, o.Key)
		}
		if want := "matched.parquet summary.json unmatched_left.parquet unmatched_right.parquet"; err != nil || strings.Join(keys, " ") != want {
			t.Errorf("objects after a Parquet run: %v (%v), want %s", keys, err, want)
		}
		// Evidence a source would read back, or a source replaced.
		withPayments := func(uri string) string {
			path := filepath.Join(t.TempDir(), "recipe.json")
			if err := os.WriteFile(path, []byte(strings.Replace(string(readFile(t, recipe)), bucket+"payments.csv", uri, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			return path
		}
		for _, c := range []struct{ recipe, out, want string }{
			{withPayments(bucket + "*.csv"), bucket, "--out: " + bucket + "matched.csv would replace or be read by source payments (" + bucket + "*.csv)"},
			{withPayments(bucket + "old/matched.parquet"), bucket + "old", "--out: " + bucket + "old/matched.parquet would replace or be read by source payments"},
		} {
			if r := kalla(t, "reconcile", "--recipe", c.recipe, "--out", c.out); r.code != exitBadInput || !strings.Contains(r.stderr, c.want) {
				t.Errorf("--out %s: exit %d, %s; want 2 saying %s", c.out, r.code, r.stderr, c.want)
			}
		}
		if r := kalla(t, "reconcile", "--recipe", recipe, "--out", "file:///tmp/runs"); r.code != exitBadInput || !strings.Contains(r.stderr, "--out file:///tmp/runs: give a folder, or s3://bucket/prefix") {
			t.Errorf("--out file://: exit %d, %s", r.code, r.stderr)
		}
		noCopies(t)
		if left, _ := filepath.Glob(filepath.Join(tmp, outPrefix+"*")); len(left) > 0 {
			t.Errorf("evidence left behind: %v", left)
		}
	})
	t.Run("a_store_away_is_no_bad_input", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_ENDPOINT_URL", "http://"+l.Addr().String())
		l.Close()
		r := kalla(t, "reconcile", "--recipe", recipe, "--out", filepath.Join(t.TempDir(), "out"))
		if r.code != exitFailure || !strings.Contains(r.stderr, "source payments: "+bucket+"payments.csv cannot be read now: ") {
			t.Errorf("exit %d, %s; want 1", r.code, r.stderr)
		}
		noCopies(t)
	})
	t.Run("credentials_refused_are_bad_input_and_stay_secret", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-1234")
		out := filepath.Join(t.TempDir(), "out")
		r := kalla(t, "reconcile", "--recipe", recipe, "--out", out)
		if r.code != exitBadInput || !strings.Contains(r.stderr, "source payments: "+bucket+"payments.csv cannot be read: ") || strings.Contains(r.stderr, "wrong-secret") {
			t.Errorf("a wrong secret: exit %d, %s", r.code, r.stderr)
		}
		// Sources on this machine, the evidence refused by the store.
		r = kalla(t, "reconcile", "--recipe", csv, "--out", "s3://"+s3.Bucket+"/runs/april")
		if r.code != exitBadInput || !strings.Contains(r.stderr, "--out s3://"+s3.Bucket+"/runs/april: the evidence could not be uploaded, so it has no summary.json: ") || strings.Contains(r.stderr, "wrong-secret") {
			t.Errorf("an upload refused: exit %d, %s", r.code, r.stderr)
		}
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		r = kalla(t, "reconcile", "--recipe", recipe, "--out", out)
		if r.code != exitBadInput || !strings.Contains(r.stderr, "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") {
			t.Errorf("no credentials: exit %d, %s", r.code, r.stderr)
		}
		noCopies(t)
	})
}
