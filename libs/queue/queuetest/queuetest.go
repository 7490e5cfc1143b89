// Package queuetest gives tests a real NATS server with JetStream and
// Kalla's streams on it.
package queuetest

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/testenv"
)

// JetStream starts a NATS server with JetStream for the test, connects to
// it and sets up Kalla's streams with cfg.
func JetStream(t testing.TB, cfg queue.Config) jetstream.JetStream {
	t.Helper()
	_, js := Connect(t, testenv.NATS(t).URL())
	if err := queue.Setup(t.Context(), js, cfg); err != nil {
		t.Fatalf("queue setup: %v", err)
	}
	return js
}

// Connect connects to the NATS server at url until the test ends.
func Connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := queue.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}
