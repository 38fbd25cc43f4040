module github.com/libqix/libqix/examples/go

go 1.19

require github.com/libqix/libqix/bindings/go v0.0.0

// The example builds against the binding in this repository; a program of your own requires a
// released version instead (go get github.com/libqix/libqix/bindings/go).
replace github.com/libqix/libqix/bindings/go => ../../bindings/go
