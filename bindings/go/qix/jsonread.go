package qix

// The typed API's result decoder: every generated type has a readJSON method (api_read_generated.go) that
// reads it straight from the result's text with a jreader, without encoding/json's reflection, a first pass
// that checks the text, or a map per open struct. It reads what encoding/json reads, the same way: the
// reader knows only the common shapes, and anything else (a member name with escapes, one that matches a
// field only when letter case is ignored, a number where a string belongs, a fraction for an int32, an
// integer out of range ...) makes it give up (slow), and the caller decodes the whole value again with
// encoding/json, whose result (or error) is the answer. So a value decodes to the same Go value either way;
// only how fast differs. The text comes from libqix, which has checked that the frame is valid JSON; the
// reader still never reads out of bounds and gives up on what it does not expect.

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// jreader reads one JSON value from b.
type jreader struct {
	b    []byte
	i    int
	slow bool // gave up: the caller decodes with encoding/json instead
}

// jsonReadable is a generated type's reader (a pointer to the struct).
type jsonReadable[S any] interface {
	*S
	readJSON(r *jreader)
}

// decodeValue reads b with read into a new T; with encoding/json when the reader gives up.
func decodeValue[T any](b []byte, read func(*jreader, T) T) (T, error) {
	r := jreader{b: b}
	var v T
	v = read(&r, v)
	if r.end() {
		return v, nil
	}
	var slow T
	err := json.Unmarshal(b, &slow)
	return slow, err
}

// end tells whether the value was read to its end with nothing but blanks after it.
func (r *jreader) end() bool {
	if r.slow {
		return false
	}
	r.space()
	return r.i == len(r.b)
}

func (r *jreader) giveUp() { r.slow = true }

func (r *jreader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next value's first byte (0 at the end, or once the reader gave up).
func (r *jreader) peek() byte {
	if r.slow {
		return 0
	}
	r.space()
	if r.i >= len(r.b) {
		r.giveUp()
		return 0
	}
	return r.b[r.i]
}

// null reads a null, if that is what comes next.
func (r *jreader) null() bool {
	if r.peek() == 'n' && bytes.HasPrefix(r.b[r.i:], []byte("null")) {
		r.i += 4
		return true
	}
	return false
}

// object starts reading an object: false (after a null, or giving up on anything else) when there is none.
// The members follow with member().
func (r *jreader) object() bool {
	there, empty := r.open('{', '}')
	return there && !empty
}

// open reads a null (false), or the opening bracket of an object or array (true), and its closing bracket too
// when nothing is between them (empty); anything else gives up (false).
func (r *jreader) open(opening, closing byte) (there, empty bool) {
	if r.null() {
		return false, false
	}
	if r.peek() != opening {
		r.giveUp()
		return false, false
	}
	r.i++
	r.space()
	if r.i < len(r.b) && r.b[r.i] == closing {
		r.i++
		return true, true
	}
	return true, false
}

// member reads the next member's name and its colon; false at the object's end (or when the reader gave
// up). The first call follows object() == true.
func (r *jreader) member(first bool) ([]byte, bool) {
	if !first {
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return nil, false
		default:
			r.giveUp()
			return nil, false
		}
	}
	if r.peek() != '"' {
		r.giveUp()
		return nil, false
	}
	start := r.i + 1
	end := start
	for end < len(r.b) && r.b[end] != '"' {
		if r.b[end] == '\\' || r.b[end] >= utf8.RuneSelf {
			r.giveUp() // escapes or non-ASCII names: encoding/json's business
			return nil, false
		}
		end++
	}
	if end >= len(r.b) {
		r.giveUp()
		return nil, false
	}
	r.i = end + 1
	if r.peek() != ':' {
		r.giveUp()
		return nil, false
	}
	r.i++
	return r.b[start:end], true
}

// other skips the value of a member no field of the struct has; it gives up when the name matches one
// of the fields' names (known) but for letter case, which encoding/json would decode into that field.
func (r *jreader) other(name []byte, known ...string) {
	for _, k := range known {
		if bytes.EqualFold(name, []byte(k)) {
			r.giveUp()
			return
		}
	}
	r.skip()
}

