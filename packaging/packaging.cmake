# Install rules that belong to no single target, the CMake package configuration, pkg-config metadata,
# and CPack: Debian packages libqix1 (runtime), libqix-dev (development) and qix-tools (CLI + simulator).
# Included at the end of the root CMakeLists.txt. See packaging/README.md.
include(CMakePackageConfigHelpers)

set(QIX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/libqix)
install(EXPORT libqixTargets NAMESPACE qix:: DESTINATION ${QIX_CMAKE_DIR} FILE libqixTargets.cmake COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/libqixConfig.cmake.in
  ${PROJECT_BINARY_DIR}/packaging/libqixConfig.cmake INSTALL_DESTINATION ${QIX_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/packaging/libqixConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/packaging/libqixConfig.cmake ${PROJECT_BINARY_DIR}/packaging/libqixConfigVersion.cmake
  DESTINATION ${QIX_CMAKE_DIR} COMPONENT dev)

# libqix.pc: relocatable (the prefix is found from the .pc file's own folder).
file(RELATIVE_PATH QIX_PC_PREFIX_FROM_PCDIR ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" QIX_PC_PREFIX_FROM_PCDIR "${QIX_PC_PREFIX_FROM_PCDIR}")
if(QIX_PC_PREFIX_FROM_PCDIR STREQUAL "")
  set(QIX_PC_PREFIX_FROM_PCDIR ".")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/libqix.pc.in ${PROJECT_BINARY_DIR}/packaging/libqix.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/libqix.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# Manual pages and the documentation of each package (Debian wants a copyright file and a changelog in
# /usr/share/doc/<package> of every package).
# cli.md links reconnect.md: both go to /usr/share/doc/qix-tools (the man page points there).
install(FILES ${PROJECT_SOURCE_DIR}/docs/cli.md ${PROJECT_SOURCE_DIR}/docs/reconnect.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/qix-tools COMPONENT tools)
install(FILES ${PROJECT_SOURCE_DIR}/docs/c-api.md ${PROJECT_SOURCE_DIR}/docs/defaults.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libqix-dev COMPONENT dev)
find_program(QIX_GZIP gzip)
foreach(pkg_comp libqix1:runtime libqix-dev:dev qix-tools:tools)
  string(REPLACE ":" ";" pc ${pkg_comp})
  list(GET pc 0 pkg)
  list(GET pc 1 comp)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg}
    COMPONENT ${comp})
  if(QIX_GZIP)
    set(gz ${PROJECT_BINARY_DIR}/packaging/${pkg}/changelog.gz)
    add_custom_command(OUTPUT ${gz}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging/${pkg}
      COMMAND ${QIX_GZIP} -9nc ${CMAKE_CURRENT_LIST_DIR}/debian/changelog > ${gz}
      DEPENDS ${CMAKE_CURRENT_LIST_DIR}/debian/changelog VERBATIM)
    list(APPEND QIX_CHANGELOGS ${gz})
    install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${comp})
  endif()
endforeach()
# The manual pages, gzipped as Debian ships them (man reads both).
foreach(page qix.1 qix-engine-sim.1)
  if(QIX_GZIP)
    set(gz ${PROJECT_BINARY_DIR}/packaging/man/${page}.gz)
    add_custom_command(OUTPUT ${gz}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging/man
      COMMAND ${QIX_GZIP} -9nc ${CMAKE_CURRENT_LIST_DIR}/man/${page} > ${gz}
      DEPENDS ${CMAKE_CURRENT_LIST_DIR}/man/${page} VERBATIM)
    list(APPEND QIX_CHANGELOGS ${gz})
    install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
  else()
    install(FILES ${CMAKE_CURRENT_LIST_DIR}/man/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
  endif()
endforeach()
add_custom_target(qix_packaging_files ALL DEPENDS ${QIX_CHANGELOGS})

# ---------------------------------------------------------------------------------------------- CPack
set(CPACK_PACKAGE_NAME libqix)
# Each package's Description starts with its own synopsis (CPACK_DEBIAN_<COMPONENT>_DESCRIPTION below);
# an empty summary keeps CPack from prepending the project's description to all three.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGE_VENDOR "The libqix authors")
set(CPACK_PACKAGE_CONTACT "libqix maintainers <maintainers@libqix.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
# The library folder is fixed when the build is configured (GNUInstallDirs: lib/<multiarch> only for the
# prefix /usr), so `cpack` in a build configured for another prefix (the default /usr/local) still makes
# packages, with the library in /usr/lib; packaging/cpack-project.cmake says so when cpack runs, and
# scripts/package builds them from a build folder of their own configured with /usr.
set(CPACK_QIX_CONFIGURED_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/cpack-project.cmake)
set(CPACK_COMPONENTS_ALL runtime dev tools)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# qix-tools links libqix.so.1 of this build: dpkg-shlibdeps must find it there (CPack does not evaluate
# generator expressions, hence the target's binary folder, where libqix.so.1 is written).
get_target_property(QIX_SHARED_DIR qix_shared BINARY_DIR)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${QIX_SHARED_DIR})
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libqix1)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# The package that holds libqix.so.1 carries a shlibs file (packages built against it depend on
# "libqix1 (>= 1.0.0)": the ABI only grows within a major version) and the ldconfig trigger that Debian
# policy asks for (rather than CPack's ldconfig calls in maintainer scripts).
configure_file(${CMAKE_CURRENT_LIST_DIR}/debian/shlibs.in ${PROJECT_BINARY_DIR}/packaging/control/shlibs @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/debian/triggers ${PROJECT_BINARY_DIR}/packaging/control/triggers COPYONLY)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/packaging/control/shlibs ${PROJECT_BINARY_DIR}/packaging/control/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "client library for the Qlik QIX Engine (runtime)
libqix speaks the Qlik QIX Engine's JSON-RPC 2.0 over WebSocket protocol:
pipelined calls, object handles, change tracking, the delta protocol,
cancellation and TLS, behind a stable C ABI.

This package contains the shared library libqix.so.1.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libqix-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libqix1 (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE amd64)
set(CPACK_DEBIAN_DEV_DESCRIPTION "client library for the Qlik QIX Engine (development files)
libqix speaks the Qlik QIX Engine's JSON-RPC 2.0 over WebSocket protocol
through a stable C ABI.

This package contains the C header qix/qix.h, the header-only C++ facade
qix/qix.hpp, the CMake package (find_package(libqix)) and the pkg-config
metadata (libqix.pc).")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME qix-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
# dpkg-shlibdeps finds libqix.so.1 in the build tree (PRIVATE_DIRS above) but cannot know its package.
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "libqix1 (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "command-line client and simulator for the Qlik QIX Engine
qix calls, inspects, selects in, watches and bulk-extracts Qlik apps over
the QIX Engine API. qix-engine-sim is an offline QIX Engine simulator for
development and tests.")

include(CPack)
