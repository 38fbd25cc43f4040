package qix_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/libqix/libqix/bindings/go/qix"
)

var errorType = reflect.TypeOf((*error)(nil)).Elem()

// sameResults tells whether fn's parameters are the results of the method type m.
func sameResults(fn, m reflect.Type) bool {
	if fn.NumIn() != m.NumOut() {
		return false
	}
	for i := 0; i < fn.NumIn(); i++ {
		if fn.In(i) != m.Out(i) {
			return false
		}
	}
	return true
}

// typedClasses maps the spec's class names to the typed classes.
var typedClasses = map[string]reflect.Type{
	"Global":           reflect.TypeOf(&qix.Global{}),
	"Doc":              reflect.TypeOf(&qix.Doc{}),
	"GenericObject":    reflect.TypeOf(&qix.GenericObject{}),
	"Field":            reflect.TypeOf(&qix.Field{}),
	"GenericDimension": reflect.TypeOf(&qix.GenericDimension{}),
	"GenericBookmark":  reflect.TypeOf(&qix.GenericBookmark{}),
	"GenericMeasure":   reflect.TypeOf(&qix.GenericMeasure{}),
	"GenericVariable":  reflect.TypeOf(&qix.GenericVariable{}),
	"Variable":         reflect.TypeOf(&qix.Variable{}),
}