// extra keeps the value of a member no field of an open struct has in its Extra (as unmarshalOpen does);
// it gives up as other does.
func (r *jreader) extra(m map[string]json.RawMessage, name []byte, known ...string) map[string]json.RawMessage {
	for _, k := range known {
		if bytes.EqualFold(name, []byte(k)) {
			r.giveUp()
			return m
		}
	}
	v := r.raw(nil)
	if r.slow {
		return m
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	m[string(name)] = v
	return m
}

// skip passes over one value.
func (r *jreader) skip() {
	switch r.peek() {
	case '"':
		r.stringToken()
	case '{', '[':
		depth := 0
		for r.i < len(r.b) {
			switch r.b[r.i] {
			case '"':
				r.stringToken()
				if r.slow {
					return
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			r.i++
			if depth == 0 {
				return
			}
		}
		r.giveUp()
	case 0:
	default:
		r.literal()
	}
}

// stringToken passes over a string (at its opening quote) and returns its text without the quotes and
// whether it holds an escape.
func (r *jreader) stringToken() ([]byte, bool) {
	start := r.i + 1
	escaped := false
	for j := start; j < len(r.b); j++ {
		switch r.b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			r.i = j + 1
			return r.b[start:j], escaped
		}
	}
	r.giveUp()
	return nil, false
}

// literal passes over a number, true, false or null and returns its text.
func (r *jreader) literal() []byte {
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		r.i++
	}
	if r.i == start {
		r.giveUp()
	}
	return r.b[start:r.i]
}

// str reads a string (null: cur, unchanged). Text with escapes or other than UTF-8 is decoded by
// encoding/json, token by token.
func (r *jreader) str(cur string) string {
	if r.null() {
		return cur
	}
	if r.peek() != '"' {
		r.giveUp()
		return cur
	}
	at := r.i
	text, escaped := r.stringToken()
	if r.slow {
		return cur
	}
	if !escaped && utf8.Valid(text) {
		return string(text)
	}
	var s string
	if json.Unmarshal(r.b[at:r.i], &s) != nil {
		r.giveUp()
		return cur
	}
	return s
}

// boolean reads true or false (null: cur).
func (r *jreader) boolean(cur bool) bool {
	if r.null() {
		return cur
	}
	switch r.peek() {
	case 't':
		if bytes.HasPrefix(r.b[r.i:], []byte("true")) {
			r.i += 4
			return true
		}
	case 'f':
		if bytes.HasPrefix(r.b[r.i:], []byte("false")) {
			r.i += 5
			return false
		}
	}
	r.giveUp()
	return cur
}

// integer reads a number without fraction or exponent that fits in bits (null: cur).
func (r *jreader) integer(cur int64, bits int) int64 {
	if r.null() {
		return cur
	}
	if c := r.peek(); c != '-' && (c < '0' || c > '9') {
		r.giveUp()
		return cur
	}
	text := r.literal()
	neg := len(text) > 0 && text[0] == '-'
	digits := text
	if neg {
		digits = text[1:]
	}
	if len(digits) == 0 || (len(digits) > 1 && digits[0] == '0') { // no JSON integer
		r.giveUp()
		return cur
	}
	if len(digits) > 18 { // more than the loop below can add up: strconv decides
		v, err := strconv.ParseInt(string(text), 10, bits)
		if err != nil {
			r.giveUp()
			return cur
		}
		return v
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' { // a fraction or an exponent
			r.giveUp()
			return cur
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	if bits == 32 && (v < math.MinInt32 || v > math.MaxInt32) {
		r.giveUp()
		return cur
	}
	return v
}

// parseFloat is strconv.ParseFloat of text without copying it into a string (the string does not outlive
// the call: its error, which would hold it, is dropped).
func parseFloat(text []byte) (float64, error) {
	return strconv.ParseFloat(*(*string)(unsafe.Pointer(&text)), 64)
}

func (r *jreader) int32(cur int32) int32 { return int32(r.integer(int64(cur), 32)) }
func (r *jreader) int64(cur int64) int64 { return r.integer(cur, 64) }

// float reads a Float64 as Float64.UnmarshalJSON does: a number, or a string holding "NaN", "Infinity",
// "+Infinity", "-Infinity" or a number (null: cur).
func (r *jreader) float(cur Float64) Float64 {
	if r.null() {
		return cur
	}
	c := r.peek()
	if c == '"' {
		text, escaped := r.stringToken()
		if r.slow || escaped {
			r.giveUp()
			return cur
		}
		switch string(text) {
		case "NaN":
			return Float64(math.NaN())
		case "Infinity", "+Infinity":
			return Float64(math.Inf(1))
		case "-Infinity":
			return Float64(math.Inf(-1))
		}
		v, err := parseFloat(text)
		if err != nil {
			r.giveUp()
			return cur
		}
		return Float64(v)
	}
	if c != '-' && (c < '0' || c > '9') {
		r.giveUp()
		return cur
	}
	v, err := parseFloat(r.literal())
	if err != nil {
		r.giveUp()
		return cur
	}
	return Float64(v)
}

// raw reads any value as its text, copied (null: the text null, as encoding/json keeps it).
func (r *jreader) raw(json.RawMessage) json.RawMessage {
	if r.peek() == 0 {
		return nil
	}
	start := r.i
	r.skip()
	if r.slow {
		return nil
	}
	return append(json.RawMessage(nil), r.b[start:r.i]...)
}

// readRaw is raw for a named JSON type (JsonObject ...).
func readRaw[T ~[]byte](r *jreader, _ T) T { return T(r.raw(nil)) }

// readEnum reads an enum as unmarshalEnum does: its symbol, or a number's decimal text (null: cur).
func readEnum[E ~string](r *jreader, cur E) E {
	switch c := r.peek(); {
	case c == '"':
		return E(r.str(string(cur)))
	case c == 'n':
		r.null()
		return cur
	case c == '-' || (c >= '0' && c <= '9'):
		return E(r.literal())
	}
	r.giveUp()
	return cur
}

// readStruct reads a struct member (a pointer: null is nil; a member sent again is read into the same
// struct, as encoding/json does).
func readStruct[S any, P jsonReadable[S]](r *jreader, cur P) P {
	if r.null() {
		return nil
	}
	if cur == nil {
		cur = P(new(S))
	}
	cur.readJSON(r)
	return cur
}

// readStructValue reads a struct element of an array (null: unchanged).
func readStructValue[S any, P jsonReadable[S]](r *jreader, cur S) S {
	P(&cur).readJSON(r)
	return cur
}

// readPtr reads a pointer member (null is nil).
func readPtr[T any](r *jreader, cur *T, read func(*jreader, T) T) *T {
	if r.null() {
		return nil
	}
	if cur == nil {
		cur = new(T)
	}
	*cur = read(r, *cur)
	return cur
}

// readSlice reads an array (null is nil, [] an empty slice), each element with elem.
func readSlice[S ~[]E, E any](r *jreader, _ S, elem func(*jreader, E) E) S {
	there, empty := r.open('[', ']')
	if !there {
		return nil
	}
	out := S{}
	if empty {
		return out
	}
	for !r.slow {
		var e E
		out = append(out, elem(r, e))
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return out
		default:
			r.giveUp()
		}
	}
	return nil
}

// readString, readBool ... are the scalar readers as functions, for arrays and pointers.
func readString(r *jreader, cur string) string    { return r.str(cur) }
func readBool(r *jreader, cur bool) bool          { return r.boolean(cur) }
func readInt32(r *jreader, cur int32) int32       { return r.int32(cur) }
func readInt64(r *jreader, cur int64) int64       { return r.int64(cur) }
func readFloat64(r *jreader, cur Float64) Float64 { return r.float(cur) }

// readStructs reads an array of structs (of slice type S).
func readStructs[S ~[]E, E any, P jsonReadable[E]](r *jreader, cur S) S {
	return readSlice(r, cur, readStructValue[E, P])
}

// readStrings ... read arrays of scalars (of slice type S), for the generated readers.
func readStrings[S ~[]string](r *jreader, cur S) S         { return readSlice(r, cur, readString) }
func readBools[S ~[]bool](r *jreader, cur S) S             { return readSlice(r, cur, readBool) }
func readInt32s[S ~[]int32](r *jreader, cur S) S           { return readSlice(r, cur, readInt32) }
func readInt64s[S ~[]int64](r *jreader, cur S) S           { return readSlice(r, cur, readInt64) }
func readFloat64s[S ~[]Float64](r *jreader, cur S) S       { return readSlice(r, cur, readFloat64) }
func readEnums[S ~[]E, E ~string](r *jreader, cur S) S     { return readSlice(r, cur, readEnum[E]) }
func readStringsAs[S ~[]E, E ~string](r *jreader, cur S) S { return readSlice(r, cur, readStringAs[E]) }

// readStringAs reads a named string type that is no enum (Blob): a string only.
func readStringAs[E ~string](r *jreader, cur E) E { return E(r.str(string(cur))) }
