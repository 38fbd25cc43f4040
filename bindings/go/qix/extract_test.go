package qix_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/libqix/libqix/bindings/go/qix"
)

// orderCube opens demo (2000 orders) and creates OrderId × Sum(Sales): 2000 rows, far more than a page
// of 7.
func orderCube(t *testing.T, s *qix.Session) (*qix.Doc, *qix.GenericObject) {
	t.Helper()
	ctx := testContext(t)
	g, err := s.Global()
	mustNot(t, "Global", err)
	doc, err := g.OpenDoc(ctx, "demo", nil)
	mustNot(t, "OpenDoc", err)
	cube, err := doc.CreateSessionObject(ctx, &qix.GenericObjectProperties{
		Info: &qix.NxInfo{Type: "orders"},
		HyperCubeDef: &qix.HyperCubeDef{
			Dimensions: []qix.NxDimension{{Def: &qix.NxInlineDimensionDef{FieldDefs: []string{"OrderId"}}}},
			Measures:   []qix.NxMeasure{{Def: &qix.NxInlineMeasureDef{Def: "Sum(Sales)"}}},
		},
	})
	mustNot(t, "CreateSessionObject", err)
	return doc, cube
}

// pageLoop reads the whole cube with plain GetHyperCubeData pages: the reference rows, as JSON text.
func pageLoop(t *testing.T, cube *qix.GenericObject) []string {
	t.Helper()
	ctx := testContext(t)
	layout, err := cube.GetLayout(ctx)
	mustNot(t, "GetLayout", err)
	size := layout.HyperCube.Size
	var rows []string
	for top := int32(0); top < size.Cy; top += 250 {
		pages, err := cube.GetHyperCubeData(ctx, "/qHyperCubeDef",
			[]qix.NxPage{{Top: top, Width: size.Cx, Height: 250}})
		mustNot(t, "GetHyperCubeData", err)
		for _, row := range pages[0].Matrix {
			rows = append(rows, rowText(t, row))
		}
	}
	if len(rows) != int(size.Cy) || len(rows) < 100 {
		t.Fatalf("page loop: %d rows of %d", len(rows), size.Cy)
	}
	return rows
}

func rowText(t *testing.T, row []qix.NxCell) string {
	t.Helper()
	b, err := json.Marshal(row)
	mustNot(t, "json.Marshal", err)
	return string(b)
}

func TestExtractDeliversEveryRowOnceInOrder(t *testing.T) {
	s := dial(t, shared.url("demo"))
	doc, cube := orderCube(t, s)
	want := pageLoop(t, cube)
	for _, opts := range []*qix.ExtractOptions{
		{PageHeight: 7, Window: 2, Buffer: 1},
		{PageHeight: 7, Window: 4, Buffer: 3},
		nil,
	} {
		rows, err := cube.Extract(testContext(t), "/qHyperCubeDef", opts)
		mustNot(t, "Extract", err)
		n := 0
		for rows.Next() {
			if rows.Index() != int64(n) {
				t.Fatalf("%+v: row %d has index %d", opts, n, rows.Index())
			}
			if n >= len(want) {
				t.Fatalf("%+v: more rows than the page loop's %d", opts, len(want))
			}
			if got := rowText(t, rows.Row()); got != want[n] {
				t.Fatalf("%+v: row %d is %s, the page loop's %s", opts, n, got, want[n])
			}
			if n%500 == 0 {
				// A call on the same session between rows, while the buffer is full: back-pressure must
				// not hold its answer back.
				_, err := doc.Evaluate(testContext(t), "Count(OrderId)")
				mustNot(t, "Evaluate while extracting", err)
			}
			n++
		}
		mustNot(t, "Rows.Err", rows.Err())
		mustNot(t, "Rows.Close", rows.Close())
		if n != len(want) {
			t.Fatalf("%+v: %d rows, want %d", opts, n, len(want))
		}
		if rows.Next() {
			t.Fatal("Next after the end")
		}
	}
}

