package objstore

import "sync/atomic"

// SetListPageSize makes an S3 store list n keys per request and returns a
// counter of the pages fetched, so tests exercise pagination without writing
// a thousand objects. For a file store it does nothing and returns nil.
func SetListPageSize(s Store, n int32) *atomic.Int64 {
	st, ok := s.(*s3Store)
	if !ok {
		return nil
	}
	var pages atomic.Int64
	st.pageSize = n
	st.onPage = func() { pages.Add(1) }
	return &pages
}

// HTTPClientOf is the HTTP client an S3 store sends requests through; nil
// for a file store.
func HTTPClientOf(s Store) any {
	st, ok := s.(*s3Store)
	if !ok {
		return nil
	}
	return st.client.Options().HTTPClient
}
