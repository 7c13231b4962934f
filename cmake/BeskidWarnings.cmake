# Compiler flags shared by every Beskid target (not by third-party code).
set(BESKID_WARNING_FLAGS
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Wundef)
if(BESKID_WERROR)
  list(APPEND BESKID_WARNING_FLAGS -Werror)
endif()

if(BESKID_SANITIZE)
  set(BESKID_SANITIZE_FLAGS -fsanitize=${BESKID_SANITIZE} -fno-omit-frame-pointer)
  if(BESKID_SANITIZE MATCHES "undefined")
    list(APPEND BESKID_SANITIZE_FLAGS -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${BESKID_SANITIZE_FLAGS})
  add_link_options(-fsanitize=${BESKID_SANITIZE})
endif()

# beskid_apply_flags(target): warnings and hidden visibility for a project target.
function(beskid_apply_flags target)
  target_compile_options(${target} PRIVATE ${BESKID_WARNING_FLAGS})
  set_target_properties(${target} PROPERTIES
    C_VISIBILITY_PRESET hidden
    POSITION_INDEPENDENT_CODE ON)
endfunction()
