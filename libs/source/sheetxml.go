package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlScanner reads the XML of a workbook's large parts (its sheets and
// shared strings) a token at a time, without the allocations that made
// encoding/xml take three quarters of a sheet's reading: a tag's name and
// attributes, and text, are slices valid until the next call. It reads
// XML as spreadsheet programs write it (no DTD); comments, processing
// instructions and CDATA are handled, names lose their prefix (x:row).
type xmlScanner struct {
	r    *bufio.Reader
	buf  []byte // a token longer than the reader's buffer
	kind tokenKind
	name []byte
	// attrs is the raw text of a start tag's attributes; text is the
	// decoded text of a text token.
	attrs, text []byte
	closed      bool // a start tag that closes itself (<c r="A1"/>)
	pending     bool // the '<' of the next tag has been read
	err         error
}

type tokenKind uint8

const (
	tokText tokenKind = iota + 1
	tokStart
	tokEnd
)

func newXMLScanner(r io.Reader) *xmlScanner {
	x := &xmlScanner{r: bufio.NewReaderSize(r, 1<<20)}
	if head, _ := x.r.Peek(2); string(head) == "\xff\xfe" || string(head) == "\xfe\xff" {
		x.err = errUTF16
	}
	return x
}

// errUTF16 refuses a part in UTF-16, which the format allows and Excel
// does not write: read as UTF-8, its tags would not be found.
var errUTF16 = errors.New("it is written in UTF-16, which Kalla does not read: save the workbook again in Excel or LibreOffice")

// next reads the next token; io.EOF at the end.
func (x *xmlScanner) next() error {
	x.closed = false // only a start tag closes itself
	if x.err != nil {
		return x.err
	}
	if !x.pending {
		raw, err := x.readUntil('<')
		if len(raw) > 0 {
			x.kind, x.pending = tokText, err == nil
			x.text = appendUnescaped(x.text[:0], raw)
			return nil
		}
		if err != nil {
			return err
		}
	}
	x.pending = false
	tag, err := x.readTag()
	if err != nil {
		return err
	}
	if len(trimSpaces(tag)) == 0 || tag[0] == '/' && len(trimSpaces(tag[1:])) == 0 {
		return errors.New("a tag without a name")
	}
	switch {
	case len(tag) > 0 && tag[0] == '/':
		x.kind, x.name = tokEnd, localName(trimSpaces(tag[1:]))
		return nil
	case bytes.HasPrefix(tag, []byte("![CDATA[")):
		x.kind = tokText
		x.text = appendLines(x.text[:0], tag[len("![CDATA["):len(tag)-len("]]")])
		return nil
	case len(tag) > 0 && (tag[0] == '?' || tag[0] == '!'):
		return x.next() // a declaration, instruction or comment
	}
	x.kind, x.closed = tokStart, tag[len(tag)-1] == '/'
	if x.closed {
		tag = tag[:len(tag)-1]
	}
	end := 0
	for end < len(tag) && !isSpace(tag[end]) {
		end++
	}
	x.name, x.attrs = localName(tag[:end]), tag[end:]
	return nil
}

// readUntil reads up to delim, returning what came before it.
func (x *xmlScanner) readUntil(delim byte) ([]byte, error) {
	line, err := x.r.ReadSlice(delim)
	if errors.Is(err, bufio.ErrBufferFull) {
		x.buf = append(x.buf[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = x.r.ReadSlice(delim)
			x.buf = append(x.buf, line...)
		}
		line = x.buf
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return line, io.ErrUnexpectedEOF
		}
		return line, err
	}
	return line[:len(line)-1], nil
}

