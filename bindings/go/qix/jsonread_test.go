package qix

// The typed API's result reader (jsonread.go, api_read_generated.go) against encoding/json: for every type
// with a generated reader, random values (strings with escapes and non-ASCII text, NaN and the infinities,
// nil and empty members, unknown members of open structs) are written with encoding/json, then read both
// ways; the two Go values must be the same, and the reader must have read them itself (not given up). The
// texts are then changed in ways the reader does not know (a member name in other letter case, a string
// where a number belongs, a fraction for an integer ...): the reader must give up, and decodeValue must
// answer what encoding/json answers, value or error.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// fill sets v (settable) to a random value of its type, depth bounding nested structs.
func fill(rng *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		if v.Type().Name() != "string" && v.Type().PkgPath() != "" && rng.Intn(4) == 0 {
			v.SetString(fmt.Sprint(rng.Intn(5))) // an enum: an ordinal's text is kept as sent
			return
		}
		texts := []string{"", "a", "qlik", `with "quotes" and \ back`, "tab\tnew\nline", "Ünïcödé ✓", "\u2028",
			"emoji 😀", "<html>&</html>", "/slash/"}
		v.SetString(texts[rng.Intn(len(texts))])
	case reflect.Bool:
		v.SetBool(rng.Intn(2) == 0)
	case reflect.Int32:
		v.SetInt(int64(rng.Int31()) - int64(rng.Int31()))
	case reflect.Int64:
		v.SetInt(rng.Int63() - rng.Int63())
	case reflect.Float64:
		specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -0.5, 1e300, 12345.678}
		if rng.Intn(3) == 0 {
			v.SetFloat(specials[rng.Intn(len(specials))])
		} else {
			v.SetFloat(rng.NormFloat64() * 1e6)
		}
	case reflect.Pointer:
		if depth <= 0 || rng.Intn(4) == 0 {
			return // nil
		}
		p := reflect.New(v.Type().Elem())
		fill(rng, p.Elem(), depth-1)
		v.Set(p)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage
			raws := []string{`{"a":[1,2,{"b":null}]}`, `"text"`, `12.5`, `[]`, `true`, `{"x":"\"}"}`}
			v.SetBytes([]byte(raws[rng.Intn(len(raws))]))
			return
		}
		if depth <= 0 || rng.Intn(4) == 0 {
			return
		}
		n := rng.Intn(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(rng, s.Index(i), depth-1)
		}
		v.Set(s)
	case reflect.Map: // an open struct's Extra
		if rng.Intn(2) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 1+rng.Intn(3); i++ {
			m.SetMapIndex(reflect.ValueOf(fmt.Sprintf("zExtra%d", i)), reflect.ValueOf(json.RawMessage(`{"k":[1,"two"]}`)))
		}
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && rng.Intn(5) != 0 {
				fill(rng, v.Field(i), depth)
			}
		}
	}
}

// readFast reads text into a new value of v's type with its generated reader; ok is false when the reader
// gave up.
func readFast(v interface{ readJSON(*jreader) }, text []byte) (got any, ok bool) {
	p := reflect.New(reflect.TypeOf(v).Elem()).Interface().(interface{ readJSON(*jreader) })
	r := jreader{b: text}
	p.readJSON(&r)
	return p, r.end()
}

// same compares two decoded values by their encoding (NaN is not equal to itself in reflect.DeepEqual).
func same(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatalf("marshal: %v %v", err1, err2)
	}
	return bytes.Equal(ja, jb)
}

func TestGeneratedReadersReadWhatEncodingJSONReads(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	read := 0
	for _, proto := range readableTypes {
		typ := reflect.TypeOf(proto).Elem()
		for round := 0; round < 20; round++ {
			v := reflect.New(typ)
			fill(rng, v.Elem(), 3)
			text, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("%s: marshal: %v", typ.Name(), err)
			}
			if round%2 == 1 { // blanks between tokens, as another writer may put them
				var b bytes.Buffer
				if err := json.Indent(&b, text, " ", "\t"); err != nil {
					t.Fatal(err)
				}
				text = b.Bytes()
			}
			want := reflect.New(typ).Interface()
			if err := json.Unmarshal(text, want); err != nil {
				t.Fatalf("%s: unmarshal %s: %v", typ.Name(), text, err)
			}
			got, ok := readFast(proto, text)
			if !ok {
				t.Fatalf("%s: the reader gave up on %s", typ.Name(), text)
			}
			if !same(t, got, want) {
				t.Fatalf("%s: read %s\n got %+v\nwant %+v", typ.Name(), text, got, want)
			}
			read++
		}
	}
	if read < 5000 {
		t.Fatalf("only %d values read", read)
	}
}

