/*
 * The SWIG policy shared by every libqix binding (C#, Java, Go).
 *
 * A language's own interface file (bindings/<lang>/*.i) declares its %module, its typemaps, its renames
 * and its exception mapping (%exception around qix::Error), then %includes this file last.
 *
 * What is wrapped: the C++ facade qix/qix.hpp (RAII classes Options, Context, Session, Object, Result,
 * Error and the listener interfaces) and the enums of qix/qix.h (status codes, states, call flags).
 * The C functions themselves are not wrapped: the facade calls them. A binding that needs one (the Go
 * binding's poll loop, say) un-ignores it by name in its own file, before including this one.
 *
 * Defines a language file may set before including this file:
 *   QIX_SWIG_DIRECTORS  generate directors for qix::CallListener, ObjectListener and SessionListener
 *                       (the module must then be declared with %module(directors="1")).
 */

%{
#include "qix/qix.hpp"
%}

%include <std_string.i>
%include <stdint.i>

/* The C API's free functions stay unwrapped (see above); classes, members and enums are kept. */
%rename("$ignore", %$isfunction, %$not %$ismember, regextarget=1) "^qix_";

/* Raw C handles never cross into a managed language: ownership would be lost. */
%ignore qix::Object::c_handle;
%ignore qix::Session::c_handle;
%ignore qix::Context::handle;
%ignore qix::Options::handle;
/* Nor do a session's poll descriptor, a host's thread starter and poll-ready function (std::function: no
 * binding maps them; the Go binding's bridge uses the C functions). */
%ignore qix::Session::poll_fd;
%ignore qix::Session::set_poll_ready;
%ignore qix::Context::ThreadStarter;
%ignore qix::Context::Context(int, int, ThreadStarter);

#ifdef QIX_SWIG_DIRECTORS
%feature("director") qix::CallListener;
%feature("director") qix::ObjectListener;
%feature("director") qix::SessionListener;
#endif

%include "qix/qix.h"
%include "qix/qix.hpp"