// readTag reads a tag after its '<', up to its '>': one outside quoted
// attribute values, or a comment's or CDATA's end.
func (x *xmlScanner) readTag() ([]byte, error) {
	tag, err := x.readUntil('>')
	if err != nil {
		return nil, unexpected(err)
	}
	closes := func(t []byte) bool {
		switch {
		case bytes.HasPrefix(t, []byte("!--")):
			return bytes.HasSuffix(t, []byte("--")) && len(t) >= 5
		case bytes.HasPrefix(t, []byte("![CDATA[")):
			return bytes.HasSuffix(t, []byte("]]"))
		}
		return balanced(t)
	}
	if closes(tag) {
		return tag, nil
	}
	whole := append([]byte(nil), tag...)
	for !closes(whole) {
		more, err := x.readUntil('>')
		if err != nil {
			return nil, unexpected(err)
		}
		whole = append(append(whole, '>'), more...)
	}
	return whole, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// balanced says whether a tag's quotes are closed: a '>' within quotes
// does not end it.
func balanced(tag []byte) bool {
	var open byte
	for _, c := range tag {
		switch {
		case open == 0 && (c == '"' || c == '\''):
			open = c
		case c == open:
			open = 0
		}
	}
	return open == 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// trimSpaces is b without the XML white space around it.
func trimSpaces(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// localName is name without its namespace prefix.
func localName(name []byte) []byte {
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// is says whether the token is a start or end tag named name.
func (x *xmlScanner) is(kind tokenKind, name string) bool {
	return x.kind == kind && string(x.name) == name
}

// attr is the value of the start tag's attribute name (without a
// prefix), decoded, or nil; valid until the next token.
func (x *xmlScanner) attr(name string) []byte {
	a := x.attrs
	for {
		eq := bytes.IndexByte(a, '=')
		if eq < 0 {
			return nil
		}
		key := localName(trimSpaces(a[:eq]))
		rest := trimSpaces(a[eq+1:])
		if len(rest) == 0 || rest[0] != '"' && rest[0] != '\'' {
			return nil
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return nil
		}
		if string(key) == name {
			if v := rest[1 : 1+end]; bytes.IndexByte(v, '&') >= 0 {
				return appendUnescaped(nil, v)
			} else {
				return v
			}
		}
		a = rest[end+2:]
	}
}

// content reads the text of the element just opened, up to its end,
// leaving out the elements within it.
func (x *xmlScanner) content(dst []byte) ([]byte, error) {
	if x.closed {
		return dst, nil
	}
	for depth := 0; ; {
		if err := x.next(); err != nil {
			return dst, unexpected(err)
		}
		switch x.kind {
		case tokText:
			dst = append(dst, x.text...)
		case tokStart:
			if !x.closed {
				depth++
			}
		case tokEnd:
			if depth == 0 {
				return dst, nil
			}
			depth--
		}
	}
}

// richText reads a string item (si, or a cell's is) just opened: the text
// of its t elements, and those of its runs (r), not of phonetic hints
// (rPh), with Excel's _xHHHH_ escapes read.
func (x *xmlScanner) richText(dst []byte) ([]byte, error) {
	if x.closed {
		return dst, nil
	}
	from := len(dst)
	for depth := 0; ; {
		if err := x.next(); err != nil {
			return dst, unexpected(err)
		}
		switch {
		case x.is(tokStart, "rPh") && !x.closed:
			if _, err := x.content(nil); err != nil {
				return dst, err
			}
		case x.is(tokStart, "t"):
			var err error
			if dst, err = x.content(dst); err != nil {
				return dst, err
			}
		case x.kind == tokStart && !x.closed:
			depth++
		case x.kind == tokEnd && depth == 0:
			return append(dst[:from], unescapeX(string(dst[from:]))...), nil
		case x.kind == tokEnd:
			depth--
		}
	}
}

// appendUnescaped appends XML text, its entity and character references
// read and its line ends normalized as XML reads them ("\r\n" and a lone
// "\r" are "\n"; a carriage return written &#13; or _x000D_ stays).
func appendUnescaped(dst, s []byte) []byte {
	for {
		amp := bytes.IndexByte(s, '&')
		if amp < 0 {
			return appendLines(dst, s)
		}
		dst = appendLines(dst, s[:amp])
		s = s[amp:]
		semi := bytes.IndexByte(s, ';')
		if semi < 0 {
			return appendLines(dst, s)
		}
		ref := string(s[1:semi])
		switch ref {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			r, ok := charRef(ref)
			if !ok {
				dst = appendLines(dst, s[:semi+1])
				break
			}
			dst = utf8.AppendRune(dst, r)
		}
		s = s[semi+1:]
	}
}

// appendLines appends s with its line ends normalized as XML reads them.
func appendLines(dst, s []byte) []byte {
	for {
		cr := bytes.IndexByte(s, '\r')
		if cr < 0 {
			return append(dst, s...)
		}
		dst = append(append(dst, s[:cr]...), '\n')
		s = s[cr+1:]
		if len(s) > 0 && s[0] == '\n' {
			s = s[1:]
		}
	}
}

// charRef reads a character reference's #65 or #x41.
func charRef(ref string) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || !utf8.ValidRune(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

// errXML is a scanner's error, with where it stopped.
func errXML(part string, err error) error {
	return fmt.Errorf("its part %s is not XML as Excel writes it: %w", part, err)
}