// What the reader gives up on, and decodeValue then answers as encoding/json does.
func TestReaderGivesUpWhereEncodingJSONDecidesAndAnswersTheSame(t *testing.T) {
	cases := []struct {
		name, text string
		fails      bool // encoding/json fails on it
	}{
		{"member name in other letter case", `{"qcomponentversion":"1.2"}`, false},
		{"member name with an escape", `{"qComponent\u0056ersion":"1.2"}`, false},
		{"number for a string", `{"qComponentVersion":12}`, true},
		{"object for a string", `{"qComponentVersion":{}}`, true},
		{"not an object", `[1,2]`, true},
		{"text after the value", `{"qComponentVersion":"1"} {}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := jreader{b: []byte(c.text)}
			new(NxEngineVersion).readJSON(&r)
			if r.end() {
				t.Fatalf("the reader read %s itself", c.text)
			}
			var want *NxEngineVersion
			wantErr := json.Unmarshal([]byte(c.text), &want)
			got, err := decodeValue([]byte(c.text), readStruct[NxEngineVersion])
			if (err != nil) != c.fails || (wantErr != nil) != c.fails {
				t.Fatalf("errors: reader %v, encoding/json %v; want failure %v", err, wantErr, c.fails)
			}
			if err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("error %q, encoding/json's %q", err, wantErr)
			}
			if err == nil && !same(t, got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
	// Members of other types: integers with a fraction or out of range, a bool as a string, an enum as true.
	more := []struct {
		name string
		text string
		into func() any
		read func([]byte) (any, bool)
	}{
		{"fraction for an int32", `{"qTop":1.5}`, func() any { return new(NxPage) }, nil},
		{"int32 out of range", `{"qTop":4294967296}`, func() any { return new(NxPage) }, nil},
		{"exponent for an int32", `{"qTop":1e2}`, func() any { return new(NxPage) }, nil},
		{"string for a bool", `{"qIsNum":"true"}`, func() any { return new(AlfaNumString) }, nil},
		{"true for an enum", `{"qState":true}`, func() any { return new(NxCell) }, nil},
		{"string that is no number for a Float64", `{"qNum":"many"}`, func() any { return new(NxCell) }, nil},
		{"known name in other case in an open struct", `{"qinfo":{"qId":"a"}}`, func() any { return new(GenericObjectProperties) }, nil},
	}
	for _, c := range more {
		t.Run(c.name, func(t *testing.T) {
			p := c.into().(interface{ readJSON(*jreader) })
			r := jreader{b: []byte(c.text)}
			p.readJSON(&r)
			if r.end() {
				t.Fatalf("the reader read %s itself", c.text)
			}
		})
	}
}

// Shapes the reader reads itself, checked against encoding/json one by one.
func TestReaderReadsTheEnginesShapes(t *testing.T) {
	cases := []struct {
		text string
		into func() interface{ readJSON(*jreader) }
	}{
		{`{"qNum":"NaN","qText":"-","qElemNumber":-2,"qState":"L","qIsNull":true}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qNum":"Infinity"}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qNum":"-Infinity"}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qNum":"+Infinity"}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qNum":"1.25"}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qNum":null,"qText":null,"qElemNumber":null}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qState":3}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qState":-1.5e3}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qText":"caf\u00e9 \"x\" \ud83d\ude00"}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qText":"bad \ud800 surrogate"}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{"{\"qText\":\"invalid \xff utf-8\"}", func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qUnknown":{"a":[1,{"b":"}]"}]},"qText":"x","qOther":[[],{}],"qLast":null}`, func() interface{ readJSON(*jreader) } { return new(NxCell) }},
		{`{"qInfo":{"qId":"a","qType":"t"},"custom":{"deep":[1,2]},"qHyperCubeDef":{"qDimensions":[]},"z":1}`,
			func() interface{ readJSON(*jreader) } { return new(GenericObjectProperties) }},
		{`{"qInfo":null,"qMeta":{}}`, func() interface{ readJSON(*jreader) } { return new(GenericObjectLayout) }},
		{`{"qDataPages":[{"qMatrix":[[{"qText":"a"},null],[]],"qArea":{"qLeft":0,"qTop":0,"qWidth":2,"qHeight":1}}]}`,
			func() interface{ readJSON(*jreader) } { return new(HyperCube) }},
		{`{"qComponentVersion":"a","qComponentVersion":"b"}`, func() interface{ readJSON(*jreader) } { return new(NxEngineVersion) }},
		{` { } `, func() interface{ readJSON(*jreader) } { return new(NxEngineVersion) }},
		{`null`, func() interface{ readJSON(*jreader) } { return new(NxEngineVersion) }},
	}
	for _, c := range cases {
		p := c.into()
		r := jreader{b: []byte(c.text)}
		p.readJSON(&r)
		if !r.end() {
			t.Errorf("the reader gave up on %s", c.text)
			continue
		}
		want := c.into()
		if err := json.Unmarshal([]byte(c.text), want); err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		if !same(t, p, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.text, p, want)
		}
	}
	// Value results: arrays, enums, scalars.
	texts, err := decodeValue([]byte(`["a","b\n",null]`), readStrings[[]string])
	if err != nil || strings.Join(texts, "|") != "a|b\n|" {
		t.Fatalf("strings: %q %v", texts, err)
	}
	if v, err := decodeValue([]byte(`[]`), readStructs[[]NxCell, NxCell]); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("an empty array is an empty slice: %#v %v", v, err)
	}
	if v, err := decodeValue([]byte(`null`), readStructs[[]NxCell, NxCell]); err != nil || v != nil {
		t.Fatalf("null is a nil slice: %#v %v", v, err)
	}
}

