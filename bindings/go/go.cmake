# Runs the go command for CMake's build steps and CTest's tests:
#
#   cmake [-DHEADERS=a.h|b.hpp] -P go.cmake -- <go arguments>
#
# in the current directory, with the environment the caller set (GOCACHE, PKG_CONFIG_PATH ...; see
# CMakeLists.txt). The go command's build cache does not notice changes to C/C++ headers outside the
# package directory, and the facade qix/qix.hpp is header-only: so the headers' SHA-256 is passed in
# CGO_CPPFLAGS, which the cache does key on, and any change to them recompiles the cgo package.
set(args)
set(seen_separator FALSE)
foreach(i RANGE 1 ${CMAKE_ARGC})
  if(i EQUAL CMAKE_ARGC)
    break()
  endif()
  if(seen_separator)
    list(APPEND args "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(seen_separator TRUE)
  endif()
endforeach()
if(NOT args)
  message(FATAL_ERROR "usage: cmake [-DHEADERS=a.h|b.hpp] -P go.cmake -- <go arguments>")
endif()
if(NOT GO)
  set(GO go)
endif()

string(REPLACE "|" ";" headers "${HEADERS}")
set(digests "")
foreach(h IN LISTS headers)
  file(SHA256 "${h}" d)
  string(APPEND digests "${d}")
endforeach()
string(SHA256 digest "${digests}")
set(ENV{CGO_CPPFLAGS} "$ENV{CGO_CPPFLAGS} -DQIX_GO_HEADERS_SHA256=${digest}")

execute_process(COMMAND ${GO} ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  string(JOIN " " shown ${args})
  message(FATAL_ERROR "go ${shown}: ${rc}")
endif()
