package qix

// The typed Engine API's hand-written support: the one call path of the generated methods
// (api_methods_generated.go), and the JSON codecs the generated types (api_types_generated.go) share.
// See "Typed API" in docs/go.md.

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Float64 is a JSON number of the Engine API. The engine writes NaN and the infinities as the strings
// "NaN", "Infinity" and "-Infinity"; Float64 reads them (and plain numbers), and writes them the same way.
type Float64 float64

// MarshalJSON writes a number, or "NaN", "Infinity", "-Infinity" as JSON strings.
func (f Float64) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a number, a string holding one ("NaN", "Infinity", "-Infinity", "1.5"), or null (no
// change).
func (f *Float64) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*f = Float64(math.NaN())
			return nil
		case "Infinity", "+Infinity":
			*f = Float64(math.Inf(1))
			return nil
		case "-Infinity":
			*f = Float64(math.Inf(-1))
			return nil
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string " + s, Type: reflect.TypeOf(*f)}
	}
	*f = Float64(v)
	return nil
}

// Ptr returns a pointer to v: for the members whose default is not their type's zero value, which are
// pointers (nil: the engine's default), e.g. HyperCubeDef{MaxStackedCells: qix.Ptr(int32(1000))}.
func Ptr[T any](v T) *T { return &v }

// unmarshalEnum reads an enum's symbol (any string: symbols newer than the spec stay as sent); a number
// (an engine sending the ordinal) is kept as its decimal text, never an error.
func unmarshalEnum(b []byte, s *string) error {
	if len(b) > 0 && b[0] != '"' && string(b) != "null" {
		var n json.Number
		if err := json.Unmarshal(b, &n); err == nil {
			*s = n.String()
			return nil
		}
	}
	return json.Unmarshal(b, s)
}

// knownMembers caches, per struct type, the JSON member names its fields carry.
var knownMembers sync.Map // reflect.Type -> map[string]bool

func membersOf(t reflect.Type) map[string]bool {
	if m, ok := knownMembers.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	knownMembers.Store(t, m)
	return m
}

