package check

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const modulePrefix = "github.com/kallahq/kalla/"

// envFuncs are the calls whose first string argument is an environment
// variable: os.Getenv/LookupEnv and the settings.Reader methods.
var envFuncs = map[string]bool{"Getenv": true, "LookupEnv": true, "Required": true, "String": true, "Int": true, "Duration": true, "Bool": true, "Float": true}

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*[A-Z0-9]$`)

// optionalEnv may stay unset in a manifest: reading them is off when unset.
var optionalEnv = map[string]string{
	"OTEL_EXPORTER_OTLP_ENDPOINT":        "tracing export is off when unset",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "tracing export is off when unset",
}

// pkgFuncs holds the parsed non-test Go files of one package directory.
type pkgFuncs struct {
	funcs   map[string][]*ast.FuncDecl // by name, methods included
	imports map[*ast.FuncDecl]map[string]string
}

type envScanner struct {
	root    string
	fset    *token.FileSet
	pkgs    map[string]*pkgFuncs
	visited map[string]bool
	found   map[string]bool
}

func (s *envScanner) pkg(dir string) *pkgFuncs {
	if p, ok := s.pkgs[dir]; ok {
		return p
	}
	p := &pkgFuncs{funcs: map[string][]*ast.FuncDecl{}, imports: map[*ast.FuncDecl]map[string]string{}}
	s.pkgs[dir] = p
	files, _ := filepath.Glob(filepath.Join(s.root, dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(s.fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		imps := map[string]string{}
		for _, im := range af.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			name := filepath.Base(path)
			if im.Name != nil {
				name = im.Name.Name
			}
			imps[name] = path
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				p.funcs[fd.Name.Name] = append(p.funcs[fd.Name.Name], fd)
				p.imports[fd] = imps
			}
		}
	}
	return p
}

// visit records the env reads of function name in package dir and of the
// functions it calls in its own package and in the repository's packages.
func (s *envScanner) visit(dir, name string) {
	key := dir + "." + name
	if s.visited[key] {
		return
	}
	s.visited[key] = true
	p := s.pkg(dir)
	for _, fd := range p.funcs[name] {
		imps := p.imports[fd]
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				s.visit(dir, fn.Name)
			case *ast.SelectorExpr:
				if envFuncs[fn.Sel.Name] && len(call.Args) > 0 {
					if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if v, err := strconv.Unquote(lit.Value); err == nil && envName.MatchString(v) {
							s.found[v] = true
						}
					}
				}
				if x, ok := fn.X.(*ast.Ident); ok {
					if path, ok := imps[x.Name]; ok && strings.HasPrefix(path, modulePrefix) {
						s.visit(strings.TrimPrefix(path, modulePrefix), fn.Sel.Name)
					} else if _, isImport := imps[x.Name]; !isImport {
						// A method on a value of this package (r.loadX()).
						s.visit(dir, fn.Sel.Name)
					}
				}
			}
			return true
		})
	}
}

// envReads returns the environment variables service reads: the literals
// passed to os.Getenv/LookupEnv and settings.Reader methods in the code
// reachable from its main, following calls into the repository's packages
// (service.ReadSettings, objstore.ConfigFromEnv, telemetry.Logger, ...).
func envReads(t testing.TB, service string) []string {
	t.Helper()
	s := &envScanner{root: repoRoot(t), fset: token.NewFileSet(), pkgs: map[string]*pkgFuncs{}, visited: map[string]bool{}, found: map[string]bool{}}
	dir := filepath.Join("services", service)
	if _, err := os.Stat(filepath.Join(s.root, dir, "main.go")); err != nil {
		t.Fatalf("service %s: %v", service, err)
	}
	s.visit(dir, "main")
	s.visit(dir, "init")
	// Belt and braces: any literal read anywhere in the main package.
	lit := regexp.MustCompile(`\.(?:Getenv|LookupEnv|Required|String|Int|Duration)\(\s*"([A-Z][A-Z0-9_]*)"`)
	files, _ := filepath.Glob(filepath.Join(s.root, dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(src), -1) {
			s.found[m[1]] = true
		}
	}
	var out []string
	for v := range s.found {
		out = append(out, v)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("service %s: found no environment reads; the scanner is broken", service)
	}
	return out
}

// queueConstants parses the string constants of libs/queue/queue.go.
func queueConstants(t testing.TB) map[string]string {
	t.Helper()
	path := filepath.Join(repoRoot(t), "libs", "queue", "queue.go")
	af, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range af.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, sp := range gd.Specs {
			vs := sp.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						out[n.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
	}
	return out
}

// queueUse is the stream/consumer pair a service's worker consumes, read
// from `Stream: queue.XStream, Consumer: queue.XConsumer` in its source.
type queueUse struct{ prefix, stream, consumer string }

func serviceQueue(t testing.TB, service string, consts map[string]string) (queueUse, bool) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "services", service, "*.go"))
	re := regexp.MustCompile(`Stream:\s*queue\.(\w+)Stream,?\s*Consumer:\s*queue\.(\w+)Consumer`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, _ := os.ReadFile(f)
		if m := re.FindStringSubmatch(string(src)); m != nil {
			if m[1] != m[2] {
				t.Errorf("service %s consumes queue.%sStream with queue.%sConsumer", service, m[1], m[2])
			}
			return queueUse{prefix: m[1], stream: consts[m[1]+"Stream"], consumer: consts[m[2]+"Consumer"]}, true
		}
	}
	return queueUse{}, false
}

func TestSourceScanners(t *testing.T) {
	reads := envReads(t, "planner")
	for _, want := range []string{"KALLA_DATABASE_URL", "KALLA_NATS_URL", "KALLA_HTTP_ADDR", "KALLA_API_TOKENS", "AWS_ENDPOINT_URL", "KALLA_LOG_LEVEL"} {
		if !contains(reads, want) {
			t.Errorf("planner: scanner missed %s (got %v)", want, reads)
		}
	}
	reads = envReads(t, "reaper")
	for _, want := range []string{"KALLA_DATABASE_URL", "KALLA_WORKER_ID", "KALLA_ACK_WAIT", "KALLA_REAPER_INTERVAL", "KALLA_LOG_LEVEL"} {
		if !contains(reads, want) {
			t.Errorf("reaper: scanner missed %s (got %v) — service.ReadSettings/Start not followed?", want, reads)
		}
	}
	c := queueConstants(t)
	if c["StageStream"] == "" || c["ExecConsumer"] == "" {
		t.Fatalf("queue constants not found: %v", c)
	}
	for svc, prefix := range map[string]string{"stager": "Stage", "executor": "Exec"} {
		q, ok := serviceQueue(t, svc, c)
		if !ok || q.prefix != prefix {
			t.Errorf("%s: worker queue = %+v, %v; want %s", svc, q, ok, prefix)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
