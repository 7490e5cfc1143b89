package api

import "time"

// EvidenceURL signs an evidence link as a planner configured with tokens
// would, with any expiry (past ones included).
func EvidenceURL(tokens []string, runID, name string, expires time.Time) string {
	return evidenceLink(linkKey(tokens), runID, name, expires)
}

// LinkKey is the evidence link signing key of tokens.
func LinkKey(tokens []string) []byte { return linkKey(tokens) }

// HoldConversions takes every slot for writing workbooks until free is
// called.
func HoldConversions(s *Server) (free func()) {
	for range cap(s.converting) {
		s.converting <- struct{}{}
	}
	return func() {
		for range cap(s.converting) {
			<-s.converting
		}
	}
}
