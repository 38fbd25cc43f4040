module github.com/libqix/libqix/bench/compare/go

go 1.19

require github.com/libqix/libqix/bindings/go v0.0.0

// Built against the binding in this repository (as examples/go is).
replace github.com/libqix/libqix/bindings/go => ../../../bindings/go
