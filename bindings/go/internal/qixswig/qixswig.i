/*
 * The Go binding's SWIG interface: generates package qixswig (internal to the module
 * bindings/go) with `swig -go -cgo -intgosize 64 -c++`. CMake regenerates it into the build tree and
 * fails when the committed qixswig.go / qixswig_wrap.cxx differ (see bindings/go/CMakeLists.txt), so
 * `go get` users need no SWIG and the committed output cannot drift.
 *
 * What Go uses: the facade's classes (qix::Object for handles, qix::Error for details, qix::Result inside
 * events) and the bridge (bridge.hpp): a Conn that opens its session in poll mode and turns every
 * callback into an Event that Go takes out, so no event reaches Go by C calling it (no directors: see
 * docs/go.md); C calls Go only to say "poll now" and to start libqix's threads (hosted.go).
 */
%module qixswig

/* cgo finds libqix through pkg-config (a build-tree libqix-go-build.pc in CTest, the installed
 * libqix.pc for users). These lines go into the cgo preamble of qixswig.go. */
%insert(cgo_comment_typedefs) %{
#cgo pkg-config: libqix
#cgo CXXFLAGS: -std=c++17
%}

%{
#include "bridge.hpp"
%}

/* Go names: members in CamelCase (engine_code -> EngineCode); SWIG capitalises the first letter. */
%rename("%(camelcase)s", %$isfunction, %$ismember) "";

/* A facade member that throws (the public package never calls one: the bridge returns errors as
 * values) becomes a Go panic; the message is copied out of the catch block first so that no C++
 * exception is being handled while Go unwinds. */
%exception {
  std::string qixgo_panic;
  try {
    $action
  } catch (const std::exception& e) {
    qixgo_panic = std::string("qix: ") + e.what();
  } catch (...) {
    qixgo_panic = "qix: unknown C++ exception";
  }
  if (!qixgo_panic.empty()) _swig_gopanic(qixgo_panic.c_str());
}

/* The bridge's returned pointers are new objects owned by Go (deleted explicitly). */
%newobject qixgo::Conn::set_str;
%newobject qixgo::Conn::set_int;
%newobject qixgo::Conn::set_bool;
%newobject qixgo::Conn::add_header;
%newobject qixgo::Conn::add_cookie;
%newobject qixgo::Conn::log_traffic;
%newobject qixgo::Conn::open;
%newobject qixgo::Conn::global;
%newobject qixgo::Conn::watch;
%newobject qixgo::Event::take_object;
%newobject qixgo::Conn::extract;
%newobject qixgo::set_io_spin;
/* Extractions come from Conn::extract only. */
%nodefaultctor qixgo::Extraction;

/* Conn::take's buffer: a Go []byte that C fills during the call (cgo allows passing Go memory that holds
 * no Go pointers; C does not keep it). */
%typemap(gotype) (char* buf, size_t cap) "[]byte"
%typemap(in) (char* buf, size_t cap) %{
  $1 = static_cast<char*>($input.array);
  $2 = static_cast<size_t>($input.len);
%}

/* qix::Error's base: known to SWIG (no warning) but not wrapped (Go reads the getters). */
%ignore std::runtime_error;
namespace std {
  class runtime_error {};
}

%include "../../../swig/qix_common.i"
%include "bridge.hpp"
