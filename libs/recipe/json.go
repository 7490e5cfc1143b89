package recipe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
)

// yamlEscapes rewrites the two string escapes of JSON that the YAML reader
// refuses, so that a recipe any JSON writer wrote reads: `\/` (PHP and some
// Java writers escape every slash) becomes `/`, and a UTF-16 surrogate pair
// (`\ud83d\ude00`: Python's json.dumps writes every character beyond the
// Basic Multilingual Plane so) becomes YAML's `\U0001F600`. Only valid JSON
// is rewritten: in YAML's plain and single-quoted scalars a backslash is no
// escape. Lines keep their numbers, so errors still point at them.
func yamlEscapes(text []byte) []byte {
	if !bytes.Contains(text, []byte(`\`)) || !json.Valid(text) {
		return text
	}
	out := make([]byte, 0, len(text))
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '"' {
			inString = !inString
		}
		if c != '\\' || !inString {
			out = append(out, c)
			continue
		}
		// Valid JSON: a backslash in a string always has its escape after it.
		switch r, n := surrogatePair(text[i:]); {
		case text[i+1] == '/':
			out = append(out, '/')
		case n > 0:
			out = fmt.Appendf(out, `\U%08X`, r)
			i += n - 2
		default:
			out = append(out, c, text[i+1])
		}
		i++
	}
	return out
}

// surrogatePair reads `\uD83D\uDE00` at the start of b: the character the
// pair encodes and the pair's length, or 0 when b does not start with one.
func surrogatePair(b []byte) (rune, int) {
	const n = len(`\uD83D\uDE00`)
	if len(b) < n || b[1] != 'u' || b[6] != '\\' || b[7] != 'u' {
		return 0, 0
	}
	hi, err1 := strconv.ParseUint(string(b[2:6]), 16, 16)
	lo, err2 := strconv.ParseUint(string(b[8:12]), 16, 16)
	r := utf16.DecodeRune(rune(hi), rune(lo))
	if err1 != nil || err2 != nil || r == unicode.ReplacementChar {
		return 0, 0
	}
	return r, n
}
