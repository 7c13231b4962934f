/* shared_anchor.c — the one source of libbeskid_runtime.so, which is otherwise the runtime's
 * archives linked whole; a shared library target needs a source of its own. */
#include "beskid/runtime_abi.h"

/* The version of the bundle this shared runtime was built as. */
__attribute__((visibility("default"))) const char *beskid_runtime_shared_version(void);
const char *beskid_runtime_shared_version(void) { return beskid_builtins_version(); }
