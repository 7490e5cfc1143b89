package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// backend opens a fresh, empty store of one kind for one test.
type backend struct {
	name  string
	setup func(t *testing.T) (objstore.Store, objstore.Config)
}

var backends = []backend{
	{
		name: "file",
		setup: func(t *testing.T) (objstore.Store, objstore.Config) {
			return mustOpen(t, "file://"+t.TempDir(), objstore.Config{}), objstore.Config{}
		},
	},
	{
		name: "s3",
		setup: func(t *testing.T) (objstore.Store, objstore.Config) {
			srv := testenv.S3(t)
			cfg := s3Config(srv)
			return mustOpen(t, "s3://"+srv.Bucket+"/runs", cfg), cfg
		},
	},
}

func s3Config(srv *testenv.S3Server) objstore.Config {
	return objstore.Config{
		Endpoint:        srv.Endpoint,
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
		Region:          srv.Region,
		PathStyle:       true,
	}
}

func mustOpen(t *testing.T, uri string, cfg objstore.Config) objstore.Store {
	t.Helper()
	s, err := objstore.Open(uri, cfg)
	if err != nil {
		t.Fatalf("Open(%q): %v", uri, err)
	}
	return s
}

// TestStore runs the same behavioural suite against every backend.
func TestStore(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			storeSuite(t, b)
		})
	}
}

