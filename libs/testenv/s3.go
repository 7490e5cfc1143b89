package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kallahq/kalla/libs/objstore"
)

const (
	versitygwPackage = "github.com/versity/versitygw/cmd/versitygw"
	versitygwVersion = "v1.8.0"
	s3Region         = "us-east-1"
)

// S3Server describes a running S3 server and one bucket created for the
// test. Credentials are random, so request signatures are really checked.
type S3Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string
	Bucket    string
}

// Config is the object store configuration that reaches the server.
func (s *S3Server) Config() objstore.Config {
	return objstore.Config{Endpoint: s.Endpoint, AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey, Region: s.Region, PathStyle: true}
}

// Client returns an S3 client for the server. It is built from explicit
// options rather than config.LoadDefaultConfig so that AWS_* variables and
// ~/.aws files on a developer's machine can't redirect or re-sign requests.
func (s *S3Server) Client(t testing.TB) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true, // bucket names in the path: no DNS for 127.0.0.1
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// S3 returns a running versitygw S3 server with a fresh bucket for this test.
// The server is shared by the test binary, started on first use and stopped
// by Main; the bucket is removed at t.Cleanup.
func S3(t testing.TB) *S3Server {
	t.Helper()
	gw, err := sharedVersitygw()
	if err != nil {
		t.Fatalf("testenv: shared versitygw: %v", err)
	}
	srv := gw.server("test-" + randomHex(8))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := srv.Client(t).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &srv.Bucket}); err != nil {
		t.Fatalf("testenv: create bucket %q: %v", srv.Bucket, err)
	}
	// The posix backend stores a bucket as one directory; removing it is
	// simpler and more thorough than emptying objects, versions and uploads
	// through the API.
	t.Cleanup(func() {
		if err := os.RemoveAll(filepath.Join(gw.dataDir(), srv.Bucket)); err != nil {
			t.Errorf("testenv: remove bucket %q: %v", srv.Bucket, err)
		}
	})
	return srv
}

// VersitygwBinary returns the path of a versitygw binary: $KALLA_VERSITYGW
// if set, otherwise one built once with `go install` into the user cache dir
// (several minutes the first time) and reused by later test binaries.
func VersitygwBinary() (string, error) {
	if p := os.Getenv("KALLA_VERSITYGW"); p != "" {
		if !isFile(p) {
			return "", fmt.Errorf("KALLA_VERSITYGW=%s: not a file", p)
		}
		return p, nil
	}
	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(cache, "bin", "versitygw-"+versitygwVersion)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("create bin dir: %w", err)
	}
	err = withFileLock(dst+".lock", func() error {
		if isFile(dst) {
			return nil
		}
		return buildVersitygw(dst)
	})
	if err != nil {
		return "", fmt.Errorf("versitygw %s: %w", versitygwVersion, err)
	}
	return dst, nil
}

// buildVersitygw installs into a scratch GOBIN and renames the result into
// place, so a build killed half-way never leaves a broken binary behind.
func buildVersitygw(dst string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("find go tool to build versitygw: %w", err)
	}
	gobin, err := os.MkdirTemp(filepath.Dir(dst), "build-*")
	if err != nil {
		return fmt.Errorf("create build dir: %w", err)
	}
	defer os.RemoveAll(gobin)
	cmd := exec.Command(goTool, "install", versitygwPackage+"@"+versitygwVersion)
	cmd.Dir = gobin
	// GOWORK=off and empty GOFLAGS keep our workspace and flags such as
	// -mod=vendor from leaking into a build of someone else's module.
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=", "GOWORK=off")
	if err := runCmd(cmd); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if err := os.Rename(filepath.Join(gobin, "versitygw"), dst); err != nil {
		return fmt.Errorf("install binary: %w", err)
	}
	return nil
}

var sharedS3 shared[*versitygw]

func sharedVersitygw() (*versitygw, error) {
	return sharedS3.get(startVersitygw, (*versitygw).close)
}

// versitygw is a versitygw process serving a posix backend in a temp dir.
type versitygw struct {
	root      string // temp dir holding data/ and versitygw.log
	endpoint  string
	accessKey string
	secretKey string
	proc      *process
}

func startVersitygw() (*versitygw, error) {
	bin, err := VersitygwBinary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "kalla-s3-*")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	gw := &versitygw{
		root:      root,
		endpoint:  "http://127.0.0.1:" + strconv.Itoa(port),
		accessKey: "AK" + strings.ToUpper(randomHex(9)),
		secretKey: randomHex(20),
	}
	if err := gw.start(bin, port); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	return gw, nil
}

func (gw *versitygw) dataDir() string { return filepath.Join(gw.root, "data") }
func (gw *versitygw) logPath() string { return filepath.Join(gw.root, "versitygw.log") }

func (gw *versitygw) server(bucket string) *S3Server {
	return &S3Server{
		Endpoint:  gw.endpoint,
		AccessKey: gw.accessKey,
		SecretKey: gw.secretKey,
		Region:    s3Region,
		Bucket:    bucket,
	}
}

func (gw *versitygw) start(bin string, port int) error {
	if err := os.Mkdir(gw.dataDir(), 0o755); err != nil {
		return fmt.Errorf("create versitygw data dir: %w", err)
	}
	logf, err := os.Create(gw.logPath())
	if err != nil {
		return fmt.Errorf("create versitygw log: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(bin,
		"--access", gw.accessKey,
		"--secret", gw.secretKey,
		"--region", s3Region,
		"--port", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		"posix", gw.dataDir(),
	)
	// versitygw reads many VGW_* and ROOT_* variables; a minimal environment
	// keeps a developer's settings from changing the server under test.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + gw.root}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = serverProcAttr(nil)
	p, err := startProcess(cmd)
	if err != nil {
		return err
	}
	if err := gw.waitReady(p); err != nil {
		p.stop(syscall.SIGKILL, 10*time.Second)
		return fmt.Errorf("versitygw on port %d: %w\n--- %s (tail) ---\n%s", port, err, gw.logPath(), logTail(gw.logPath()))
	}
	gw.proc = p
	return nil
}

// waitReady waits for a signed ListBuckets to succeed, which proves both
// that the port is open and that our credentials are accepted.
func (gw *versitygw) waitReady(p *process) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := s3.New(s3.Options{
		Region:       s3Region,
		BaseEndpoint: aws.String(gw.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(gw.accessKey, gw.secretKey, ""),
		Retryer:      aws.NopRetryer{}, // we poll ourselves
	})
	for {
		err := gw.listBuckets(ctx, client)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("versitygw exited during start-up: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready after 30s: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (gw *versitygw) listBuckets(ctx context.Context, client *s3.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addr := strings.TrimPrefix(gw.endpoint, "http://")
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	conn.Close()
	_, err = client.ListBuckets(ctx, &s3.ListBucketsInput{})
	return err
}

func (gw *versitygw) close() error {
	var err error
	if gw.proc != nil {
		err = gw.proc.stop(syscall.SIGTERM, 10*time.Second)
	}
	if err != nil {
		err = fmt.Errorf("stop versitygw: %w", err)
	}
	return errors.Join(err, os.RemoveAll(gw.root))
}
