# Install layout:
#   include/beskid/*.h                 every library's public headers (+ generated versions)
#   lib/libbeskid_<lib>.a              the five libraries and mimalloc, for linking à la carte
#   lib/libbeskid_runtime.a            the bundle an AOT program links
#   lib/cmake/Beskid/                  find_package(Beskid) -> beskid::runtime, beskid::<lib>
#   lib/pkgconfig/beskid.pc            pkg-config --cflags --libs beskid
include(CMakePackageConfigHelpers)

foreach(lib IN ITEMS platform objmodel gc builtins stdhost)
  set_target_properties(beskid_${lib} PROPERTIES EXPORT_NAME ${lib})
endforeach()
if(TARGET beskid_mimalloc AND NOT BESKID_SYSTEM_MIMALLOC)
  set_target_properties(beskid_mimalloc PROPERTIES EXPORT_NAME mimalloc)
endif()

set(BESKID_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Beskid)
install(EXPORT BeskidTargets NAMESPACE beskid:: DESTINATION ${BESKID_CMAKE_DIR})
configure_package_config_file(cmake/BeskidConfig.cmake.in
  ${CMAKE_BINARY_DIR}/BeskidConfig.cmake
  INSTALL_DESTINATION ${BESKID_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/BeskidConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/BeskidConfig.cmake ${CMAKE_BINARY_DIR}/BeskidConfigVersion.cmake
  DESTINATION ${BESKID_CMAKE_DIR})

configure_file(cmake/beskid.pc.in ${CMAKE_BINARY_DIR}/beskid.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/beskid.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
