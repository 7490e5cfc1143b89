package api

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

func TestEvidenceCache(t *testing.T) {
	t.Parallel()
	writer := func(calls *atomic.Int32, body string) func(context.Context, string) error {
		return func(_ context.Context, local string) error {
			calls.Add(1)
			return os.WriteFile(local, []byte(body), 0o600)
		}
	}

	t.Run("one_download_for_concurrent_readers", func(t *testing.T) {
		t.Parallel()
		c := newEvidenceCache(1 << 20)
		t.Cleanup(c.close)
		var calls atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				path, release, err := c.get(context.Background(), "s3://b/run/matched.parquet", writer(&calls, "abc"))
				if err != nil {
					t.Error(err)
					return
				}
				defer release()
				if b, err := os.ReadFile(path); err != nil || string(b) != "abc" {
					t.Errorf("read %q, %v", b, err)
				}
			})
		}
		wg.Wait()
		if calls.Load() != 1 {
			t.Errorf("%d downloads, want 1", calls.Load())
		}
	})

	t.Run("a_failed_download_is_not_kept", func(t *testing.T) {
		t.Parallel()
		c := newEvidenceCache(1 << 20)
		t.Cleanup(c.close)
		boom := errors.New("boom")
		_, _, err := c.get(context.Background(), "u", func(context.Context, string) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err %v", err)
		}
		var calls atomic.Int32
		if _, release, err := c.get(context.Background(), "u", writer(&calls, "x")); err != nil || calls.Load() != 1 {
			t.Fatalf("retry: %v after %d downloads", err, calls.Load())
		} else {
			release()
		}
	})

	t.Run("least_recently_used_goes_first_but_never_while_read", func(t *testing.T) {
		t.Parallel()
		c := newEvidenceCache(10)
		t.Cleanup(c.close)
		var calls atomic.Int32
		ctx := context.Background()
		exists := func(path string) bool { _, err := os.Stat(path); return err == nil }
		a, releaseA, _ := c.get(ctx, "a", writer(&calls, "aaaaaa"))
		b, releaseB, _ := c.get(ctx, "b", writer(&calls, "bbbbbb"))
		if !exists(a) || !exists(b) {
			t.Fatal("a file being read was evicted")
		}
		releaseB() // 12 bytes over a limit of 10: b is the only one not being read
		if exists(b) || !exists(a) {
			t.Fatalf("after releasing b: a %v, b %v; want only a", exists(a), exists(b))
		}
		releaseA()
		cPath, releaseC, _ := c.get(ctx, "c", writer(&calls, "cccccc"))
		releaseC() // a was used before c: a goes
		if exists(a) || !exists(cPath) {
			t.Errorf("after c: a %v, c %v; want only c", exists(a), exists(cPath))
		}
		before := calls.Load()
		_, release, _ := c.get(ctx, "c", writer(&calls, "cccccc"))
		release()
		if calls.Load() != before {
			t.Errorf("c downloaded again although cached")
		}
	})
}
