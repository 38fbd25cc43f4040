# Test go_cache_follows_libqix: the tree's go command (go.cmake) must not reuse the cgo package compiled
# for this build tree's libqix when pkg-config answers differently, e.g. because libqix moved. The go
# command alone would: it keys its cache on CGO_* variables but not on pkg-config's answer (go.cmake).
#
#   cmake -E env <the go environment of CMakeLists.txt> \
#     cmake -DGO=go -DHEADERS=a.h|b.hpp -DWORK=<scratch folder> -P cache_key_test.cmake
#
# in bindings/go, after the target qix_go has built the module (so the package is in the build cache).
# `go list` computes the package's cache key without building anything: with this build tree's
# libqix-uninstalled.pc the compiled package must be found in the cache; with the same file moved to
# another folder (every path in it changed accordingly) it must not.
foreach(v GO HEADERS WORK)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "cache_key_test.cmake: -D${v}= is missing")
  endif()
endforeach()
set(pc_dir "$ENV{PKG_CONFIG_PATH}")
set(pc "${pc_dir}/libqix-uninstalled.pc")
if(NOT EXISTS "${pc}")
  message(FATAL_ERROR "no ${pc}: PKG_CONFIG_PATH must name the build tree's pkgconfig folder")
endif()
get_filename_component(build_tree "${pc_dir}" DIRECTORY)

function(stale_reason out)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -DGO=${GO} "-DHEADERS=${HEADERS}" -P ${CMAKE_CURRENT_LIST_DIR}/go.cmake
      -- list -f "{{.StaleReason}}" ./internal/qixswig
    OUTPUT_VARIABLE reason OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "go list failed: ${rc}")
  endif()
  set(${out} "${reason}" PARENT_SCOPE)
endfunction()

stale_reason(here)
message(STATUS "libqix of ${build_tree}: qixswig is '${here}'")
if(NOT here MATCHES "available in build cache")
  message(FATAL_ERROR "the package compiled for this build tree's libqix is not in the build cache "
    "(go list: '${here}'): was the target qix_go built?")
endif()

file(READ "${pc}" content)
string(REPLACE "${build_tree}" "${WORK}/moved" moved "${content}")
if(moved STREQUAL content)
  message(FATAL_ERROR "${pc} does not name ${build_tree}")
endif()
file(REMOVE_RECURSE "${WORK}")
file(WRITE "${WORK}/pkgconfig/libqix-uninstalled.pc" "${moved}")
set(ENV{PKG_CONFIG_PATH} "${WORK}/pkgconfig")
stale_reason(moved_reason)
message(STATUS "libqix moved to ${WORK}/moved: qixswig is '${moved_reason}'")
file(REMOVE_RECURSE "${WORK}")
if(moved_reason MATCHES "available in build cache")
  message(FATAL_ERROR "after libqix moved, the go command would reuse the package compiled for the old "
    "location (go list: '${moved_reason}')")
endif()
message(STATUS "ok")
