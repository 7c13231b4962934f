# run_repeatedly.cmake — runs a program RUNS times; every run must exit with EXPECT_STATUS within
# TIMEOUT seconds and write nothing to stderr.
#   cmake -DEXE=<program> -DRUNS=<n> -DEXPECT_STATUS=<status> [-DTIMEOUT=<s>] -P run_repeatedly.cmake
if(NOT DEFINED TIMEOUT)
  set(TIMEOUT 30)
endif()
foreach(run RANGE 1 ${RUNS})
  execute_process(COMMAND ${EXE} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc
                  TIMEOUT ${TIMEOUT})
  if(NOT rc STREQUAL "${EXPECT_STATUS}" OR NOT err STREQUAL "")
    message(FATAL_ERROR "${EXE}: run ${run} of ${RUNS} ended with '${rc}', want ${EXPECT_STATUS}"
                        " and no stderr\nstderr:\n${err}")
  endif()
endforeach()
message(STATUS "${EXE}: ${RUNS} runs, every one exited with ${EXPECT_STATUS}")
