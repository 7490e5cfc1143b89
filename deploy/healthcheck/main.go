// Command healthcheck is the HEALTHCHECK of Kalla's images, which have no
// shell or curl: it GETs http://127.0.0.1:<port>/health, the port taken from
// KALLA_METRICS_ADDR (default :9090) or from the first argument (a URL), and
// exits 0 on a 2xx answer, 1 otherwise.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	if err := check(target(os.Args[1:], os.Getenv("KALLA_METRICS_ADDR"))); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

// target is the URL to probe.
func target(args []string, metricsAddr string) string {
	if len(args) > 0 {
		return args[0]
	}
	port := "9090"
	if _, p, err := net.SplitHostPort(metricsAddr); err == nil && p != "" {
		port = p
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port) + "/health"
}

func check(url string) error {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}
