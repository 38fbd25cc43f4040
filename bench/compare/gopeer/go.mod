module github.com/libqix/libqix/bench/compare/gopeer

go 1.19

require github.com/gorilla/websocket v1.5.0

// Debian's copy (golang-github-gorilla-websocket-dev, installed by scripts/install-deps): no module proxy is
// needed to build it.
replace github.com/gorilla/websocket => /usr/share/gocode/src/github.com/gorilla/websocket
