package check

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// composeFile holds the compose fields we use (compose-spec); decoding is
// strict, so anything else is an error.
type composeFile struct {
	Name     string                    `json:"name"`
	XKalla   map[string]string         `json:"x-kalla-env"`
	XBallist map[string]string         `json:"x-ballista-env"`
	Services map[string]composeService `json:"services"`
	Volumes  map[string]struct{}       `json:"volumes"`
}

type composeService struct {
	Image string `json:"image"`
	Build *struct {
		Context    string `json:"context"`
		Dockerfile string `json:"dockerfile"`
		Target     string `json:"target"`
	} `json:"build,omitempty"`
	Command     []string          `json:"command,omitempty"`
	Entrypoint  []string          `json:"entrypoint,omitempty"`
	Environment map[string]string `json:"environment,omitempty"`
	Ports       []string          `json:"ports,omitempty"`
	Volumes     []string          `json:"volumes,omitempty"`
	DependsOn   map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on,omitempty"`
	Healthcheck *struct {
		Test        []string `json:"test"`
		Interval    string   `json:"interval,omitempty"`
		Timeout     string   `json:"timeout,omitempty"`
		Retries     int      `json:"retries,omitempty"`
		StartPeriod string   `json:"start_period,omitempty"`
	} `json:"healthcheck,omitempty"`
	Restart     string   `json:"restart,omitempty"`
	ReadOnly    bool     `json:"read_only,omitempty"`
	Tmpfs       []string `json:"tmpfs,omitempty"`
	CapDrop     []string `json:"cap_drop,omitempty"`
	SecurityOpt []string `json:"security_opt,omitempty"`
}

// dockerfileTargets returns the stage names of a Dockerfile.
func dockerfileTargets(t *testing.T, path string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	re := regexp.MustCompile(`(?m)^FROM\s+(\S+)\s+AS\s+(\S+)\s*$`)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		out[m[2]] = m[1]
	}
	return out
}

func TestCompose(t *testing.T) {
	root := repoRoot(t)
	path := filepath.Join(root, "deploy", "compose", "docker-compose.yml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var cf composeFile
	if err := decodeStrict(js, &cf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, want := range append(kallaServices, "postgres", "nats", "s3", "ballista-scheduler", "ballista-executor") {
		if _, ok := cf.Services[want]; !ok {
			t.Errorf("compose: no service %s", want)
		}
	}
	for name, s := range cf.Services {
		if s.Build != nil {
			df := filepath.Join(filepath.Dir(path), s.Build.Context, s.Build.Dockerfile)
			if filepath.Clean(filepath.Join(filepath.Dir(path), s.Build.Context)) != root {
				t.Errorf("compose %s: build context %s is not the repository root", name, s.Build.Context)
			}
			if _, ok := dockerfileTargets(t, df)[s.Build.Target]; !ok {
				t.Errorf("compose %s: %s has no target %q", name, s.Build.Dockerfile, s.Build.Target)
			}
			if !strings.HasPrefix(s.Image, "kalla/") {
				t.Errorf("compose %s: a built image should be named kalla/<target>, got %s", name, s.Image)
			}
		} else {
			checkImageRef(t, "compose "+name, s.Image)
		}
		for dep := range s.DependsOn {
			if _, ok := cf.Services[dep]; !ok {
				t.Errorf("compose %s: depends on unknown service %s", name, dep)
			}
		}
	}
	for _, svc := range kallaServices {
		s := cf.Services[svc]
		for _, v := range envReads(t, svc) {
			if _, ok := s.Environment[v]; !ok && optionalEnv[v] == "" {
				t.Errorf("compose %s: %s is not set", svc, v)
			}
		}
	}
}

// TestDockerfiles: every service image is a non-root, health-checked final
// stage on a pinned base; static services are built without cgo.
func TestDockerfiles(t *testing.T) {
	root := repoRoot(t)
	path := filepath.Join(root, "deploy", "Dockerfile")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	targets := dockerfileTargets(t, path)
	stages := regexp.MustCompile(`(?m)^FROM `).Split(text, -1)
	for _, svc := range append(kallaServices, "kalla") {
		if _, ok := targets[svc]; !ok {
			t.Errorf("Dockerfile: no target %s", svc)
			continue
		}
		var body string
		for _, s := range stages {
			if strings.HasSuffix(strings.SplitN(s, "\n", 2)[0], " AS "+svc) {
				body = s
			}
		}
		if m := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindStringSubmatch(body); m == nil || strings.HasPrefix(m[1], "0") || strings.HasPrefix(m[1], "root") {
			t.Errorf("Dockerfile %s: needs a non-root USER", svc)
		}
		if !strings.Contains(body, "HEALTHCHECK") || !strings.Contains(body, "ENTRYPOINT") {
			t.Errorf("Dockerfile %s: needs HEALTHCHECK and ENTRYPOINT", svc)
		}
	}
	for _, svc := range []string{"planner", "stager", "reaper"} {
		if !regexp.MustCompile(`CGO_ENABLED=0 go build[^\n]*\./services/` + svc).MatchString(text) {
			t.Errorf("Dockerfile: %s must be built with CGO_ENABLED=0", svc)
		}
	}
	if !strings.Contains(text, "COPY . .") {
		t.Error("Dockerfile: the workspace (go.work and every module) must be copied")
	}
	for _, m := range regexp.MustCompile(`(?m)^ARG \w+=(\S+)`).FindAllStringSubmatch(text, -1) {
		if strings.Contains(m[1], "/") || strings.Contains(m[1], ":") {
			checkImageRef(t, "Dockerfile ARG", m[1])
		}
	}
	tilt, err := os.ReadFile(filepath.Join(root, "deploy", "Dockerfile.tilt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tilt), "USER 65532") || !strings.Contains(string(tilt), "HEALTHCHECK") {
		t.Error("Dockerfile.tilt: needs USER 65532 and HEALTHCHECK")
	}
}

// TestReadme: deploy/README.md covers the entry points and every setting.
func TestReadme(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, want := range []string{"tilt up", "tilt ci", "docker compose", "kubectl -n kalla rollout restart deployment/stager", "kubectl -n kalla set image", "rollout status", "deploy/kind/up.sh"} {
		if !strings.Contains(text, want) {
			t.Errorf("deploy/README.md does not mention %q", want)
		}
	}
	for _, svc := range kallaServices {
		for _, v := range envReads(t, svc) {
			if !strings.Contains(text, v) && optionalEnv[v] == "" {
				t.Errorf("deploy/README.md does not document %s (read by %s)", v, svc)
			}
		}
	}
}
