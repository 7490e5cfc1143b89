package duckdb

// ReadWhole makes e read database sources whole and check their filters in
// the engine alone.
func ReadWhole(e *Engine) { e.readWhole = true }
