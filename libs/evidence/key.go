package evidence

import "strings"

// KeyText is a record's key as the evidence shows it: a single column's
// value as it is; the values of a composite key joined by "|", each with
// its own "\" and "|" escaped, so that the keys (a|b, c) and (a, b|c) stay
// apart: a\|b|c and a|b\|c.
func KeyText(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	escaped := make([]string, len(parts))
	for i, p := range parts {
		escaped[i] = keyEscaper.Replace(p)
	}
	return strings.Join(escaped, "|")
}

var keyEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`)