// unmarshalOpen decodes b into plain (a pointer to an open struct's method-less twin) and returns the
// members no field knows (nil when none): the open struct's Extra.
func unmarshalOpen(b []byte, plain any) (map[string]json.RawMessage, error) {
	if err := json.Unmarshal(b, plain); err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil || all == nil {
		return nil, err
	}
	known := membersOf(reflect.TypeOf(plain).Elem())
	for k := range all {
		if known[k] {
			delete(all, k)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	return all, nil
}

// marshalOpen encodes plain (an open struct's method-less twin) and appends the extra members that no
// field carries, in name order.
func marshalOpen(plain any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(plain)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	known := membersOf(reflect.TypeOf(plain))
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := b[:len(b)-1] // without the closing brace
	for _, k := range keys {
		v := extra[k]
		if len(v) == 0 {
			v = json.RawMessage("null")
		}
		if !json.Valid(v) {
			return nil, &json.UnsupportedValueError{Value: reflect.ValueOf(v), Str: "extra member " + k}
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		name, _ := json.Marshal(k)
		out = append(out, name...)
		out = append(out, ':')
		out = append(out, v...)
	}
	return append(out, '}'), nil
}

// setOptional adds an optional parameter to params unless it is its type's zero value (nil pointers,
// empty slices and strings, 0, false): the engine then applies the default the method's doc names.
func setOptional(params map[string]any, wire string, v any) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.IsZero() || ((rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0) {
		return
	}
	params[wire] = v
}

// nonNil sends a required array parameter left nil as [] (not null).
func nonNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}

// invoke is the typed methods' one call path: the binding's generic call with the params by name, the
// outcome holding the engine's whole result object.
func invoke(ctx context.Context, o *Object, method string, params map[string]any) (outcome, error) {
	var p any
	if params != nil {
		p = params
	}
	out, err := o.core.s.callFor(ctx, o.core, method, p, true)
	runtime.KeepAlive(o)
	return out, err
}

// callVoid calls a method without result.
func callVoid(ctx context.Context, o *Object, method string, params map[string]any) error {
	return voidOf(invoke(ctx, o, method, params))
}

// voidOf is the outcome of a method without result (callVoid's, callVoidAsync's).
func voidOf(out outcome, err error) error {
	if out.obj != nil {
		out.obj.release()
	}
	return err
}

// notFound tells the outcome of an object result that refers to no object (qReturn.qHandle null; the C
// API's QIX_ENOTFOUND): the typed API answers nil, not an error.
func notFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == ErrNotFound
}

// callObject calls a method that returns an object: nil (and no error) when the engine answers none.
func callObject(ctx context.Context, o *Object, method string, params map[string]any) (*Object, error) {
	return objectResult(invoke(ctx, o, method, params))
}

// objectResult is the outcome of a method that returns an object (callObject's, callObjectAsync's).
func objectResult(out outcome, err error) (*Object, error) {
	if notFound(err) {
		err = nil
	}
	if err != nil || out.obj == nil {
		if out.obj != nil {
			out.obj.release()
		}
		return nil, err
	}
	return newObject(out.obj), nil
}

// callValue calls a method with one out value and decodes the member wire of the whole result with read
// (the generated reader of T, see jsonread.go).
func callValue[T any](ctx context.Context, o *Object, method string, params map[string]any, wire string,
	read func(*jreader, T) T) (T, error) {
	out, err := invoke(ctx, o, method, params)
	return valueOf(out, err, method, wire, read)
}

// valueOf decodes the out value wire of a call's outcome (callValue's, callValueAsync's).
func valueOf[T any](out outcome, err error, method, wire string, read func(*jreader, T) T) (T, error) {
	var zero T
	if out.obj != nil {
		out.obj.release()
	}
	if err != nil {
		return zero, err
	}
	m, found, scanned := member(out.raw, wire)
	if !scanned { // not what the scanner reads: let encoding/json decide (and report what is wrong)
		var members map[string]json.RawMessage
		if err := json.Unmarshal(out.raw, &members); err != nil {
			return zero, decodeError(method, err)
		}
		m, found = members[wire]
	}
	if !found {
		return zero, nil
	}
	v, err := decodeValue(m, read)
	if err != nil {
		return zero, decodeError(method, err)
	}
	return v, nil
}

// member finds the value of the top-level member wire of the JSON object raw without decoding the rest
// (the result of a one-out-value method is read once, not decoded into a map first). The last of
// duplicate members wins, as with encoding/json's map. scanned is false when raw is not an object this
// scanner reads (a member name with escapes, malformed text): the caller then decodes it the slow way.
func member(raw []byte, wire string) (value json.RawMessage, found, scanned bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false, false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return nil, false, true
	}
	for i < len(raw) {
		if raw[i] != '"' {
			return nil, false, false
		}
		end := i + 1
		for end < len(raw) && raw[end] != '"' && raw[end] != '\\' {
			end++
		}
		if end >= len(raw) || raw[end] != '"' {
			return nil, false, false // an escape in a member name: not read here
		}
		name := raw[i+1 : end]
		i = skipSpace(raw, end+1)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false, false
		}
		start := skipSpace(raw, i+1)
		stop, ok := skipValue(raw, start)
		if !ok {
			return nil, false, false
		}
		if string(name) == wire {
			value, found = raw[start:stop], true
		}
		i = skipSpace(raw, stop)
		if i >= len(raw) {
			return nil, false, false
		}
		if raw[i] == '}' {
			return value, found, true
		}
		if raw[i] != ',' {
			return nil, false, false
		}
		i = skipSpace(raw, i+1)
	}
	return nil, false, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value that starts at b[i]: strings are skipped with their escapes,
// objects and arrays by their nesting, a scalar runs to the next ',' or '}' (trailing blanks included).
// The value itself is checked by encoding/json when it is decoded.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return 0, false
			}
			i++
		case c == '{' || c == '[':
			depth++
			i++
		case c == '}' || c == ']':
			if depth == 0 {
				return i, true // the end of the enclosing object: a scalar ended
			}
			depth--
			i++
		case c == ',' && depth == 0:
			return i, true
		default:
			i++
		}
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			return i, true // a string, object or array value ended
		}
	}
	return 0, false
}

// callStruct calls a method with several out values and decodes the whole result into a new T (with its
// generated reader, see jsonread.go); obj is the object the result refers to (nil when none).
func callStruct[T any, P jsonReadable[T]](ctx context.Context, o *Object, method string, params map[string]any) (r *T, obj *Object, err error) {
	out, err := invoke(ctx, o, method, params)
	return structOf[T, P](out, err, method)
}

// structOf decodes a call's outcome into a new T (callStruct's, callStructAsync's).
func structOf[T any, P jsonReadable[T]](out outcome, err error, method string) (r *T, obj *Object, _ error) {
	if notFound(err) && len(out.raw) > 0 {
		err = nil // the other out values are there; Object stays nil
	}
	if err == nil {
		var p P
		if p, err = decodeValue(out.raw, readStruct[T, P]); err != nil {
			r, err = nil, decodeError(method, err)
		} else if r = (*T)(p); r == nil {
			r = new(T) // a null result: no out values
		}
	}
	if out.obj != nil {
		if err != nil {
			out.obj.release()
		} else {
			obj = newObject(out.obj)
		}
	}
	return r, obj, err
}

func decodeError(method string, err error) *Error {
	return errorf(ErrProtocol, "%s: the result does not decode: %v", method, err)
}
