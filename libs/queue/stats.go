package queue

import (
	"maps"
	"sync"
)

// Outcome is how a worker ended a message.
type Outcome string

const (
	Completed Outcome = "completed" // handler succeeded; acked
	Retried   Outcome = "retried"   // handler failed; nak'd with backoff
	Poisoned  Outcome = "poisoned"  // poison job or undecodable; termed
	Aborted   Outcome = "aborted"   // shutdown (nak'd) or lost claim (termed)
)

// Stats counts how a worker ended its messages. The pipeline's metrics
// count jobs; these count messages, including those that never reach a
// handler (poison) or are given up (shutdown, lost claim). It is safe for
// concurrent use.
type Stats struct {
	mu     sync.Mutex
	active int
	counts map[statKey]uint64
}

type statKey struct {
	kind    string
	outcome Outcome
}

// Active returns the number of jobs whose handler is running.
func (s *Stats) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Count returns how many jobs of kind ended with outcome.
func (s *Stats) Count(kind string, outcome Outcome) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[statKey{kind, outcome}]
}

// Each calls fn with every (kind, outcome) counted so far.
func (s *Stats) Each(fn func(kind string, outcome Outcome, n uint64)) {
	s.mu.Lock()
	counts := maps.Clone(s.counts)
	s.mu.Unlock()
	for k, n := range counts {
		fn(k.kind, k.outcome, n)
	}
}

func (s *Stats) start() {
	s.mu.Lock()
	s.active++
	s.mu.Unlock()
}

func (s *Stats) stop() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
}

func (s *Stats) end(kind string, outcome Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[statKey]uint64{}
	}
	s.counts[statKey{kind, outcome}]++
}
