# Read by cpack (CPACK_PROJECT_CONFIG_FILE, set in packaging/packaging.cmake) before it builds packages.
# A build configured for a prefix other than /usr still packages into /usr, but with the library in
# /usr/lib instead of Debian's /usr/lib/<multiarch> (lintian: pkg-config-unavailable-for-cross-compilation).
if(CPACK_GENERATOR STREQUAL "DEB" AND NOT CPACK_QIX_CONFIGURED_PREFIX STREQUAL "/usr")
  message(WARNING "this build was configured with CMAKE_INSTALL_PREFIX=${CPACK_QIX_CONFIGURED_PREFIX}: the "
    "packages put libqix in /usr/lib, not in Debian's /usr/lib/<multiarch>. scripts/package builds them "
    "properly (a build folder of their own configured with /usr); see packaging/README.md.")
endif()
