package evidence

// URIs locates a run's evidence objects; the executor records it with the
// run and the API returns it.
type URIs struct {
	Matched        string `json:"matched_uri"`
	UnmatchedLeft  string `json:"unmatched_left_uri"`
	UnmatchedRight string `json:"unmatched_right_uri"`
	Summary        string `json:"summary_uri"`
}
