# Writes the list of the .java files SWIG generated in DIR to OUT (one quoted path a line: a javac @file).
# Run at build time, after SWIG: which classes it generates is known only then.
file(GLOB sources ${DIR}/*.java)
list(SORT sources)
set(text "")
foreach(f IN LISTS sources)
  string(APPEND text "\"${f}\"\n")
endforeach()
file(WRITE ${OUT} "${text}")