func storeSuite(t *testing.T, b backend) {
	t.Run("put_open_round_trip_of_bytes", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		want := []byte("payload \x00\xff binary\n")
		put(t, s, "parts/p-0001.parquet", want)
		if got := read(t, s, "parts/p-0001.parquet"); !bytes.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})

	t.Run("put_from_unseekable_reader", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		want := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB
		pr, pw := io.Pipe()
		go func() {
			pw.CloseWithError(writeChunks(pw, want, 4096))
		}()
		if err := s.Put(t.Context(), "big.bin", pr); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if got := read(t, s, "big.bin"); !bytes.Equal(got, want) {
			t.Fatalf("got %d bytes back, want %d identical bytes", len(got), len(want))
		}
	})

	t.Run("open_tells_the_size", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		want := bytes.Repeat([]byte("x"), 12345)
		put(t, s, "sized.bin", want)
		rc, err := s.Open(t.Context(), "sized.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if n, ok := objstore.Size(rc); !ok || n != int64(len(want)) {
			t.Errorf("Size = %d, %v; want %d, true", n, ok, len(want))
		}
	})

	t.Run("put_file_get_file_round_trip", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		dir := t.TempDir()
		src := filepath.Join(dir, "src.parquet")
		want := bytes.Repeat([]byte{0, 1, 2, 0xfe, 0xff}, 10_000)
		if err := os.WriteFile(src, want, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.PutFile(t.Context(), "evidence/matched.parquet", src); err != nil {
			t.Fatalf("PutFile: %v", err)
		}
		dst := filepath.Join(dir, "out", "nested", "matched.parquet")
		if err := s.GetFile(t.Context(), "evidence/matched.parquet", dst); err != nil {
			t.Fatalf("GetFile: %v", err)
		}
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("downloaded %d bytes, want %d identical bytes", len(got), len(want))
		}
		if leftovers := dirNames(t, filepath.Dir(dst)); !slices.Equal(leftovers, []string{"matched.parquet"}) {
			t.Fatalf("download dir holds %q, want only matched.parquet", leftovers)
		}
	})

	t.Run("missing_key_is_not_found", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		put(t, s, "dir/present", []byte("x"))
		for _, key := range []string{"absent", "dir/absent", "dir", "dir/present/below"} {
			_, err := s.Open(t.Context(), key)
			if !errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("Open(%q): got %v, want ErrNotFound", key, err)
			} else if !strings.Contains(err.Error(), s.URI(key)) {
				t.Errorf("Open(%q): error %q does not name %s", key, err, s.URI(key))
			}
		}
		dst := filepath.Join(t.TempDir(), "got")
		if err := s.GetFile(t.Context(), "absent", dst); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("GetFile: got %v, want ErrNotFound", err)
		}
		if names := dirNames(t, filepath.Dir(dst)); len(names) != 0 {
			t.Errorf("failed GetFile left %q behind", names)
		}
	})

	t.Run("list_returns_keys_under_prefix_sorted_across_pages", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		pages := objstore.SetListPageSize(s, 3)
		var want []objstore.Object
		for i := 9; i >= 0; i-- { // written out of order
			key := fmt.Sprintf("parts/p-%02d.parquet", i)
			put(t, s, key, bytes.Repeat([]byte("x"), i))
			want = append(want, objstore.Object{Key: key, Size: int64(i)})
		}
		put(t, s, "parts/sub/deep.parquet", []byte("deep"))
		want = append(want, objstore.Object{Key: "parts/sub/deep.parquet", Size: 4})
		slices.SortFunc(want, func(a, b objstore.Object) int { return strings.Compare(a.Key, b.Key) })
		for _, key := range []string{"parts-other/x", "partsx", "other/parts/y", "z"} {
			put(t, s, key, []byte("no"))
		}

		got, err := s.List(t.Context(), "parts/")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("List(parts/):\n got %v\nwant %v", got, want)
		}
		if pages != nil {
			t.Logf("listed %d keys in %d pages", len(want), pages.Load())
		}
		if pages != nil && pages.Load() < 4 {
			t.Fatalf("listing %d keys with page size 3 took %d pages, want >= 4", len(want), pages.Load())
		}
	})

	t.Run("list_prefix_is_a_string_prefix", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		for _, key := range []string{"a-b", "a/b", "a/c/d", "ab", "b"} {
			put(t, s, key, []byte(key))
		}
		cases := map[string][]string{
			"":     {"a-b", "a/b", "a/c/d", "ab", "b"},
			"a":    {"a-b", "a/b", "a/c/d", "ab"},
			"a/":   {"a/b", "a/c/d"},
			"a/c":  {"a/c/d"},
			"nope": nil,
			"x/y/": nil,
		}
		for prefix, want := range cases {
			objs, err := s.List(t.Context(), prefix)
			if err != nil {
				t.Fatalf("List(%q): %v", prefix, err)
			}
			if got := keys(objs); !slices.Equal(got, want) {
				t.Errorf("List(%q) = %q, want %q", prefix, got, want)
			}
		}
	})

	t.Run("overwrite_replaces", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		put(t, s, "summary.json", []byte(`{"version":1,"long":"old content"}`))
		put(t, s, "summary.json", []byte(`{"version":2}`))
		if got := string(read(t, s, "summary.json")); got != `{"version":2}` {
			t.Fatalf("got %q after overwrite", got)
		}
		objs, err := s.List(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		if want := []objstore.Object{{Key: "summary.json", Size: 13}}; !slices.Equal(objs, want) {
			t.Fatalf("List = %v, want %v", objs, want)
		}
	})

	t.Run("delete_removes_and_missing_is_fine", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		put(t, s, "a/one", []byte("1"))
		put(t, s, "a/two", []byte("2"))
		for _, key := range []string{"a/one", "a/one", "never/was", "a"} {
			if err := s.Delete(t.Context(), key); err != nil {
				t.Fatalf("Delete(%q): %v", key, err)
			}
		}
		if _, err := s.Open(t.Context(), "a/one"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("Open after Delete: got %v, want ErrNotFound", err)
		}
		objs, err := s.List(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(objs); !slices.Equal(got, []string{"a/two"}) {
			t.Fatalf("List after Delete = %q, want [a/two]", got)
		}
	})

	t.Run("invalid_keys_are_rejected", func(t *testing.T) {
		t.Parallel()
		s, _ := b.setup(t)
		for _, key := range []string{"", ".", "/abs", "../escape", "a/../b", "a//b", "a/", "./a"} {
			if err := s.Put(t.Context(), key, strings.NewReader("x")); err == nil {
				t.Errorf("Put(%q) succeeded", key)
			}
			if _, err := s.Open(t.Context(), key); err == nil || errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("Open(%q): got %v, want an invalid key error", key, err)
			}
		}
		if _, err := s.List(t.Context(), "../"); err == nil {
			t.Error("List(\"../\") succeeded")
		}
	})

	t.Run("uri_names_the_object_and_root_reopens", func(t *testing.T) {
		t.Parallel()
		s, cfg := b.setup(t)
		root := s.URI("")
		var want string
		switch {
		case strings.HasPrefix(root, "file:///"):
			want = root + "/a/b.parquet"
		case strings.HasPrefix(root, "s3://") && strings.HasSuffix(root, "/runs"):
			want = root + "/a/b.parquet"
		default:
			t.Fatalf("root URI %q is neither file:///... nor s3://bucket/runs", root)
		}
		if got := s.URI("a/b.parquet"); got != want {
			t.Fatalf("URI = %q, want %q", got, want)
		}
		put(t, s, "a/b.parquet", []byte("same root"))
		again := mustOpen(t, root, cfg)
		if got := string(read(t, again, "a/b.parquet")); got != "same root" {
			t.Fatalf("store reopened from %s reads %q", root, got)
		}
	})
}

