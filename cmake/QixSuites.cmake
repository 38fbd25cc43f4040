# The test suites that need tools beyond the C++ toolchain (the bindings' SDKs, Node.js), and QIX_REQUIRE_ALL.
#
# Without QIX_REQUIRE_ALL a suite whose tools are missing is left out and the configure step says so. With it
# (CI and scripts/test set it), a suite that would be left out fails the configure step instead, naming what
# is missing and how to get it: a suite never vanishes from a run silently.
#
# Each suite's CMake code reports itself with qix_suite_on(<name>) once its tests are registered, or
# qix_suite_off(<name> <why>). qix_check_suites(), called at the end of the top-level CMakeLists.txt, then
# checks every name in QIX_REQUIRED_SUITES: one that reported neither counts as off too.

# csharp, java, go, python: bindings/<name>. conformance: enigma.js and qsocks against the simulator
# (tests/conformance). spec: generated code matches its generators (tests/CMakeLists.txt, Python 3). odbc: the
# ODBC driver (odbc/, unixODBC, isql and pyodbc).
set(QIX_REQUIRED_SUITES csharp java go python conformance spec odbc)
# When a new suite lands, add its name
# above and call qix_suite_on()/qix_suite_off() from its CMakeLists.txt; scripts/install-deps installs its tools.

function(qix_suite_on name)
  set_property(GLOBAL APPEND PROPERTY QIX_SUITES_ON ${name})
endfunction()

# qix_suite_off(<name> <why> [<more of why>...]): the pieces are joined, so that a long reason can be split.
function(qix_suite_off name why)
  foreach(piece IN LISTS ARGN)
    string(APPEND why "${piece}")
  endforeach()
  set_property(GLOBAL PROPERTY QIX_SUITE_OFF_${name} "${why}")
endfunction()

# True (in ${out}) when ${path} names an existing file: find_program keeps a path given with -D as it is, even
# one that does not exist.
function(qix_program_usable out path)
  if(path AND EXISTS "${path}" AND NOT IS_DIRECTORY "${path}")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# option(${name} ...) whose default follows the toolchain: a value this function chose by itself (not one given
# with -D or edited in the cache) is re-chosen on each configure, so installing a suite's tools later turns it on
# without a fresh build directory.
macro(qix_auto_option name doc default)
  if(DEFINED CACHE{_${name}_AUTO} AND "${${name}}" STREQUAL "${_${name}_AUTO}"
     AND NOT "${default}" STREQUAL "${_${name}_AUTO}")
    set(${name} ${default} CACHE BOOL "${doc}" FORCE)
  endif()
  option(${name} "${doc}" ${default})
  set(_${name}_AUTO ${default} CACHE INTERNAL "${name} as chosen from the toolchain")
endmacro()

function(qix_check_suites)
  get_property(suites_on GLOBAL PROPERTY QIX_SUITES_ON)
  set(left_out "")
  foreach(suite IN LISTS QIX_REQUIRED_SUITES)
    if(suite IN_LIST suites_on)
      continue()
    endif()
    get_property(why GLOBAL PROPERTY QIX_SUITE_OFF_${suite})
    if(NOT why)
      set(why "not configured (QIX_BINDINGS=${QIX_BINDINGS}, QIX_BUILD_TESTS=${QIX_BUILD_TESTS})")
    endif()
    string(APPEND left_out "\n  ${suite}: ${why}")
  endforeach()
  if(NOT left_out)
    message(STATUS "Test suites: all of ${QIX_REQUIRED_SUITES} are on")
  elseif(QIX_REQUIRE_ALL)
    message(FATAL_ERROR "QIX_REQUIRE_ALL is ON, and these test suites cannot run:${left_out}\n"
      "Install what they need (scripts/install-deps installs every tool Debian packages and the conformance "
      "test's npm packages, and says how to get the .NET SDK), or configure with -DQIX_REQUIRE_ALL=OFF to "
      "leave them out knowingly.")
  else()
    message(STATUS "Test suites left out (QIX_REQUIRE_ALL=ON would make this an error):${left_out}")
  endif()
endfunction()
