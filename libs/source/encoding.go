package source

import (
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// encodings are the character encodings Kalla reads CSV files in besides
// UTF-8, by the names a recipe gives them: those spreadsheets and banks
// export in.
var encodings = map[string]encoding.Encoding{
	"latin1":       charmap.ISO8859_1,
	"windows-1252": charmap.Windows1252,
	// Little-endian, as Excel writes it, unless a byte order mark says
	// otherwise; the mark is no text.
	"utf-16": unicode.UTF16(unicode.LittleEndian, unicode.UseBOM),
}

// IsEncoding says whether name is an encoding Kalla reads CSV files in
// besides UTF-8.
func IsEncoding(name string) bool {
	_, ok := encodings[name]
	return ok
}

// EncodingNames names the encodings Kalla reads CSV files in besides UTF-8.
func EncodingNames() string {
	names := slices.Sorted(maps.Keys(encodings))
	for i, n := range names {
		names[i] = strconv.Quote(n)
	}
	return strings.Join(names, ", ")
}

// decoded reads r, whose text is in the encoding named, as UTF-8; r itself
// when the name is empty (UTF-8 already).
func decoded(r io.Reader, name string) io.Reader {
	if name == "" {
		return r
	}
	return transform.NewReader(r, encodings[name].NewDecoder())
}