// The qDataPages of a GetHyperCubeData answer with a page of 10,000 cells (2,500 rows of 4), as the engine
// writes it: the generated reader against encoding/json (go test -run XXX -bench ReadPage ./qix/; figures
// in docs/go.md).
func pageText() []byte {
	var b strings.Builder
	b.WriteString(`[{"qMatrix":[`)
	for row := 0; row < 2500; row++ {
		if row > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		for col := 0; col < 4; col++ {
			if col > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"qText":"value %d-%d","qNum":%d.5,"qElemNumber":%d,"qState":"O"}`, row, col, row*4+col, row)
		}
		b.WriteByte(']')
	}
	b.WriteString(`],"qTails":[],"qArea":{"qLeft":0,"qTop":0,"qWidth":4,"qHeight":2500}}]`)
	return []byte(b.String())
}

func BenchmarkReadPage(b *testing.B) {
	text := pageText()
	b.Run("generated reader", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for i := 0; i < b.N; i++ {
			if _, err := decodeValue(text, readStructs[[]NxDataPage, NxDataPage]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for i := 0; i < b.N; i++ {
			var v []NxDataPage
			if err := json.Unmarshal(text, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Any text: the reader never panics, and where the text is valid JSON and the reader did not give up, it
// read what encoding/json reads (into a page of cells, an open struct with nested members, and a plain
// struct). `go test -run XXX -fuzz FuzzReader ./qix/` explores further; go test runs the seeds.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		`{"qComponentVersion":"12.2528.0"}`, `{"qText":"a","qNum":1.5,"qElemNumber":-3,"qState":"S","qIsNull":false}`,
		`[{"qMatrix":[[{"qText":"x","qNum":"NaN"}]],"qArea":{"qWidth":1}}]`, `{"qInfo":{"qId":"a"},"z":[1,{"y":null}]}`,
		`{"qNum":"Infinity","qText":"\u00e9\"","qState":3}`, `null`, `{}`, `[]`, `{"qText":1}`, `{"a":}`, `{"qText":"`,
		"{\"qText\":\"\xff\"}", `{"qElemNumber":01}`, `{"qElemNumber":99999999999999999999}`, `{"QTEXT":"case"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		valid := json.Valid(text)
		check := func(name string, fast, want any, read func(*jreader)) {
			r := jreader{b: text}
			read(&r)
			if !r.end() || !valid {
				return
			}
			if json.Unmarshal(text, want) != nil {
				t.Fatalf("%s: the reader read %q, encoding/json fails on it", name, text)
			}
			if !same(t, fast, want) {
				t.Fatalf("%s: %q\n got %+v\nwant %+v", name, text, fast, want)
			}
		}
		cell := new(NxCell)
		check("NxCell", cell, new(NxCell), cell.readJSON)
		props := new(GenericObjectProperties)
		check("GenericObjectProperties", props, new(GenericObjectProperties), props.readJSON)
		var pages []NxDataPage
		check("[]NxDataPage", &pages, new([]NxDataPage), func(r *jreader) { pages = readStructs(r, pages) })
		version := new(NxEngineVersion)
		check("NxEngineVersion", version, new(NxEngineVersion), version.readJSON)
	})
}
