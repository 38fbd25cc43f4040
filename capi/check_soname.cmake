# Checks the SONAME of libqix.so. Usage: cmake -DLIB=... -DSONAME=libqix.so.1 [-DREADELF=readelf] -P check_soname.cmake
if(NOT READELF)
  set(READELF readelf)
endif()
execute_process(COMMAND ${READELF} -d ${LIB} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "SONAME[^\n]*\\[${SONAME}\\]")
  message(FATAL_ERROR "SONAME of ${LIB} is not ${SONAME}:\n${out}")
endif()
