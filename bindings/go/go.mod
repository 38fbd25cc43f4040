module github.com/libqix/libqix/bindings/go

go 1.19
