# Hardening flags for every target of the build, mimalloc included (BESKID_HARDEN, on by default).
#
# - -fstack-protector-strong: a canary in every function with a local array or a local whose
#   address is taken; functions without either (the allocation and barrier fast paths) get none.
# - -fstack-clash-protection: large stack frames are touched page by page, so the stack never
#   jumps over its guard page into another mapping.
# - _FORTIFY_SOURCE=2: glibc's checked memcpy/snprintf/read... where the object size is known at
#   compile time. Only in the optimised configurations (Release, RelWithDebInfo, MinSizeRel):
#   the checks need optimisation (glibc warns at -O0), and not under the sanitizers, which
#   intercept the plain functions and would miss the checked ones.
# - -z relro -z now: executables and the shared runtime bind every symbol at load time and map
#   their relocated data (GOT included) read-only.
option(BESKID_HARDEN "Build with stack protector, stack clash protection, _FORTIFY_SOURCE=2 (optimised builds) and full RELRO" ON)

if(BESKID_HARDEN)
  include(CheckCCompilerFlag)
  add_compile_options(-fstack-protector-strong)
  check_c_compiler_flag(-fstack-clash-protection BESKID_HAVE_STACK_CLASH_PROTECTION)
  if(BESKID_HAVE_STACK_CLASH_PROTECTION)
    add_compile_options(-fstack-clash-protection)
  endif()
  if(NOT BESKID_SANITIZE)
    # -U first: some toolchains already define it (with another level), and a redefinition warns.
    add_compile_options(
      "$<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
  endif()
  add_link_options(LINKER:-z,relro,-z,now)
endif()
