# Fails when a symbol of the committed export list (capi/libqix.symbols) is not named in CHANGELOG.md:
# a new symbol is a deliberate change, recorded in the "New symbols" section of its release.
# Usage: cmake -DSYMBOLS=libqix.symbols -DCHANGELOG=CHANGELOG.md -P check_changelog.cmake
file(STRINGS ${SYMBOLS} symbols)
file(READ ${CHANGELOG} changelog)
set(missing "")
foreach(s IN LISTS symbols)
  string(FIND "${changelog}" "`${s}`" at)
  if(at EQUAL -1)
    list(APPEND missing ${s})
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "CHANGELOG.md does not list these exported symbols (add them to \"New symbols\"): ${missing}")
endif()
list(LENGTH symbols n)
message(STATUS "CHANGELOG.md names all ${n} exported symbols")
