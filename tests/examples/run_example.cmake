# run_example.cmake — runs an example program and checks how it ended.
#   cmake -DEXE=<program> -DARGS=<args;...> [-DENV=<VAR=value;...>] -DEXPECTED=<file> -P run_example.cmake
#     exit status 0 and standard output equal to <file>; with -DOUTPUT_FILE=<path>
#     -DEXPECTED_FILE=<file>, also the file the program wrote at <path> equal to <file>;
#   cmake -DEXE=<program> [-DENV=...] -DEXPECT_STATUS=<n> -DEXPECT_STDERR=<text> -P run_example.cmake
#     exit status <n> and standard error exactly one line that contains <text> (a CMake list:
#     every item).
if(DEFINED OUTPUT_FILE)
  file(REMOVE "${OUTPUT_FILE}") # what is compared must be what this run wrote
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${ENV} ${EXE} ${ARGS}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(DEFINED EXPECT_STATUS)
  if(NOT rc EQUAL EXPECT_STATUS)
    message(FATAL_ERROR "${EXE} (${ENV}) exited with ${rc}, want ${EXPECT_STATUS}\nstderr:\n${err}")
  endif()
  set(at 0)
  foreach(want IN LISTS EXPECT_STDERR)
    string(FIND "${err}" "${want}" found)
    if(found EQUAL -1)
      set(at -1)
    endif()
  endforeach()
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines lines)
  if(at EQUAL -1 OR NOT lines EQUAL 1 OR NOT err MATCHES "\n$")
    message(FATAL_ERROR "${EXE} (${ENV}): want one stderr line containing '${EXPECT_STDERR}', got:\n${err}")
  endif()
  message(STATUS "${EXE} (${ENV}): exit ${rc}, ${err}")
  return()
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} ${ARGS} exited with ${rc}\nstdout:\n${out}\nstderr:\n${err}")
endif()
file(READ ${EXPECTED} want)
if(NOT out STREQUAL want)
  message(FATAL_ERROR "${EXE} ${ARGS}: output differs\n--- got\n${out}--- wanted\n${want}")
endif()
if(DEFINED OUTPUT_FILE)
  if(NOT EXISTS "${OUTPUT_FILE}")
    message(FATAL_ERROR "${EXE} ${ARGS}: wrote no ${OUTPUT_FILE}")
  endif()
  file(READ "${OUTPUT_FILE}" written)
  file(READ "${EXPECTED_FILE}" want_written)
  if(NOT written STREQUAL want_written)
    message(FATAL_ERROR "${EXE} ${ARGS}: ${OUTPUT_FILE} differs from ${EXPECTED_FILE}")
  endif()
endif()
message(STATUS "${EXE} ${ARGS} (${ENV}): output as expected")
