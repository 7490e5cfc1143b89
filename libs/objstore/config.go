package objstore

import (
	"fmt"
	"net/url"
	"os"
)

const defaultRegion = "us-east-1"

// Config is the S3 client configuration. String and GoString never show the
// secret.
type Config struct {
	Endpoint        string // e.g. http://127.0.0.1:9000; empty means AWS
	AccessKeyID     string
	SecretAccessKey string
	Region          string // empty means us-east-1
	PathStyle       bool   // bucket in the path instead of the host name
}

// ConfigFromEnv reads AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION (default us-east-1) and
// KALLA_S3_PATH_STYLE ("true" or "false", default false).
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		Endpoint:        os.Getenv("AWS_ENDPOINT_URL"),
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		Region:          os.Getenv("AWS_REGION"),
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	switch v := os.Getenv("KALLA_S3_PATH_STYLE"); v {
	case "", "false":
	case "true":
		cfg.PathStyle = true
	default:
		return Config{}, fmt.Errorf("objstore: KALLA_S3_PATH_STYLE=%q: want \"true\" or \"false\"", v)
	}
	if cfg.Endpoint != "" {
		if err := checkEndpoint(cfg.Endpoint); err != nil {
			return Config{}, fmt.Errorf("objstore: AWS_ENDPOINT_URL: %w", err)
		}
	}
	return cfg, nil
}

// String describes the configuration without the secret.
func (c Config) String() string {
	secret := "unset"
	if c.SecretAccessKey != "" {
		secret = "[redacted]"
	}
	return fmt.Sprintf("objstore.Config{Endpoint: %q, AccessKeyID: %q, SecretAccessKey: %s, Region: %q, PathStyle: %t}",
		redactURL(c.Endpoint), c.AccessKeyID, secret, c.Region, c.PathStyle)
}

// GoString keeps %#v from printing the secret.
func (c Config) GoString() string { return c.String() }

func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q: want http://host[:port] or https://host[:port]", redactURL(endpoint))
	}
	if u.User != nil {
		return fmt.Errorf("endpoint %q: user info is not allowed", u.Redacted())
	}
	return nil
}

// redactURL hides a password in user info; an unparsable value is hidden
// whole, since we can't tell which part is secret.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable]"
	}
	return u.Redacted()
}
