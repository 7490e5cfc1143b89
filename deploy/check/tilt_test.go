package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

const tiltVersion = "v0.34.0"

// TestMain doubles as a `kustomize` binary for tilt: the Tiltfile's
// kustomize() runs `kustomize build DIR`, and the test puts a link named
// kustomize to this test binary first on tilt's PATH, so the Tiltfile is
// evaluated with the same in-process kustomize (krusty) as the checks.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "kustomize" {
		os.Exit(kustomizeShim(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func kustomizeShim(args []string) int {
	if len(args) == 2 && args[0] == "build" {
		out, err := kustomizeBuild(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "kustomize:", err)
			return 1
		}
		os.Stdout.Write(out)
		return 0
	}
	if len(args) > 0 && args[0] == "version" {
		fmt.Println("v5 (krusty, kalla deploy/check)")
		return 0
	}
	fmt.Fprintf(os.Stderr, "kustomize shim: unsupported arguments %q\n", args)
	return 2
}

// tiltBinary returns tilt at tiltVersion: $KALLA_TILT if set, otherwise one
// built once from its module download into ~/.cache/kalla-testenv/bin (as
// libs/testenv caches versitygw), under a file lock shared by test binaries.
// errTooSlow is a tilt build cut off by the test deadline: on a slow
// machine the check is skipped then; any other build failure fails CI.
var errTooSlow = errors.New("the build would outlive the test deadline")

func tiltBinary(t *testing.T) (string, error) {
	if p := os.Getenv("KALLA_TILT"); p != "" {
		return p, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(base, "kalla-testenv", "bin", "tilt-"+tiltVersion)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(dst+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if fi, err := os.Stat(dst); err == nil && fi.Mode().IsRegular() {
		return dst, nil
	}
	t.Logf("building tilt %s into %s (several minutes the first time)", tiltVersion, dst)
	start := time.Now()
	// Leave the test binary time to report: a build that outlives the test
	// deadline skips this check instead of failing the whole package.
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-2*time.Minute))
		defer cancel()
	}
	if err := buildTilt(ctx, dst); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("%w: %v", errTooSlow, err)
		}
		return "", err
	}
	t.Logf("built tilt in %s", time.Since(start).Round(time.Second))
	return dst, nil
}

// buildTilt: `go install github.com/tilt-dev/tilt/cmd/tilt@v0.34.0` is
// refused (its go.mod has replace directives), so download the module,
// copy it somewhere writable and build it with -mod=mod.
func buildTilt(ctx context.Context, dst string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(filepath.Dir(dst), "tilt-build-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GONOSUMDB=github.com/tilt-dev/tilt", "GOTOOLCHAIN=local")
	dl := exec.CommandContext(ctx, goTool, "mod", "download", "-json", "github.com/tilt-dev/tilt@"+tiltVersion)
	dl.Dir, dl.Env = work, env
	var stderr bytes.Buffer
	dl.Stderr = &stderr
	out, err := dl.Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); err != nil || jerr != nil || mod.Dir == "" {
		return fmt.Errorf("go mod download tilt@%s: %v %s %s", tiltVersion, err, mod.Error, stderr.String())
	}
	src := filepath.Join(work, "src")
	if err := os.CopyFS(src, os.DirFS(mod.Dir)); err != nil {
		return fmt.Errorf("copy tilt module: %w", err)
	}
	bin := filepath.Join(work, "tilt")
	build := exec.CommandContext(ctx, goTool, "build", "-mod=mod", "-o", bin, "./cmd/tilt")
	build.Dir, build.Env = src, env
	if out, err := build.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("go build tilt %s did not finish before the test deadline (run the tests with a longer -timeout, as make test does)", tiltVersion)
		}
		return fmt.Errorf("go build tilt %s: %v\n%s", tiltVersion, err, lastLines(string(out), 30))
	}
	return os.Rename(bin, dst)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestTiltfile evaluates the Tiltfile without a cluster and checks that
// every image it builds is used by the dev overlay and vice versa.
func TestTiltfile(t *testing.T) {
	root := repoRoot(t)
	tilt, err := tiltBinary(t)
	switch {
	case errors.Is(err, errTooSlow) || err != nil && os.Getenv("CI") == "":
		t.Skipf("tilt %s cannot be built here: %v", tiltVersion, err)
	case err != nil:
		t.Fatalf("tilt %s cannot be built: %v", tiltVersion, err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	shim := t.TempDir()
	if err := os.Symlink(self, filepath.Join(shim, "kustomize")); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	kubeconfig := filepath.Join(home, "kubeconfig")
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tilt, "alpha", "tiltfile-result", "-f", filepath.Join(root, "Tiltfile"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"PATH="+shim+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+kubeconfig, "TILT_DEV_DIR="+filepath.Join(home, ".tilt-dev"),
		"TILT_DISABLE_ANALYTICS=1", "GOWORK=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tilt alpha tiltfile-result: %v\n%s\n%s", err, lastLines(stderr.String(), 40), lastLines(string(out), 20))
	}
	var res struct {
		Manifests []struct {
			Name         string
			ImageTargets []json.RawMessage
		}
		TiltIgnoreContents string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("tiltfile-result output: %v\n%s", err, lastLines(string(out), 20))
	}
	built := map[string]bool{}
	refRe := regexp.MustCompile(`"(kalla/[a-z0-9-]+)`)
	names := []string{}
	for _, m := range res.Manifests {
		names = append(names, m.Name)
		for _, it := range m.ImageTargets {
			for _, mm := range refRe.FindAllStringSubmatch(string(it), -1) {
				built[mm[1]] = true
			}
		}
	}
	sort.Strings(names)
	t.Logf("tilt resources: %v", names)
	for _, want := range []string{"config", "nats", "postgres", "s3", "planner", "stager", "executor", "reaper", "ballista-scheduler", "ballista-executor"} {
		if !contains(names, want) {
			t.Errorf("Tiltfile: no resource %s", want)
		}
	}
	if len(built) == 0 {
		t.Fatalf("Tiltfile builds no image? output:\n%s", lastLines(string(out), 40))
	}
	ov := loadOverlay(t, "overlays/dev")
	used := map[string]bool{}
	for _, w := range ov.workloads() {
		for _, c := range append(w.pod.Spec.InitContainers, w.pod.Spec.Containers...) {
			used[repoOf(c.Image)] = true
		}
	}
	for img := range built {
		if !used[img] {
			t.Errorf("Tiltfile builds %s, but no dev manifest uses it", img)
		}
	}
	for img := range used {
		if strings.HasPrefix(img, "kalla/") && !built[img] {
			t.Errorf("the dev overlay uses %s, but the Tiltfile does not build it", img)
		}
	}
}

// repoOf strips the tag or digest from an image reference.
func repoOf(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}
