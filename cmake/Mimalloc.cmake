# mimalloc as a static library with malloc override OFF, so the runtime's heap is mimalloc while
# the process allocator stays libc's. Built from the Debian 2.0.9 source that tools/setup.sh
# fetches into third_party/mimalloc, as one translation unit (src/static.c).
#
# Target: beskid::mimalloc.
if(BESKID_SYSTEM_MIMALLOC)
  find_package(mimalloc 2.0 REQUIRED)
  add_library(beskid_mimalloc INTERFACE)
  target_link_libraries(beskid_mimalloc INTERFACE mimalloc-static)
  add_library(beskid::mimalloc ALIAS beskid_mimalloc)
  return()
endif()

set(BESKID_MIMALLOC_DIR "${PROJECT_SOURCE_DIR}/third_party/mimalloc" CACHE PATH "mimalloc source tree")
if(NOT EXISTS "${BESKID_MIMALLOC_DIR}/src/static.c")
  message(FATAL_ERROR "mimalloc source not found in ${BESKID_MIMALLOC_DIR}: run tools/setup.sh first")
endif()

add_library(beskid_mimalloc STATIC "${BESKID_MIMALLOC_DIR}/src/static.c")
add_library(beskid::mimalloc ALIAS beskid_mimalloc)
target_include_directories(beskid_mimalloc SYSTEM PUBLIC
  $<BUILD_INTERFACE:${BESKID_MIMALLOC_DIR}/include>)
# MI_DEBUG=0 and MI_SECURE=0 in every build type: the collector's tests exercise our code, and
# mimalloc's debug asserts would make the dev build's figures meaningless.
target_compile_definitions(beskid_mimalloc PRIVATE MI_DEBUG=0 MI_SECURE=0 MI_STATIC_LIB)
if(BESKID_SANITIZE MATCHES "address")
  # mimalloc poisons freed blocks for ASan, so a use of memory the collector gave back is reported.
  # Its 2.0.9 tracking hooks are replaced by ours (cmake/mimalloc_asan_track.h): mimalloc calls
  # them with NULL after a failed allocation, and ASan would abort there instead of the runtime
  # trapping out_of_memory.
  target_compile_definitions(beskid_mimalloc PRIVATE MI_ASAN=1)
  target_compile_options(beskid_mimalloc PRIVATE
    -include "${PROJECT_SOURCE_DIR}/cmake/mimalloc_asan_track.h")
  set_property(SOURCE "${BESKID_MIMALLOC_DIR}/src/static.c" APPEND PROPERTY
    OBJECT_DEPENDS "${PROJECT_SOURCE_DIR}/cmake/mimalloc_asan_track.h")
endif()
if(BESKID_SANITIZE MATCHES "thread")
  # An uninstrumented allocator hides its own happens-before edges from TSan; the collector
  # annotates the hand-offs instead (see libs/gc), so mimalloc itself is left uninstrumented.
  set_source_files_properties("${BESKID_MIMALLOC_DIR}/src/static.c" PROPERTIES
    COMPILE_OPTIONS "-fno-sanitize=thread")
endif()
target_compile_options(beskid_mimalloc PRIVATE -w -O2 -fno-builtin-malloc)
set_target_properties(beskid_mimalloc PROPERTIES
  OUTPUT_NAME beskid_mimalloc
  C_VISIBILITY_PRESET hidden
  POSITION_INDEPENDENT_CODE ON)
target_link_libraries(beskid_mimalloc PUBLIC Threads::Threads)
install(TARGETS beskid_mimalloc EXPORT BeskidTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
