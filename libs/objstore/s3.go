package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// s3Store keeps objects in one bucket under an optional key prefix.
type s3Store struct {
	client *s3.Client
	bucket string
	prefix string // no leading or trailing slash; "" for the bucket root

	// Tests shrink pages to exercise pagination and count them; zero and
	// nil in production.
	pageSize int32
	onPage   func()
}

// httpClient is shared by every S3 store of the process: stores opened per
// request (the planner and executor open one per object URI) then reuse
// idle connections instead of dialing (and on AWS, handshaking) anew. It is
// a plain http.Client on the SDK's default transport: the SDK copies a
// BuildableClient, transport and all, into each client it builds.
var httpClient = &http.Client{Transport: awshttp.NewBuildableClient().GetTransport()}

// newS3Store builds the client from s3.Options alone, not
// config.LoadDefaultConfig, so stray ~/.aws files and AWS_PROFILE settings
// never change where requests go or how they are signed.
func newS3Store(bucket, prefix string, cfg Config) (*s3Store, error) {
	root := (&s3Store{bucket: bucket, prefix: prefix}).URI("")
	switch {
	case cfg.AccessKeyID == "" && cfg.SecretAccessKey == "":
		return nil, settingsError(fmt.Sprintf("objstore: open %s: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", root))
	case cfg.AccessKeyID == "":
		return nil, settingsError(fmt.Sprintf("objstore: open %s: S3 secret key given without an access key id (AWS_ACCESS_KEY_ID)", root))
	case cfg.SecretAccessKey == "":
		return nil, settingsError(fmt.Sprintf("objstore: open %s: S3 access key id given without a secret key (AWS_SECRET_ACCESS_KEY)", root))
	}
	opts := s3.Options{
		HTTPClient:   httpClient,
		Region:       cfg.Region,
		UsePathStyle: cfg.PathStyle,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
	}
	if opts.Region == "" {
		opts.Region = defaultRegion
	}
	if cfg.Endpoint != "" {
		if err := checkEndpoint(cfg.Endpoint); err != nil {
			return nil, fmt.Errorf("objstore: open %s: %w", root, err)
		}
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
		// Many S3-compatible servers reject the flexible checksums the SDK
		// sends to AWS by default; send them only where an API needs them.
		opts.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		opts.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	return &s3Store{client: s3.New(opts), bucket: bucket, prefix: prefix}, nil
}

func (s *s3Store) String() string { return s.URI("") }

// objectKey maps a store key to the bucket's key.
func (s *s3Store) objectKey(key string) string {
	if s.prefix == "" {
		return key
	}
	return s.prefix + "/" + key
}

func (s *s3Store) URI(key string) string {
	u := url.URL{Scheme: "s3", Host: s.bucket}
	if k := strings.TrimSuffix(s.objectKey(key), "/"); k != "" {
		u.Path = "/" + k
	}
	return u.String()
}

func (s *s3Store) PutFile(ctx context.Context, key, localPath string) error {
	if err := checkKey(key); err != nil {
		return opError("put", s.URI(""), err)
	}
	f, err := os.Open(localPath)
	if err != nil {
		return opError("put", s.URI(key), err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return opError("put", s.URI(key), err)
	}
	if !st.Mode().IsRegular() {
		return opError("put", s.URI(key), fmt.Errorf("%s is not a regular file", localPath))
	}
	return s.putSeekable(ctx, key, f, st.Size())
}

// Put sends a seekable reader as is; anything else is spooled to a temp
// file first, because a signed PUT over plain HTTP needs the payload's hash
// before the body goes out, and the size must be known.
func (s *s3Store) Put(ctx context.Context, key string, r io.Reader) error {
	if err := checkKey(key); err != nil {
		return opError("put", s.URI(""), err)
	}
	if rs, ok := r.(io.ReadSeeker); ok {
		if cur, err := rs.Seek(0, io.SeekCurrent); err == nil {
			if end, err := rs.Seek(0, io.SeekEnd); err == nil {
				if _, err := rs.Seek(cur, io.SeekStart); err != nil {
					return opError("put", s.URI(key), err)
				}
				return s.putSeekable(ctx, key, rs, end-cur)
			}
		}
	}
	tmp, err := os.CreateTemp("", "objstore-put-*")
	if err != nil {
		return opError("put", s.URI(key), fmt.Errorf("spool: %w", err))
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	n, err := io.Copy(tmp, ctxReader{ctx, r})
	if err != nil {
		return opError("put", s.URI(key), fmt.Errorf("spool: %w", err))
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return opError("put", s.URI(key), fmt.Errorf("spool: %w", err))
	}
	return s.putSeekable(ctx, key, tmp, n)
}

// putSeekable is one PutObject: S3 makes the object visible only once the
// whole body has arrived. A single PUT is limited to 5 GiB.
func (s *s3Store) putSeekable(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.objectKey(key)),
		Body:          body,
		ContentLength: aws.Int64(size),
	})
	if err != nil {
		return opError("put", s.URI(key), err)
	}
	return nil
}

func (s *s3Store) GetFile(ctx context.Context, key, localPath string) error {
	return getFile(ctx, s.get, s.URI(key), key, localPath)
}

func (s *s3Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	body, err := s.get(ctx, key)
	if err != nil {
		return nil, opError("open", s.URI(key), err)
	}
	return body, nil
}

func (s *s3Store) get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.objectKey(key)),
	})
	if isNoSuchKey(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	return sizedBody{out.Body, size}, nil
}

// isNoSuchKey is true for a missing object, but not for a missing bucket:
// that is a configuration error the caller should see as such.
func isNoSuchKey(err error) bool {
	if err == nil {
		return false
	}
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchKey"
}

func (s *s3Store) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, opError("list", s.URI(""), err)
	}
	root := ""
	if s.prefix != "" {
		root = s.prefix + "/"
	}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(root + prefix),
	}, func(o *s3.ListObjectsV2PaginatorOptions) {
		o.Limit = s.pageSize
	})
	var objs []Object
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, opError("list", s.URI(prefix), err)
		}
		if s.onPage != nil {
			s.onPage()
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), root)
			if key == "" || strings.HasSuffix(key, "/") {
				continue // a "folder" marker made by some consoles, not an object
			}
			objs = append(objs, Object{Key: key, Size: aws.ToInt64(o.Size)})
		}
	}
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return objs, nil
}

// Delete relies on S3's DeleteObject, which succeeds for a missing key.
func (s *s3Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return opError("delete", s.URI(""), err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.objectKey(key)),
	})
	if err != nil && !isNoSuchKey(err) {
		return opError("delete", s.URI(key), err)
	}
	return nil
}
