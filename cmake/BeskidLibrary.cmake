# beskid_add_library(<lib> SOURCES ... [DEPS beskid::x ...])
#
# Declares one runtime library from libs/<lib>: a static archive libbeskid_<lib>.a, the alias
# target beskid::<lib>, a version header <beskid/<lib>_version.h> generated from libs/<lib>/VERSION
# and the query beskid_<lib>_version(). DEPS are the only libraries it may use.
function(beskid_add_library lib)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  # Re-configure when the file changes, so the generated header never lags behind it.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/VERSION")
  file(STRINGS "${CMAKE_CURRENT_SOURCE_DIR}/VERSION" version LIMIT_COUNT 1)
  if(NOT version MATCHES "^([0-9]+)\\.([0-9]+)\\.([0-9]+)$")
    message(FATAL_ERROR "libs/${lib}/VERSION is not MAJOR.MINOR.PATCH: '${version}'")
  endif()
  set(BESKID_LIB ${lib})
  string(TOUPPER ${lib} BESKID_LIB_UPPER)
  set(BESKID_LIB_VERSION ${version})
  set(BESKID_LIB_VERSION_MAJOR ${CMAKE_MATCH_1})
  set(BESKID_LIB_VERSION_MINOR ${CMAKE_MATCH_2})
  set(BESKID_LIB_VERSION_PATCH ${CMAKE_MATCH_3})
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/generated)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/version.h.in ${gen}/include/beskid/${lib}_version.h @ONLY)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/version.c.in ${gen}/${lib}_version.c @ONLY)

  set(target beskid_${lib})
  add_library(${target} STATIC ${ARG_SOURCES} ${gen}/${lib}_version.c)
  add_library(beskid::${lib} ALIAS ${target})
  target_include_directories(${target}
    PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<BUILD_INTERFACE:${gen}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE
      ${CMAKE_CURRENT_SOURCE_DIR}/src)
  if(ARG_DEPS)
    target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  endif()
  beskid_apply_flags(${target})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME beskid_${lib})
  set_property(GLOBAL APPEND PROPERTY BESKID_LIBRARIES ${target})
  install(TARGETS ${target} EXPORT BeskidTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ ${gen}/include/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()

# beskid_add_check_suite(<lib> SOURCES ... [NAME name] [TIMEOUT seconds] [LIBS ...])
#
# A Check suite executable of a library, registered with CTest as NAME (default: <lib>) and
# labelled <lib>. A library may split its tests into several suites, one NAME each (e.g.
# stdhost_console). Tests may include the library's internal headers (src/) to test what the
# public API does not reach.
function(beskid_add_check_suite lib)
  cmake_parse_arguments(ARG "" "TIMEOUT;NAME" "SOURCES;LIBS" ${ARGN})
  if(NOT BESKID_BUILD_TESTS)
    return()
  endif()
  if(NOT ARG_NAME)
    set(ARG_NAME ${lib})
  endif()
  set(exe test_${ARG_NAME})
  add_executable(${exe} ${ARG_SOURCES})
  target_link_libraries(${exe} PRIVATE beskid::${lib} beskid::testsupport ${ARG_LIBS})
  target_include_directories(${exe} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_compile_definitions(${exe} PRIVATE
    BESKID_TEST_VERSION_FILE="${CMAKE_CURRENT_SOURCE_DIR}/VERSION")
  beskid_apply_flags(${exe})
  add_test(NAME ${ARG_NAME} COMMAND ${exe})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${lib}")
endfunction()
