module github.com/libqix/libqix/examples/go

go 1.19

require github.com/libqix/libqix/bindings/go v0.0.0

// The example builds against the binding in this repository. A program of your own does the same with
// the path of your clone: docs/go.md, "Using the module" (the module is not published yet).
replace github.com/libqix/libqix/bindings/go => ../../bindings/go