func TestExtractStopsEarly(t *testing.T) {
	s := dial(t, shared.url("demo"))
	_, cube := orderCube(t, s)

	// Close after a few rows: Next is false, no error, the session goes on.
	rows, err := cube.Extract(testContext(t), "/qHyperCubeDef", &qix.ExtractOptions{PageHeight: 7, Window: 3, Buffer: 2})
	mustNot(t, "Extract", err)
	for i := 0; i < 10; i++ {
		if !rows.Next() {
			t.Fatalf("only %d rows: %v", i, rows.Err())
		}
	}
	mustNot(t, "Close", rows.Close())
	if rows.Next() {
		t.Fatal("Next after Close")
	}
	mustNot(t, "Err after Close", rows.Err())
	mustNot(t, "Close again", rows.Close())

	// Cancel the context: ErrCancelled wrapping context.Canceled.
	ctx, cancel := context.WithCancel(testContext(t))
	rows, err = cube.Extract(ctx, "/qHyperCubeDef", &qix.ExtractOptions{PageHeight: 7, Window: 2, Buffer: 1})
	mustNot(t, "Extract", err)
	for i := 0; i < 3; i++ {
		if !rows.Next() {
			t.Fatalf("only %d rows: %v", i, rows.Err())
		}
	}
	cancel()
	n := 0
	for rows.Next() {
		n++ // rows already buffered may still come; the loop ends
	}
	e := asError(t, rows.Err())
	if e.Status != qix.ErrCancelled || !errors.Is(rows.Err(), context.Canceled) {
		t.Fatalf("Err after cancel: %v", rows.Err())
	}
	if n > 2000 {
		t.Fatalf("%d rows after cancel", n)
	}
	mustNot(t, "Close", rows.Close())

	// A context that ended before: Extract fails at once.
	if _, err := cube.Extract(ctx, "/qHyperCubeDef", nil); asError(t, err).Status != qix.ErrCancelled {
		t.Fatalf("Extract with an ended context: %v", err)
	}

	// The session is not stalled: calls and a whole new extraction work.
	_, err = cube.GetLayout(testContext(t))
	mustNot(t, "GetLayout after stopping", err)
	rows, err = cube.Extract(testContext(t), "/qHyperCubeDef", &qix.ExtractOptions{PageHeight: 7, Window: 2})
	mustNot(t, "Extract", err)
	n = 0
	for rows.Next() {
		n++
	}
	mustNot(t, "Rows.Err", rows.Err())
	if n != 2000 {
		t.Fatalf("%d rows, want 2000", n)
	}
}

func TestExtractErrors(t *testing.T) {
	s := dial(t, shared.url("demo"))
	_, cube := orderCube(t, s)

	// A path that names no hypercube: ErrInvalid, from Extract or at the end of the loop.
	rows, err := cube.Extract(testContext(t), "/qNoSuchDef", nil)
	if err == nil {
		for rows.Next() {
			t.Fatal("a row from a path that names no hypercube")
		}
		err = rows.Err()
		rows.Close()
	}
	if e := asError(t, err); e.Status != qix.ErrInvalid {
		t.Fatalf("bad path: %v", err)
	}

	if _, err := cube.Extract(testContext(t), "/qHyperCubeDef", &qix.ExtractOptions{Window: -1}); asError(t, err).Status != qix.ErrInvalid {
		t.Fatalf("negative window: %v", err)
	}

	// The session closes while the row callback waits for room in a full buffer: Close does not hang,
	// the loop ends with ErrClosed.
	rows, err = cube.Extract(testContext(t), "/qHyperCubeDef", &qix.ExtractOptions{PageHeight: 7, Window: 2, Buffer: 1})
	mustNot(t, "Extract", err)
	if !rows.Next() {
		t.Fatalf("no first row: %v", rows.Err())
	}
	s.Close()
	for rows.Next() {
	}
	if e := asError(t, rows.Err()); e.Status != qix.ErrClosed {
		t.Fatalf("after the session's Close: %v", rows.Err())
	}
	rows.Close()

	// A closed object or session: ErrClosed.
	if _, err := cube.Extract(testContext(t), "/qHyperCubeDef", nil); asError(t, err).Status != qix.ErrClosed {
		t.Fatalf("Extract on a closed session: %v", err)
	}
}