func TestURI(t *testing.T) {
	t.Parallel()
	cfg := objstore.Config{AccessKeyID: "AK", SecretAccessKey: "SK"}
	cases := []struct{ root, key, want string }{
		{"file:///data/runs", "r1/part-0.parquet", "file:///data/runs/r1/part-0.parquet"},
		{"file:///data/runs/", "x", "file:///data/runs/x"},
		{"file:///", "x", "file:///x"},
		{"s3://bucket/runs/r1", "part-0.parquet", "s3://bucket/runs/r1/part-0.parquet"},
		{"s3://bucket/runs/", "x", "s3://bucket/runs/x"},
		{"s3://bucket", "x/y", "s3://bucket/x/y"},
		{"s3://bucket", "", "s3://bucket"},
		{"file:///data/my runs", "a b", "file:///data/my%20runs/a%20b"},
	}
	for _, c := range cases {
		if got := mustOpen(t, c.root, cfg).URI(c.key); got != c.want {
			t.Errorf("Open(%q).URI(%q) = %q, want %q", c.root, c.key, got, c.want)
		}
	}
}

func TestOpenObject(t *testing.T) {
	t.Parallel()
	cfg := objstore.Config{AccessKeyID: "AK", SecretAccessKey: "SK"}
	for uri, wantKey := range map[string]string{
		"s3://bucket/runs/r1/x.csv": "x.csv",
		"s3://bucket/x.parquet":     "x.parquet",
		"file:///data/in/x.csv":     "x.csv",
		"file:///x.csv":             "x.csv",
	} {
		store, key, err := objstore.OpenObject(uri, cfg)
		if err != nil || key != wantKey || store.URI(key) != uri {
			t.Errorf("OpenObject(%q) = store %v, key %q, %v; want key %q and the URI back", uri, store, key, err, wantKey)
		}
	}
	for _, uri := range []string{"s3://bucket/runs/", "x.csv", "s3://bucket", "s3:///x.csv"} {
		if _, _, err := objstore.OpenObject(uri, cfg); err == nil {
			t.Errorf("OpenObject(%q) accepted", uri)
		}
	}
}

func TestOpenRejectsBadURIs(t *testing.T) {
	t.Parallel()
	cfg := objstore.Config{AccessKeyID: "AK", SecretAccessKey: "SK"}
	for _, uri := range []string{
		"",
		"http://x",
		"s3://",
		"s3:///prefix",
		"s3:bucket",
		"s3://Bad_Bucket/x",
		"s3://bucket:9000/x",
		"s3://bucket//double",
		"s3://bucket/a/../b",
		"s3://user:hunter2@bucket/x",
		"s3://bucket/x?versionId=1",
		"file:relative",
		"file://relative/dir",
		"file://host/abs",
		"/abs/without/scheme",
		"relative/path",
	} {
		_, err := objstore.Open(uri, cfg)
		if err == nil {
			t.Errorf("Open(%q) succeeded", uri)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "s3://bucket") || !strings.Contains(msg, "file:///") {
			t.Errorf("Open(%q) error %q does not say what is allowed", uri, msg)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error shows the password: %v", uri, err)
		}
	}
}

func TestOpenS3NeedsCredentials(t *testing.T) {
	t.Parallel()
	for _, cfg := range []objstore.Config{
		{},
		{AccessKeyID: "AK"},
		{SecretAccessKey: "top-secret-value"},
	} {
		_, err := objstore.Open("s3://bucket/x", cfg)
		if err == nil {
			t.Errorf("Open with %v succeeded", cfg)
			continue
		}
		if !strings.Contains(err.Error(), "AWS_") || strings.Contains(err.Error(), "top-secret-value") {
			t.Errorf("error %q should name the missing variable and hide the secret", err)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	// t.Setenv: no t.Parallel here or in subtests.
	t.Run("reads_variables", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7070")
		t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-from-env")
		t.Setenv("AWS_REGION", "eu-west-1")
		t.Setenv("KALLA_S3_PATH_STYLE", "true")
		cfg, err := objstore.ConfigFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		want := objstore.Config{Endpoint: "http://127.0.0.1:7070", AccessKeyID: "AKID", SecretAccessKey: "s3cr3t-from-env", Region: "eu-west-1", PathStyle: true}
		if cfg != want {
			t.Fatalf("got %v, want %v", cfg, want)
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(verb, cfg); strings.Contains(out, "s3cr3t-from-env") {
				t.Errorf("Sprintf(%s) shows the secret: %s", verb, out)
			}
		}
	})

	t.Run("defaults", func(t *testing.T) {
		for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "KALLA_S3_PATH_STYLE"} {
			t.Setenv(name, "")
		}
		cfg, err := objstore.ConfigFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		if want := (objstore.Config{Region: "us-east-1"}); cfg != want {
			t.Fatalf("got %v, want %v", cfg, want)
		}
	})

	t.Run("malformed_path_style_names_the_variable", func(t *testing.T) {
		t.Setenv("KALLA_S3_PATH_STYLE", "maybe")
		_, err := objstore.ConfigFromEnv()
		if err == nil || !strings.Contains(err.Error(), "KALLA_S3_PATH_STYLE") {
			t.Fatalf("got %v, want an error naming KALLA_S3_PATH_STYLE", err)
		}
	})

	t.Run("malformed_endpoint_names_the_variable", func(t *testing.T) {
		t.Setenv("KALLA_S3_PATH_STYLE", "")
		t.Setenv("AWS_ENDPOINT_URL", "127.0.0.1:9000")
		_, err := objstore.ConfigFromEnv()
		if err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL") {
			t.Fatalf("got %v, want an error naming AWS_ENDPOINT_URL", err)
		}
	})
}

