/* Checks that SWIG 4.1 parses the public headers (qix.h and the C++ facade qix.hpp), with directors for the
   listener interfaces, as the bindings use them. Run by the CTest test capi.swig_parse. */
%module(directors="1") qix_swig_parse
%{
#include "qix/qix.hpp"
%}
%include <std_string.i>
%include <stdint.i>
%feature("director") qix::CallListener;
%feature("director") qix::ObjectListener;
%feature("director") qix::SessionListener;
%include "qix/qix.h"
%include "qix/qix.hpp"