// Every method of the spec (spec/engine-rpc-*.json, read at test time; QIX_SPEC_DIR overrides the
// folder) is a typed method of its class: its own (not *Object's promoted one), taking a context first,
// with an Async form.
func TestTypedMethodsCoverTheSpec(t *testing.T) {
	dir := os.Getenv("QIX_SPEC_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "spec")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "engine-rpc-*.json"))
	if len(files) != 1 {
		t.Fatalf("expected one engine-rpc-*.json in %s, found %v", dir, files)
	}
	text, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Methods []struct {
			Name string `json:"name"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(text, &spec); err != nil {
		t.Fatal(err)
	}
	object := reflect.TypeOf(&qix.Object{})
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	present := 0
	for _, m := range spec.Methods {
		cls, name, _ := strings.Cut(m.Name, ".")
		typ, ok := typedClasses[cls]
		if !ok {
			t.Errorf("%s: no typed class %s", m.Name, cls)
			continue
		}
		meth, ok := typ.MethodByName(name)
		if !ok {
			t.Errorf("%s: missing", m.Name)
			continue
		}
		if own, ok := object.MethodByName(name); ok && own.Type.In(1) == meth.Type.In(1) &&
			own.Type.NumIn() == meth.Type.NumIn() && own.Type.Out(0) == meth.Type.Out(0) {
			t.Errorf("%s: only *Object's untyped %s", m.Name, name)
			continue
		}
		if meth.Type.NumIn() < 2 || meth.Type.In(1) != ctxType {
			t.Errorf("%s: the first parameter is not a context.Context: %v", m.Name, meth.Type)
			continue
		}
		// Its Async form: the same parameters but the context, then the function that gets the outcome (the
		// method's results), returning an error.
		async, ok := typ.MethodByName(name + "Async")
		if !ok {
			t.Errorf("%s: no %sAsync", m.Name, name)
			continue
		}
		at := async.Type
		if at.NumIn() != meth.Type.NumIn() || at.NumOut() != 1 || at.Out(0) != errorType ||
			at.In(at.NumIn()-1).Kind() != reflect.Func || !sameResults(at.In(at.NumIn()-1), meth.Type) {
			t.Errorf("%sAsync: %v does not match %v", m.Name, at, meth.Type)
			continue
		}
		for i := 2; i < meth.Type.NumIn(); i++ {
			if at.In(i-1) != meth.Type.In(i) {
				t.Errorf("%sAsync: parameter %d is %v, want %v", m.Name, i-1, at.In(i-1), meth.Type.In(i))
			}
		}
		present++
	}
	if present != len(spec.Methods) || present != 336 {
		t.Fatalf("typed methods: %d/%d of the spec (expected 336)", present, len(spec.Methods))
	}
	t.Logf("typed methods: %d/%d", present, len(spec.Methods))
}

// Float64 reads and writes NaN and the infinities as the engine does; enums keep unknown symbols.
func TestTypedCodecs(t *testing.T) {
	var cell qix.NxCell
	if err := json.Unmarshal([]byte(`{"qText":"-","qNum":"NaN","qState":"Z9","qElemNumber":-2}`), &cell); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(cell.Num)) || cell.State != "Z9" || cell.ElemNumber != -2 {
		t.Fatalf("decoded %+v", cell)
	}
	for text, want := range map[string]float64{`"Infinity"`: math.Inf(1), `"-Infinity"`: math.Inf(-1), `1.5`: 1.5} {
		var f qix.Float64
		if err := json.Unmarshal([]byte(text), &f); err != nil || float64(f) != want {
			t.Fatalf("%s: %v %v", text, f, err)
		}
		out, _ := json.Marshal(f)
		if string(out) != text {
			t.Fatalf("%s written as %s", text, out)
		}
	}
	out, _ := json.Marshal(qix.NxCell{Num: qix.Float64(math.NaN()), State: qix.StateEnumTypeSelected})
	if string(out) != `{"qNum":"NaN","qState":"S"}` {
		t.Fatalf("NxCell written as %s", out)
	}
	var state qix.StateEnumType
	if err := json.Unmarshal([]byte(`2`), &state); err != nil || state != "2" {
		t.Fatalf("an ordinal: %q %v", state, err)
	}
	// A member whose default is not its zero value is a pointer: false is sent, nil is not.
	out, _ = json.Marshal(qix.CondDef{Always: qix.Ptr(false)})
	if string(out) != `{"qAlways":false}` {
		t.Fatalf("CondDef written as %s", out)
	}
	// Open structs keep unknown members, in name order after the fields.
	var props qix.GenericObjectProperties
	in := `{"qInfo":{"qId":"a","qType":"t"},"zeta":[1,2],"title":"T","qHyperCubeDef":{"qMode":"K"}}`
	if err := json.Unmarshal([]byte(in), &props); err != nil {
		t.Fatal(err)
	}
	if string(props.Extra["title"]) != `"T"` || props.HyperCubeDef.Mode != qix.NxHypercubeModeDataModePivotStack {
		t.Fatalf("decoded %+v", props)
	}
	out, _ = json.Marshal(&props)
	if string(out) != `{"qInfo":{"qId":"a","qType":"t"},"qHyperCubeDef":{"qMode":"K"},"title":"T","zeta":[1,2]}` {
		t.Fatalf("written as %s", out)
	}
}

func mustNot(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// The typed API against the simulator: methods of all 9 classes. The simulator has no dimensions,
// measures, bookmarks or (deprecated) Variable objects: those classes' typed methods run on handles of
// objects it has (the engine dispatches by handle), and a method it lacks must fail as an engine error.
func TestTypedAPIAgainstTheSimulator(t *testing.T) {
	ctx := testContext(t)
	s := dial(t, shared.url("demo"))
	g, err := s.Global()
	mustNot(t, "Global", err)

	// Global
	ver, err := g.EngineVersion(ctx)
	mustNot(t, "EngineVersion", err)
	if ver == nil || ver.ComponentVersion == "" {
		t.Fatalf("EngineVersion: %+v", ver)
	}
	product, err := g.ProductVersion(ctx)
	mustNot(t, "ProductVersion", err)
	docs, err := g.GetDocList(ctx)
	mustNot(t, "GetDocList", err)
	if len(docs) == 0 || product == "" {
		t.Fatalf("GetDocList %+v, ProductVersion %q", docs, product)
	}
	_, err = g.IsDesktopMode(ctx)
	mustNot(t, "IsDesktopMode", err)
	osName, err := g.OSName(ctx)
	mustNot(t, "OSName", err)
	id, err := g.GetUniqueID(ctx)
	mustNot(t, "GetUniqueID", err)
	if osName == "" || id == "" {
		t.Fatalf("OSName %q, GetUniqueID %q", osName, id)
	}
	doc, err := g.OpenDoc(ctx, "demo", nil)
	mustNot(t, "OpenDoc", err)
	active, err := g.GetActiveDoc(ctx)
	mustNot(t, "GetActiveDoc", err)
	if active == nil || active.Handle() != doc.Handle() {
		t.Fatalf("GetActiveDoc: %v", active)
	}

	// Doc
	appLayout, err := doc.GetAppLayout(ctx)
	mustNot(t, "GetAppLayout", err)
	if appLayout.Title == "" && appLayout.FileName == "" {
		t.Fatalf("GetAppLayout: %+v", appLayout)
	}
	tables, err := doc.GetTablesAndKeys(ctx, &qix.Size{Cx: 100, Cy: 100}, &qix.Size{}, 10, false, false, nil)
	mustNot(t, "GetTablesAndKeys", err)
	if len(tables.Tr) != 4 {
		t.Fatalf("GetTablesAndKeys: %d tables", len(tables.Tr))
	}
	sum, err := doc.Evaluate(ctx, "Sum(Sales)")
	mustNot(t, "Evaluate", err)
	value, err := doc.EvaluateEx(ctx, "1+1")
	mustNot(t, "EvaluateEx", err)
	if sum == "" || float64(value.Number) != 2 || !value.IsNumeric {
		t.Fatalf("Evaluate %q, EvaluateEx %+v", sum, value)
	}
	cube, err := doc.CreateSessionObject(ctx, &qix.GenericObjectProperties{
		Info: &qix.NxInfo{Type: "sales"},
		HyperCubeDef: &qix.HyperCubeDef{
			Dimensions: []qix.NxDimension{{Def: &qix.NxInlineDimensionDef{FieldDefs: []string{"Region"}}}},
			Measures:   []qix.NxMeasure{{Def: &qix.NxInlineMeasureDef{Def: "Sum(Sales)"}}},
		},
	})
	mustNot(t, "CreateSessionObject", err)
	missing, err := doc.GetObject(ctx, "no-such-object")
	if missing != nil || err != nil {
		t.Fatalf("GetObject of a missing id: %v, %v (want nil, nil)", missing, err)
	}
	same, err := doc.GetObject(ctx, cube.GenericID())
	mustNot(t, "GetObject", err)
	if same == nil || same.GenericID() != cube.GenericID() {
		t.Fatalf("GetObject: %v", same)
	}
	infos, err := doc.GetAllInfos(ctx)
	mustNot(t, "GetAllInfos", err)
	if len(infos) == 0 {
		t.Fatal("GetAllInfos: none")
	}

	// GenericObject: layout, paging, selection
	layout, err := cube.GetLayout(ctx)
	mustNot(t, "GetLayout", err)
	if layout.HyperCube == nil || layout.HyperCube.Size.Cx != 2 || layout.HyperCube.Size.Cy != 6 {
		t.Fatalf("GetLayout: %+v", layout.HyperCube)
	}
	pages, err := cube.GetHyperCubeData(ctx, "/qHyperCubeDef", []qix.NxPage{{Top: 2, Width: 2, Height: 3}})
	mustNot(t, "GetHyperCubeData", err)
	if len(pages) != 1 || len(pages[0].Matrix) != 3 || pages[0].Area.Top != 2 || pages[0].Matrix[0][1].Text == "" {
		t.Fatalf("GetHyperCubeData: %+v", pages)
	}
	info, err := cube.GetInfo(ctx)
	mustNot(t, "GetInfo", err)
	if info.Id != cube.GenericID() || info.Type != "sales" {
		t.Fatalf("GetInfo: %+v", info)
	}
	changed := cube.Changed()
	ok, err := cube.SelectHyperCubeValues(ctx, "/qHyperCubeDef", 0, []int32{pages[0].Matrix[0][0].ElemNumber}, false)
	mustNot(t, "SelectHyperCubeValues", err)
	if !ok {
		t.Fatal("SelectHyperCubeValues: false")
	}
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("no changed signal after SelectHyperCubeValues")
	}
	layout, err = cube.GetLayout(ctx)
	mustNot(t, "GetLayout after the selection", err)
	if layout.HyperCube.Size.Cy != 1 || layout.HyperCube.DataPages != nil && len(layout.HyperCube.DataPages) > 0 &&
		layout.HyperCube.DataPages[0].Matrix[0][0].State != qix.StateEnumTypeSelected {
		t.Fatalf("after the selection: %+v", layout.HyperCube)
	}
	mustNot(t, "ClearSelections", cube.ClearSelections(ctx, "/qHyperCubeDef", nil))

	// Field
	field, err := doc.GetField(ctx, "Category", nil)
	mustNot(t, "GetField", err)
	cardinal, err := field.GetCardinal(ctx)
	mustNot(t, "GetCardinal", err)
	if cardinal < 2 {
		t.Fatalf("GetCardinal: %d", cardinal)
	}
	if ok, err := field.Select(ctx, "Bikes", nil); err != nil || !ok {
		t.Fatalf("Select: %v %v", ok, err)
	}
	if ok, err := field.ToggleSelect(ctx, "Bikes", &qix.FieldToggleSelectOptions{SoftLock: false}); err != nil || !ok {
		t.Fatalf("ToggleSelect: %v %v", ok, err)
	}
	if ok, err := field.SelectValues(ctx, []qix.FieldValue{{Text: "Bikes"}}, &qix.FieldSelectValuesOptions{ToggleMode: false}); err != nil || !ok {
		t.Fatalf("SelectValues: %v %v", ok, err)
	}
	for name, call := range map[string]func(context.Context) (bool, error){"Lock": field.Lock, "Unlock": field.Unlock, "Clear": field.Clear} {
		if _, err := call(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := field.SelectAll(ctx, nil); err != nil {
		t.Fatalf("SelectAll: %v", err)
	}
	mustNot(t, "ClearAll", doc.ClearAll(ctx, &qix.DocClearAllOptions{LockedAlso: true}))

	// GenericVariable
	variable, err := doc.CreateSessionVariable(ctx, &qix.GenericVariableProperties{
		Info: &qix.NxInfo{Type: "variable"}, Name: "vTyped", Definition: "=1+2"})
	mustNot(t, "CreateSessionVariable", err)
	mustNot(t, "SetNumValue", variable.SetNumValue(ctx, 42))
	byName, err := doc.GetVariableByName(ctx, "vTyped")
	mustNot(t, "GetVariableByName", err)
	vlayout, err := byName.GetLayout(ctx)
	mustNot(t, "GenericVariable.GetLayout", err)
	if vlayout.Num != 42 {
		t.Fatalf("GenericVariable.GetLayout: %+v", vlayout)
	}
	mustNot(t, "SetStringValue", variable.SetStringValue(ctx, "x"))
	vprops, err := variable.GetProperties(ctx)
	mustNot(t, "GenericVariable.GetProperties", err)
	if vprops.Name != "vTyped" {
		t.Fatalf("GenericVariable.GetProperties: %+v", vprops)
	}
	byID, err := doc.GetVariableById(ctx, variable.GenericID())
	mustNot(t, "GetVariableById", err)
	if byID == nil {
		t.Fatal("GetVariableById: nil")
	}

	// The classes the simulator has no objects of, on handles it has.
	dimension := &qix.GenericDimension{Object: cube.Object}
	if info, err := dimension.GetInfo(ctx); err != nil || info.Id != cube.GenericID() {
		t.Fatalf("GenericDimension.GetInfo: %+v %v", info, err)
	}
	measure := &qix.GenericMeasure{Object: cube.Object}
	if l, err := measure.GetLayout(ctx); err != nil || l.Info == nil || l.Info.Id != cube.GenericID() {
		t.Fatalf("GenericMeasure.GetLayout: %+v %v", l, err)
	}
	bookmark := &qix.GenericBookmark{Object: cube.Object}
	if p, err := bookmark.GetProperties(ctx); err != nil || p.Info == nil || p.Info.Type != "sales" {
		t.Fatalf("GenericBookmark.GetProperties: %+v %v", p, err)
	}
	// Methods the simulator lacks: engine errors, as *qix.Error.
	oldVariable := &qix.Variable{Object: variable.Object}
	_, err = oldVariable.GetNxProperties(ctx)
	var qerr *qix.Error
	if !errors.As(err, &qerr) || qerr.Status != qix.ErrEngine || !errors.Is(err, qix.ErrEngine) {
		t.Fatalf("Variable.GetNxProperties on the simulator: %v (want an engine error)", err)
	}
	_, err = doc.CreateDimension(ctx, &qix.GenericDimensionProperties{Info: &qix.NxInfo{Type: "dimension"}})
	if !errors.Is(err, qix.ErrEngine) {
		t.Fatalf("CreateDimension on the simulator: %v (want an engine error)", err)
	}

	destroyed, err := doc.DestroySessionObject(ctx, cube.GenericID())
	mustNot(t, "DestroySessionObject", err)
	if !destroyed {
		t.Fatal("DestroySessionObject: false")
	}
}

// GetProperties -> SetProperties keeps a member the typed struct does not know.
func TestTypedPropertiesRoundTripUnknownMembers(t *testing.T) {
	ctx := testContext(t)
	s := dial(t, shared.url("demo"))
	g, err := s.Global()
	mustNot(t, "Global", err)
	doc, err := g.OpenDoc(ctx, "demo", nil)
	mustNot(t, "OpenDoc", err)
	props := &qix.GenericObjectProperties{
		Info:  &qix.NxInfo{Type: "round-trip"},
		Extra: map[string]json.RawMessage{"myTitle": json.RawMessage(`{"text":"kept","n":[1,2]}`)},
		HyperCubeDef: &qix.HyperCubeDef{
			Dimensions: []qix.NxDimension{{Def: &qix.NxInlineDimensionDef{FieldDefs: []string{"Region"}}}},
		},
	}
	obj, err := doc.CreateSessionObject(ctx, props)
	mustNot(t, "CreateSessionObject", err)
	read, err := obj.GetProperties(ctx)
	mustNot(t, "GetProperties", err)
	if string(read.Extra["myTitle"]) != `{"text":"kept","n":[1,2]}` {
		t.Fatalf("GetProperties: Extra %v", read.Extra)
	}
	read.Extra["other"] = json.RawMessage(`"added"`)
	read.HyperCubeDef.Measures = []qix.NxMeasure{{Def: &qix.NxInlineMeasureDef{Def: "Sum(Sales)"}}}
	mustNot(t, "SetProperties", obj.SetProperties(ctx, read))
	again, err := obj.GetProperties(ctx)
	mustNot(t, "GetProperties again", err)
	if string(again.Extra["myTitle"]) != `{"text":"kept","n":[1,2]}` || string(again.Extra["other"]) != `"added"` ||
		len(again.HyperCubeDef.Measures) != 1 {
		t.Fatalf("after SetProperties: Extra %v, measures %d", again.Extra, len(again.HyperCubeDef.Measures))
	}
	layout, err := obj.GetLayout(ctx)
	mustNot(t, "GetLayout", err)
	if string(layout.Extra["myTitle"]) != `{"text":"kept","n":[1,2]}` {
		t.Fatalf("GetLayout: Extra %v", layout.Extra)
	}
}

// The reader of one out value finds the member as encoding/json's map would, whatever the other members
// hold (nested objects, arrays, strings with escapes and brackets, scalars, blanks), and hands what it does
// not read (escaped names, malformed text) to encoding/json.
func TestMemberReader(t *testing.T) {
	cases := []string{
		`{"qVersion":{"qComponentVersion":"12.1"}}`,
		` { "a" : [1, {"b": "}]\"{"}], "qVersion" : "x\"y" , "c": null } `,
		`{"a":-1.5e3,"qVersion":true,"b":{"qVersion":1}}`,
		`{"qVersion":1,"qVersion":2}`,
		`{"a":{}}`,
		`{}`,
		`{"a":[],"qVersion":[{"x":[[]]}],"z":"\\"}`,
		"{\"a\":1,\n\t\"qVersion\"\r\n:\n7\n}",
	}
	for _, raw := range cases {
		var members map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &members); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		want, wantFound := members["qVersion"]
		got, found, scanned := qix.Member([]byte(raw), "qVersion")
		if !scanned {
			t.Errorf("%s: not scanned", raw)
			continue
		}
		if found != wantFound || strings.TrimSpace(string(got)) != strings.TrimSpace(string(want)) {
			t.Errorf("%s: got %q (%v), want %q (%v)", raw, got, found, want, wantFound)
		}
	}
	for _, raw := range []string{`{"q\u0056ersion":1}`, `[1]`, `{"a":1`, `{"a" 1}`, `{"a":"x}`, `null`, ``} {
		if _, _, scanned := qix.Member([]byte(raw), "qVersion"); scanned {
			t.Errorf("%s: scanned, want it left to encoding/json", raw)
		}
	}
}
