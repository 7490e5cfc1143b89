package testenv

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATSServer is an in-process nats-server with JetStream, private to one test.
type NATSServer struct {
	storeDir string

	mu   sync.Mutex
	port int // -1 until the first start picks a port; then fixed
	srv  *server.Server
}

// NATS starts a nats-server with JetStream on 127.0.0.1 and a random port,
// storing streams in t.TempDir(). t.Cleanup shuts it down.
func NATS(t testing.TB) *NATSServer {
	t.Helper()
	n := &NATSServer{storeDir: t.TempDir(), port: -1}
	if err := n.start(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(n.shutdown)
	return n
}

// URL returns the client URL, nats://127.0.0.1:PORT.
func (n *NATSServer) URL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return fmt.Sprintf("nats://127.0.0.1:%d", n.port)
}

// Restart shuts the server down and starts it again on the same port and
// store dir, so file-backed streams and durable consumers survive, as they
// would across a real server restart. Clients reconnect on their own.
func (n *NATSServer) Restart() error {
	n.shutdown()
	return n.start()
}

func (n *NATSServer) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		return errors.New("nats: already running")
	}
	srv, err := server.NewServer(n.options())
	if err != nil {
		return fmt.Errorf("nats: new server: %w", err)
	}
	// Start runs the accept loops in goroutines and returns.
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("nats: not ready for connections on port %d after 10s", n.port)
	}
	n.srv = srv
	n.port = srv.Addr().(*net.TCPAddr).Port
	return nil
}

// options builds fresh Options on each start because NewServer mutates them.
func (n *NATSServer) options() *server.Options {
	return &server.Options{
		ServerName: "kalla-testenv", // stable across restarts, like a real deployment
		Host:       "127.0.0.1",
		Port:       n.port,
		JetStream:  true,
		StoreDir:   n.storeDir,
		NoLog:      true,
		NoSigs:     true, // the test binary owns signal handling
	}
}

func (n *NATSServer) shutdown() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv == nil {
		return
	}
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
	n.srv = nil
}