func TestWrongSecretFailsWithoutShowingIt(t *testing.T) {
	t.Parallel()
	srv := testenv.S3(t)
	cfg := s3Config(srv)
	cfg.SecretAccessKey = "wrong-" + srv.SecretKey[:10] + "-wrong"
	s := mustOpen(t, "s3://"+srv.Bucket+"/runs", cfg)
	src := filepath.Join(t.TempDir(), "part.parquet")
	if err := os.WriteFile(src, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := s.PutFile(t.Context(), "p/part.parquet", src)
	if err == nil {
		t.Fatal("PutFile signed with a wrong secret succeeded")
	}
	msg := err.Error()
	for _, secret := range []string{cfg.SecretAccessKey, srv.SecretKey} {
		if strings.Contains(msg, secret) {
			t.Fatalf("error shows a secret: %s", msg)
		}
	}
	if !strings.Contains(msg, "put") || !strings.Contains(msg, s.URI("p/part.parquet")) {
		t.Fatalf("error %q lacks the operation and the object's URI", msg)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", s, s, cfg), cfg.SecretAccessKey) {
		t.Fatal("formatting the store or config shows the secret")
	}
	if !objstore.Refused(err) {
		t.Errorf("a wrong secret is not Refused: %v", err)
	}
	t.Logf("rejected as expected: %v", err)
}

// statusError is an answer of an HTTP status, as the S3 client's errors
// carry one.
type statusError int

func (e statusError) Error() string       { return fmt.Sprintf("status %d", int(e)) }
func (e statusError) HTTPStatusCode() int { return int(e) }

func TestRefused(t *testing.T) {
	t.Parallel()
	srv := testenv.S3(t)
	_, err := mustOpen(t, "s3://no-such-bucket-kalla/runs", s3Config(srv)).Open(t.Context(), "x.csv")
	if err == nil || !objstore.Refused(err) {
		t.Errorf("a bucket that does not exist: Refused(%v) = false", err)
	}
	for status, want := range map[int]bool{403: true, 404: true, 400: true, 408: false, 429: false, 500: false, 503: false} {
		if got := objstore.Refused(fmt.Errorf("put: %w", statusError(status))); got != want {
			t.Errorf("status %d: Refused = %v, want %v", status, got, want)
		}
	}
	if _, err := objstore.Open("s3://"+srv.Bucket+"/runs", objstore.Config{Endpoint: srv.Endpoint}); !objstore.Refused(err) {
		t.Errorf("no credentials: Refused(%v) = false", err)
	}
	if objstore.Refused(errors.New("connection reset")) {
		t.Error("an error without a status is Refused")
	}
	if !objstore.Refused(&fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}) {
		t.Error("a file the process may not write is not Refused")
	}
}

func put(t *testing.T, s objstore.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func read(t *testing.T, s objstore.Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return data
}

func keys(objs []objstore.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func writeChunks(w io.Writer, data []byte, size int) error {
	for len(data) > 0 {
		n := min(size, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// TestS3StoresShareConnections: stores opened one by one (the planner and
// executor open one per object URI) send through one HTTP client, so they
// share its idle connections. versitygw closes every connection after its
// answer, so reuse itself cannot be watched here.
func TestS3StoresShareConnections(t *testing.T) {
	t.Parallel()
	srv := testenv.S3(t)
	cfg := s3Config(srv)
	first := mustOpen(t, "s3://"+srv.Bucket+"/one", cfg)
	second := mustOpen(t, "s3://"+srv.Bucket+"/two", cfg)
	a, b := objstore.HTTPClientOf(first), objstore.HTTPClientOf(second)
	if a == nil || a != b {
		t.Errorf("HTTP clients %p and %p, want one shared client", a, b)
	}
	if err := second.Put(context.Background(), "a.txt", strings.NewReader("a")); err != nil {
		t.Errorf("a store on the shared client cannot write: %v", err)
	}
}
