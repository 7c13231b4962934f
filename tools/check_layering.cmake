cmake_policy(SET CMP0057 NEW)
# check_layering.cmake — fails when a library's sources include a header of a library above it,
# or when a library other than libs/platform includes an operating-system header.
#
#   cmake -DSOURCE_DIR=<repo> -P tools/check_layering.cmake
#
# Order (a library may include headers of itself and of libraries to its left):
#   platform objmodel gc builtins stdhost
set(order platform objmodel gc builtins stdhost)

# Map every public header name to the library that owns it.
foreach(lib IN LISTS order)
  file(GLOB headers RELATIVE "${SOURCE_DIR}/libs/${lib}/include/beskid"
       "${SOURCE_DIR}/libs/${lib}/include/beskid/*.h")
  list(APPEND headers "${lib}_version.h")
  foreach(h IN LISTS headers)
    set(owner_${h} ${lib})
  endforeach()
endforeach()

set(errors "")
set(rank 0)
foreach(lib IN LISTS order)
  math(EXPR rank "${rank} + 1")
  list(SUBLIST order 0 ${rank} allowed)
  file(GLOB_RECURSE files "${SOURCE_DIR}/libs/${lib}/*.c" "${SOURCE_DIR}/libs/${lib}/*.h")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]beskid/[A-Za-z0-9_]+\\.h[>\"]")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE ".*beskid/([A-Za-z0-9_]+\\.h).*" "\\1" h "${line}")
      if(NOT DEFINED owner_${h})
        string(APPEND errors "  ${f}: includes unknown header beskid/${h}\n")
      elseif(NOT "${owner_${h}}" IN_LIST allowed)
        string(APPEND errors "  ${f}: libs/${lib} may not include beskid/${h} (owned by libs/${owner_${h}})\n")
      endif()
    endforeach()
  endforeach()
endforeach()

# Every OS call lives in libs/platform: the other libraries' sources and public headers include
# only ISO C headers (their tests may use the OS directly to set up and observe).
set(iso_c_headers assert.h ctype.h errno.h float.h inttypes.h limits.h math.h stdalign.h stdarg.h
    stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h string.h)
foreach(lib IN LISTS order)
  if(lib STREQUAL "platform")
    continue()
  endif()
  file(GLOB_RECURSE files "${SOURCE_DIR}/libs/${lib}/src/*.[ch]" "${SOURCE_DIR}/libs/${lib}/include/*.h")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*<[^>]+>")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE ".*<([^>]+)>.*" "\\1" h "${line}")
      if(NOT h IN_LIST iso_c_headers)
        string(APPEND errors "  ${f}: includes <${h}>: only libs/platform may use the OS\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(errors)
  message(FATAL_ERROR "Library layering violated:\n${errors}")
endif()
