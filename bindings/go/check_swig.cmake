# Fails when the committed SWIG output (internal/qixswig/qixswig.go, qixswig_wrap.cxx) differs from what
# SWIG generates now from qixswig.i, bridge.hpp, the shared policy and the public headers.
#   cmake -DGENERATED=<dir> -DCOMMITTED=<dir> -DSTAMP=<file> -P check_swig.cmake
foreach(f qixswig.go qixswig_wrap.cxx)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${GENERATED}/${f}" "${COMMITTED}/${f}"
    RESULT_VARIABLE differs)
  if(differs)
    message(FATAL_ERROR
      "bindings/go/internal/qixswig/${f} is out of date with its SWIG sources (qixswig.i, bridge.hpp, "
      "bindings/swig/qix_common.i, include/qix/*). Regenerate it with\n"
      "  cmake --build <build dir> --target qix_go_swig_update\n"
      "and commit the result (the Go module ships the generated files, so `go get` needs no SWIG).")
  endif()
endforeach()
file(TOUCH "${STAMP}")
