package plan

import "golang.org/x/text/cases"

// Fold is s case-folded in full, as eq_ci compares text: Straße and
// STRASSE are equal, and so are ΟΔΟΣ and οδος (final sigma). Engines call
// it on text that is not all ASCII; on ASCII it is lower case.
func Fold(s string) string { return folder.String(s) }

// folder is stateless, so one serves every call, from any goroutine.
var folder = cases.Fold()
