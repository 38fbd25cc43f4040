# Warnings and sanitizer flags shared by every libqix target, applied through qix_target_defaults().

add_library(qix_build_flags INTERFACE)
target_compile_options(qix_build_flags INTERFACE
  $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough>
  $<$<COMPILE_LANG_AND_ID:C,GNU,Clang>:-Wall -Wextra -Wpedantic>
  $<$<BOOL:${QIX_WERROR}>:-Werror>)

if(QIX_SANITIZE)
  target_compile_options(qix_build_flags INTERFACE -fsanitize=${QIX_SANITIZE} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(qix_build_flags INTERFACE -fsanitize=${QIX_SANITIZE})
  # GCC warns that TSan does not model atomic_thread_fence, which Asio's headers use; the warning is
  # about the tool's coverage, not our code, so it must not stop -Werror builds.
  if(QIX_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(qix_build_flags INTERFACE -Wno-tsan)
  endif()
  # GCC 12 with -fsanitize=address reports -Wmaybe-uninitialized inside libstdc++'s <regex> (a std::function
  # in a temporary NFA state it builds itself; the CLI tests use <regex>): a false positive of the
  # instrumented build, kept from stopping -Werror builds. Plain builds keep the warning.
  if(QIX_SANITIZE MATCHES "address" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(qix_build_flags INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()

# Boost headers pull in code that trips our stricter warnings; treat them as system headers and keep
# Boost from trying to auto-link anything (we use it header-only).
add_library(qix_boost INTERFACE)
target_link_libraries(qix_boost INTERFACE Boost::headers)
target_compile_definitions(qix_boost INTERFACE BOOST_ALL_NO_LIB BOOST_JSON_NO_LIB BOOST_ASIO_NO_DEPRECATED)

# libFuzzer builds (QIX_FUZZ=ON): every target is instrumented for coverage, ASan and UBSan, so the
# fuzz targets (fuzz/) exercise instrumented core code, Boost.JSON included.
if(QIX_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "QIX_FUZZ=ON needs clang (e.g. CC=clang-14 CXX=clang++-14)")
  endif()
  target_compile_options(qix_build_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
    -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(qix_build_flags INTERFACE -fsanitize=address,undefined)
endif()

function(qix_target_defaults target)
  target_link_libraries(${target} PRIVATE qix_build_flags)
  set_target_properties(${target} PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
endfunction()

# Adds the label `threaded` (next to @p label) to the tests that gtest_discover_tests lists in the CTest
# variable @p test_list. gtest_discover_tests cannot give a test two labels itself (it flattens lists),
# so a CTest include file, read after the discovered tests, sets both.
function(qix_label_threaded test_list label)
  set(file ${CMAKE_CURRENT_BINARY_DIR}/${test_list}_threaded.cmake)
  file(WRITE ${file} "foreach(t IN LISTS ${test_list})\n  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${label};threaded\")\nendforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${file})
endfunction()
