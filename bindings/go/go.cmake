# Runs the go command for CMake's build steps and CTest's tests:
#
#   cmake [-DHEADERS=a.h|b.hpp] -P go.cmake -- <go arguments>
#
# in the current directory, with the environment the caller set (GOCACHE, PKG_CONFIG_PATH ...; see
# CMakeLists.txt). The go command keys a cgo package in its build cache on the package's files, its #cgo
# lines, the CGO_* variables and the compiler, and on nothing else:
#  - not on C/C++ headers outside the package directory (and the facade qix/qix.hpp is header-only);
#  - not on what pkg-config answers: it runs pkg-config only when it compiles the package, and the flags
#    (-I, -L, the rpath) are stored with the compiled package, so a libqix.pc with other paths or flags
#    would be ignored in favour of a package built and linked against the previous libqix.
# So the SHA-256 of the headers and of `pkg-config --cflags --libs libqix` is passed in CGO_CPPFLAGS, which
# the cache does key on: any change to either recompiles the cgo package. (Users outside the tree have no
# such wrapper: docs/go.md, "When libqix changes", tells them when to run `go clean -cache`.)
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
if(DEFINED ENV{PKG_CONFIG})
  set(pkg_config "$ENV{PKG_CONFIG}")
else()
  set(pkg_config pkg-config)
endif()
execute_process(COMMAND ${pkg_config} --cflags --libs libqix OUTPUT_VARIABLE pc_flags ERROR_VARIABLE pc_flags
  RESULT_VARIABLE pc_rc)
string(APPEND digests "pkg-config ${pc_rc}: ${pc_flags}")
string(SHA256 digest "${digests}")
set(ENV{CGO_CPPFLAGS} "$ENV{CGO_CPPFLAGS} -DQIX_GO_LIBQIX_SHA256=${digest}")

execute_process(COMMAND ${GO} ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  string(JOIN " " shown ${args})
  message(FATAL_ERROR "go ${shown}: ${rc}")
endif()
