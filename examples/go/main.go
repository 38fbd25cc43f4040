// Command select-changed is a complete Go program on libqix's Go binding.
//
// It opens the app "demo", creates a session hypercube (Sum(Sales) per Region), prints its layout,
// selects Category = Bikes, waits for the object's "changed" signal and prints the refreshed layout.
// It uses the typed API (qix.Global, qix.Doc, qix.GenericObject ...). Every call takes a context; the
// whole run is bounded by a 30 s deadline.
//
// Usage: select-changed [ws://host:port]   (default ws://127.0.0.1:9076; the app path /app/demo is added)
// Exit status: 0 on success, 1 on any failure (the error is printed).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/libqix/libqix/bindings/go/qix"
)

// salesCube is the hypercube's properties: Region x Sum(Sales), first page fetched with the layout.
var salesCube = &qix.GenericObjectProperties{
	Info: &qix.NxInfo{Type: "sales-by-region"},
	HyperCubeDef: &qix.HyperCubeDef{
		Dimensions:       []qix.NxDimension{{Def: &qix.NxInlineDimensionDef{FieldDefs: []string{"Region"}}}},
		Measures:         []qix.NxMeasure{{Def: &qix.NxInlineMeasureDef{Def: "Sum(Sales)"}}},
		InitialDataFetch: []qix.NxPage{{Width: 2, Height: 50}},
	},
}

// rows reads "Region: Sales" lines out of a hypercube layout.
func rows(layout *qix.GenericObjectLayout) []string {
	var out []string
	if layout.HyperCube == nil {
		return out
	}
	for _, p := range layout.HyperCube.DataPages {
		for _, r := range p.Matrix {
			if len(r) == 2 {
				out = append(out, r[0].Text+": "+r[1].Text)
			}
		}
	}
	return out
}

func run(ctx context.Context, base string) error {
	url := base + "/app/demo"
	fmt.Println("connecting to", url)
	session, err := qix.Dial(ctx, url)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer session.Close()

	global, err := session.Global()
	if err != nil {
		return err
	}
	doc, err := global.OpenDoc(ctx, "demo", nil)
	if err != nil {
		return fmt.Errorf("open the app: %w", err)
	}
	cube, err := doc.CreateSessionObject(ctx, salesCube)
	if err != nil {
		return fmt.Errorf("create the hypercube: %w", err)
	}
	fmt.Printf("created %s %s (handle %d)\n", cube.Type(), cube.GenericID(), cube.Handle())

	layout, err := cube.GetLayout(ctx)
	if err != nil {
		return fmt.Errorf("first layout: %w", err)
	}
	before := rows(layout)
	fmt.Println("first layout:", before)

	field, err := doc.GetField(ctx, "Category", nil)
	if err != nil {
		return fmt.Errorf("GetField: %w", err)
	}
	if _, err := field.Select(ctx, "Bikes", nil); err != nil {
		return fmt.Errorf("select: %w", err)
	}
	fmt.Println("selected Category = Bikes")

	select {
	case <-cube.Changed():
		fmt.Println("changed")
	case <-cube.Closed():
		return errors.New("the hypercube was closed")
	case <-ctx.Done():
		return fmt.Errorf("waiting for changed: %w", ctx.Err())
	}
	layout, err = cube.GetLayout(ctx)
	if err != nil {
		return fmt.Errorf("refreshed layout: %w", err)
	}
	after := rows(layout)
	fmt.Println("updated layout:", after)
	if fmt.Sprint(after) == fmt.Sprint(before) {
		return errors.New("the updated layout does not show the selection")
	}

	// Engine errors keep the engine's code and LOCERR name.
	_, err = doc.Evaluate(ctx, "Sum(")
	var qerr *qix.Error
	if errors.As(err, &qerr) {
		fmt.Printf("a bad expression gives engine error %d %s\n", qerr.Code, qerr.Name)
	}
	return nil
}

func main() {
	base := "ws://127.0.0.1:9076"
	if len(os.Args) > 1 {
		base = os.Args[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, base); err != nil {
		fmt.Fprintln(os.Stderr, "select-changed:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
