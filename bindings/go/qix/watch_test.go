package qix_test

import (
	"testing"

	"github.com/libqix/libqix/bindings/go/qix"
)

// next reads the watch's next update (a hang guard only: the context of the test).
func next(t *testing.T, w *qix.Watch) (qix.LayoutUpdate, bool) {
	t.Helper()
	select {
	case u, ok := <-w.C:
		return u, ok
	case <-testContext(t).Done():
		t.Fatal("no layout from the watch")
	}
	return qix.LayoutUpdate{}, false
}

// A watch delivers the layout at once (never fetched), then again after a selection changes it; Stop, a new
// Watch and Close end it (C closed).
func TestWatchDeliversFreshLayouts(t *testing.T) {
	ctx := testContext(t)
	s := dial(t, shared.url("demo"))
	g, err := s.Global()
	mustNot(t, "Global", err)
	doc, err := g.OpenDoc(ctx, "demo", nil)
	mustNot(t, "OpenDoc", err)
	cube, err := doc.CreateSessionObject(ctx, &qix.GenericObjectProperties{
		Info: &qix.NxInfo{Type: "watched"},
		HyperCubeDef: &qix.HyperCubeDef{
			Dimensions:       []qix.NxDimension{{Def: &qix.NxInlineDimensionDef{FieldDefs: []string{"Region"}}}},
			Measures:         []qix.NxMeasure{{Def: &qix.NxInlineMeasureDef{Def: "Sum(Sales)"}}},
			InitialDataFetch: []qix.NxPage{{Width: 2, Height: 10}},
		},
	})
	mustNot(t, "CreateSessionObject", err)
	w, err := cube.Watch()
	mustNot(t, "Watch", err)
	u, ok := next(t, w)
	var layout qix.GenericObjectLayout
	if !ok || u.Decode(&layout) != nil || layout.HyperCube == nil || layout.HyperCube.Size.Cy != 6 {
		t.Fatalf("first update: %v %+v", ok, u)
	}
	region, err := doc.GetField(ctx, "Region", nil)
	mustNot(t, "GetField", err)
	if _, err := region.Select(ctx, "Nordic", nil); err != nil {
		t.Fatal(err)
	}
	// The next layouts come from the watch alone (no GetLayout): wait for the one with the selection.
	for {
		u, ok := next(t, w)
		if !ok {
			t.Fatal("the watch ended")
		}
		if u.Err != nil {
			t.Fatalf("a watched fetch failed: %v", u.Err)
		}
		layout = qix.GenericObjectLayout{}
		mustNot(t, "Decode", u.Decode(&layout))
		if layout.HyperCube.Size.Cy == 1 {
			break
		}
	}
	mustNot(t, "Stop", w.Stop())
	if _, ok := next(t, w); ok {
		t.Fatal("C not closed after Stop")
	}
	mustNot(t, "Stop again", w.Stop())

	w1, err := cube.Watch()
	mustNot(t, "Watch", err)
	w2, err := cube.Watch()
	mustNot(t, "Watch again", err)
	for {
		if _, ok := next(t, w1); !ok {
			break // replaced by w2: closed (after any update it had pending)
		}
	}
	mustNot(t, "Close", cube.Close())
	for {
		if _, ok := next(t, w2); !ok {
			break // the handle's Close ended it
		}
	}
	if _, err := cube.Watch(); err == nil {
		t.Fatal("Watch on a closed handle")
	}
}
