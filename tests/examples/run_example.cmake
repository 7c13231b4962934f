# run_example.cmake — runs an example program and compares its standard output with a file.
#   cmake -DEXE=<program> -DARGS=<args;...> -DEXPECTED=<file> [-DENV=<VAR=value;...>] -P run_example.cmake
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${ENV} ${EXE} ${ARGS}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} ${ARGS} exited with ${rc}\nstdout:\n${out}\nstderr:\n${err}")
endif()
file(READ ${EXPECTED} want)
if(NOT out STREQUAL want)
  message(FATAL_ERROR "${EXE} ${ARGS}: output differs\n--- got\n${out}--- wanted\n${want}")
endif()
message(STATUS "${EXE} ${ARGS} (${ENV}): output as expected")
